/**
 * Least squares for the worker trend: regression through the origin or with an intercept, with
 * heteroscedasticity-consistent errors, one robust refit, and the groups of count columns that
 * cannot be told apart.
 */
import { madScale } from './robust';
import type { Checkpoint } from './workerTrend';

/** |cosine| above this between two names' counts: the data cannot tell them apart. */
const COLLINEAR = 0.999999;
/** Residuals beyond this many robust deviations are left out of the refit. */
const OUTLIER_DEVIATIONS = 5;

/** Groups of names whose counts are (nearly) proportional over the rows: the data cannot tell them apart. */
export function collinearGroups(points: readonly Checkpoint[], names: readonly string[]): string[][] {
  const columns = names.map((name) => points.map((p) => p.counts[name] ?? 0));
  const parent = names.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      if (Math.abs(cosine(columns[i], columns[j])) > COLLINEAR) parent[find(i)] = find(j);
    }
  }
  const groups = new Map<number, string[]>();
  names.forEach((name, i) => {
    const root = find(i);
    const list = groups.get(root) ?? [];
    list.push(name);
    groups.set(root, list);
  });
  return [...groups.values()].map((group) => group.sort());
}

/**
 * Uncentred cosine of two count columns. The fit runs through the origin, so columns that are
 * proportional (100 A and 100 B in every row) cannot be told apart even when they never vary.
 */
function cosine(a: readonly number[], b: readonly number[]): number {
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += a[i] * b[i];
    saa += a[i] ** 2;
    sbb += b[i] ** 2;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/** A least-squares fit: coefficients, their errors, and the error of any weighted sum of them. */
export interface RegressionFit {
  coef: number[];
  stdErr: number[];
  df: number;
  residuals: number[];
  /** Standard error of Σ weights[a]·coef[a], by the same rule as `stdErr` (the larger of the classic and HC3 errors). */
  sumStdErr(weights: readonly number[]): number;
}

/**
 * Least squares of y on the columns, with an intercept on centred data (heaps are ~1e8 and counts
 * ~1e5; raw normal equations would lose the digits) or through the origin. Undefined when the
 * system is singular or has no degrees of freedom left.
 */
export function multipleRegression(columns: readonly (readonly number[])[], y: readonly number[], intercept = true): RegressionFit | undefined {
  const n = y.length;
  const p = columns.length;
  const df = n - p - (intercept ? 1 : 0);
  if (p === 0 || df < 1) return undefined;
  const means = columns.map((col) => (intercept ? col.reduce((s, v) => s + v, 0) / n : 0));
  const my = intercept ? y.reduce((s, v) => s + v, 0) / n : 0;
  const xtx = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const xty = new Array<number>(p).fill(0);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < p; a++) {
      const xa = columns[a][i] - means[a];
      xty[a] += xa * (y[i] - my);
      for (let b = a; b < p; b++) xtx[a][b] += xa * (columns[b][i] - means[b]);
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) xtx[a][b] = xtx[b][a]!;
  const inverse = invert(xtx);
  if (!inverse) return undefined;
  const coef = inverse.map((row) => row.reduce((s, v, j) => s + v * xty[j], 0));
  const residuals = y.map((yi, i) => yi - my - coef.reduce((s, c, a) => s + c * (columns[a][i] - means[a]), 0));
  const ssr = residuals.reduce((s, r) => s + r * r, 0);
  const variance = ssr / df;
  const classic = inverse.map((row, a) => Math.sqrt(Math.max(0, variance * row[a])));
  // HC3 (heteroscedasticity-consistent) errors: rows differ in how many tasks they span and a few
  // single-task rows carry the split between names; the classic errors would trust them too much.
  const meat = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  for (let i = 0; i < n; i++) {
    const x = columns.map((col, a) => col[i] - means[a]);
    let leverage = 0;
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) leverage += x[a] * inverse[a][b] * x[b];
    const weight = residuals[i] ** 2 / Math.max(1e-9, 1 - Math.min(leverage, 0.999)) ** 2;
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) meat[a][b] += weight * x[a] * x[b];
  }
  const sandwich = inverse.map((_, a) =>
    inverse.map((__, d) => {
      let v = 0;
      for (let b = 0; b < p; b++) for (let c = 0; c < p; c++) v += inverse[a][b] * meat[b][c] * inverse[c][d];
      return v;
    }),
  );
  const robust = sandwich.map((row, a) => Math.sqrt(Math.max(0, row[a])));
  const quadratic = (matrix: readonly number[][], w: readonly number[]) => {
    let v = 0;
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) v += (w[a] ?? 0) * matrix[a][b] * (w[b] ?? 0);
    return v;
  };
  return {
    coef,
    stdErr: classic.map((e, a) => Math.max(e, robust[a])),
    df,
    residuals,
    sumStdErr: (weights) => Math.sqrt(Math.max(0, variance * quadratic(inverse, weights), quadratic(sandwich, weights))),
  };
}

/** Gauss-Jordan with partial pivoting; undefined for a singular matrix. */
function invert(matrix: readonly number[][]): number[][] | undefined {
  const p = matrix.length;
  const a = matrix.map((row, i) => [...row, ...Array.from({ length: p }, (_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < p; col++) {
    let pivot = col;
    for (let r = col + 1; r < p; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    const scale = Math.max(...matrix.map((row) => Math.abs(row[col])));
    if (!(Math.abs(a[pivot][col]) > 1e-12 * Math.max(1, scale))) return undefined;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    const lead = a[col][col];
    for (let j = 0; j < 2 * p; j++) a[col][j] /= lead;
    for (let r = 0; r < p; r++) {
      if (r === col) continue;
      const factor = a[r][col];
      if (factor !== 0) for (let j = 0; j < 2 * p; j++) a[r][j] -= factor * a[col][j];
    }
  }
  return a.map((row) => row.slice(p));
}

/** Residuals beyond this many robust deviations, in adjacent rows and opposite directions, mark a checkpoint read off. */
const MISREAD_DEVIATIONS = 3;
/** More rows than this share in misread pairs are the series' noise, kept as read (as the harness does). */
const MISREAD_MAX_SHARE = 0.15;

/**
 * Checkpoints read off and back at the next: two adjacent rows far off the fit in opposite
 * directions (beyond 3 robust deviations each) whose sum is not (the level between them was misread:
 * a worker's GC at the end of a task sometimes reads ~190 KiB high, and the next checkpoint is back).
 * The rows are differences between checkpoints, so one misread level counts twice and widens the
 * error; the two rows are merged into one (the step over both, as if that checkpoint were not
 * there), which leaves every other row and the total growth as measured. Rare only: when such pairs
 * are common they are the noise itself. Independent noise gives such a pair about once in 10⁵ rows.
 */
function mergeMisreadRows(
  columns: readonly number[][],
  y: readonly number[],
  residuals: readonly number[],
): { columns: number[][]; y: number[]; merged: number } | undefined {
  const scale = madScale(residuals);
  if (!(scale > 0)) return undefined;
  const far = (r: number) => Math.abs(r) > MISREAD_DEVIATIONS * scale;
  const starts: number[] = [];
  for (let i = 0; i + 1 < residuals.length; i++) {
    const [a, b] = [residuals[i], residuals[i + 1]];
    if (!far(a) || !far(b) || a * b >= 0 || far(a + b)) continue;
    starts.push(i);
    i++;
  }
  if (starts.length === 0 || 2 * starts.length > Math.max(2, MISREAD_MAX_SHARE * y.length)) return undefined;
  const mergedInto = new Set(starts.map((i) => i + 1));
  const keepRows = (values: readonly number[]) => values.flatMap((v, i) => (mergedInto.has(i) ? [] : [mergedInto.has(i + 1) ? v + values[i + 1] : v]));
  return { columns: columns.map(keepRows), y: keepRows(y), merged: starts.length };
}

/**
 * A robust fit: least squares, then again with misread checkpoints merged away, and once more
 * without the rows still far off (V8 accounting steps).
 */
export function robustFit(columns: number[][], y: number[]): { fit: RegressionFit; outliers: number; misread: number } | undefined {
  const raw = multipleRegression(columns, y, false);
  if (!raw) return undefined;
  const repaired = mergeMisreadRows(columns, y, raw.residuals);
  const refit = repaired && multipleRegression(repaired.columns, repaired.y, false);
  const first = refit ?? raw;
  const rows = refit && repaired ? { columns: repaired.columns, y: repaired.y, misread: repaired.merged } : { columns, y, misread: 0 };
  const scale = madScale(first.residuals);
  if (!(scale > 0)) return { fit: first, outliers: 0, misread: rows.misread };
  const keep = first.residuals.map((r) => Math.abs(r) <= OUTLIER_DEVIATIONS * scale);
  const outliers = keep.filter((k) => !k).length;
  if (outliers === 0) return { fit: first, outliers, misread: rows.misread };
  const second = multipleRegression(
    rows.columns.map((col) => col.filter((_, i) => keep[i])),
    rows.y.filter((_, i) => keep[i]),
    false,
  );
  return second ? { fit: second, outliers, misread: rows.misread } : { fit: first, outliers: 0, misread: rows.misread };
}

/**
 * Robust statistics for retained-memory series. V8's accounting moves the retained heap by
 * occasional steps up and down (large-object pages, a hash table resizing), and a least-squares
 * slope follows them; these estimators and tests are not dragged by a few such steps.
 */
import { confidenceFromT, fitGrowth } from './growth';

/**
 * Indices of `maxPoints` evenly spaced points of a series of `length`, first and last included;
 * every index when the series is that short. Pairwise estimators and tests are quadratic.
 */
export function evenlySpacedIndices(length: number, maxPoints: number): number[] {
  if (length <= maxPoints) return Array.from({ length }, (_, i) => i);
  if (maxPoints <= 1) return [0];
  return Array.from({ length: maxPoints }, (_, i) => Math.round((i * (length - 1)) / (maxPoints - 1)));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median absolute deviation, scaled to estimate a standard deviation for normal data. */
export function madScale(values: readonly number[], center = median(values)): number {
  return 1.4826 * median(values.map((value) => Math.abs(value - center)));
}

/**
 * Theil-Sen slope: the median of the slopes between all pairs of points. Long series are thinned
 * evenly to `maxPoints` first (the estimate stays unbiased; ~45k pairs at the default).
 */
export function theilSen(xs: readonly number[], ys: readonly number[], maxPoints = 300): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return NaN;
  const kept = evenlySpacedIndices(n, maxPoints);
  const px = kept.map((i) => xs[i]);
  const py = kept.map((i) => ys[i]);
  const slopes: number[] = [];
  for (let i = 0; i < px.length; i++) {
    for (let j = i + 1; j < px.length; j++) {
      const dx = px[j] - px[i];
      if (dx !== 0) slopes.push((py[j] - py[i]) / dx);
    }
  }
  return slopes.length ? median(slopes) : NaN;
}

export interface LocationTest {
  /** The estimate (bytes per run). */
  estimate: number;
  /** Its standard error; 0 when every kept value is the same. */
  stdErr: number;
  /** One-sided confidence that the true value is above `above`. */
  confidenceAbove: (above: number) => number;
  n: number;
  /** Degrees of freedom of the t-test: the kept values less one. */
  df: number;
}

/**
 * Yuen's trimmed mean with its winsorized standard error: a t-test that ignores the `trim` share
 * of the largest and of the smallest values, so a few steps in either direction cannot decide it.
 */
export function trimmedMeanTest(values: readonly number[], trim = 0.1): LocationTest | undefined {
  const n = values.length;
  if (n < 3) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const g = Math.floor(trim * n);
  const kept = sorted.slice(g, n - g);
  const estimate = kept.reduce((sum, v) => sum + v, 0) / kept.length;
  const low = sorted[g];
  const high = sorted[n - g - 1];
  const winsorized = sorted.map((v) => Math.min(high, Math.max(low, v)));
  const wMean = winsorized.reduce((sum, v) => sum + v, 0) / n;
  const wVar = winsorized.reduce((sum, v) => sum + (v - wMean) ** 2, 0) / (n - 1);
  const h = n - 2 * g;
  const stdErr = Math.sqrt(wVar) / ((h / n) * Math.sqrt(n));
  const df = h - 1;
  return {
    estimate,
    stdErr,
    n,
    df,
    confidenceAbove: (above) => oneSided(estimate - above, stdErr, df),
  };
}

/** One-sided confidence that a quantity estimated as `difference` ± `stdErr` is above zero. */
export function oneSided(difference: number, stdErr: number, df: number): number {
  if (!(df > 0)) return 0;
  if (stdErr === 0) return difference > 0 ? 1 : difference < 0 ? 0 : 0.5;
  const t = difference / stdErr;
  const half = confidenceFromT(Math.abs(t), df) / 2;
  return t >= 0 ? 0.5 + half : 0.5 - half;
}

/**
 * Sign test: of the runs whose retained heap moved, did significantly more go up than down?
 * Returns the one-sided confidence (1 - p of the binomial tail).
 */
export function signTestUp(increments: readonly number[]): { up: number; down: number; confidence: number } {
  let up = 0;
  let down = 0;
  for (const d of increments) {
    if (d > 0) up++;
    else if (d < 0) down++;
  }
  return { up, down, confidence: 1 - binomialUpperTail(up, up + down) };
}

/** P(X >= k) for X ~ Binomial(n, 1/2), computed in log space. */
export function binomialUpperTail(k: number, n: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let total = 0;
  const logHalfN = n * Math.log(0.5);
  let logChoose = 0; // log C(n, 0)
  for (let i = 0; i <= n; i++) {
    if (i > 0) logChoose += Math.log(n - i + 1) - Math.log(i);
    if (i >= k) total += Math.exp(logChoose + logHalfN);
  }
  return Math.min(1, total);
}

/**
 * The increments per unit of x, their median, and which of them are steps: beyond `k` robust
 * deviations from the median, or any departure when all the others are identical.
 */
function incrementSteps(xs: readonly number[], ys: readonly number[], k: number): { increments: number[]; center: number; isStep: (d: number) => boolean } {
  const n = Math.min(xs.length, ys.length);
  const increments: number[] = [];
  for (let i = 1; i < n; i++) increments.push((ys[i] - ys[i - 1]) / Math.max(1e-9, xs[i] - xs[i - 1]));
  const center = median(increments);
  const scale = madScale(increments, center);
  return { increments, center, isStep: (d) => (scale === 0 ? d !== center : Math.abs(d - center) > k * scale) };
}

export interface LevelTrend {
  /** Least-squares slope of the levels after steps were taken out, bytes per unit of x. */
  slope: number;
  stdErr: number;
  df: number;
  /** Increments replaced as steps (far from the typical increment). */
  steps: number;
}

/**
 * Slope of a level series after rare steps were taken out: an increment far from the typical one
 * (beyond `k` robust deviations, or any departure when all others are identical) is replaced by
 * the typical increment, unless such increments are common (then they are the signal).
 */
export function levelTrendWithoutSteps(xs: readonly number[], ys: readonly number[], maxStepShare = 0.15, k = 5): LevelTrend | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 3) return undefined;
  const { increments, center, isStep } = incrementSteps(xs, ys, k);
  const steps = increments.filter(isStep).length;
  const replace = steps > 0 && steps <= Math.max(1, maxStepShare * increments.length);
  const levels = [ys[0]];
  for (let i = 1; i < n; i++) {
    const d = increments[i - 1];
    const used = replace && isStep(d) ? center : d;
    levels.push(levels[i - 1] + used * (xs[i] - xs[i - 1]));
  }
  const fit = fitGrowth(levels, xs.slice(0, n));
  if (!fit) return undefined;
  return { slope: fit.slope, stdErr: fit.slopeStdErr, df: n - 2, steps: replace ? steps : 0 };
}

/**
 * Levels read off by one run and back at the next: two adjacent increments far from the typical
 * one (beyond `k` robust deviations), in opposite directions, that mostly cancel (what is left is
 * under a quarter of the smaller departure). A run's kept memory accounted a run late reads like
 * that: -1.4 KiB then +45 KiB among runs of +20.5 KiB. Each such level is replaced by its
 * neighbours' interpolation, which leaves every other level and the total growth as measured.
 * Rare only (as steps): when such pairs are common they are the series' noise, kept as read.
 */
export function repairMisreadLevels(xs: readonly number[], ys: readonly number[], maxShare = 0.15, k = 5): { ys: number[]; repaired: number } {
  const n = Math.min(xs.length, ys.length);
  const levels = ys.slice(0, n);
  if (n < 4) return { ys: levels, repaired: 0 };
  const { increments, center, isStep } = incrementSteps(xs, ys, k);
  // How far increment i moved the level from the typical run's, in bytes (spacing counted).
  const departure = (i: number) => (increments[i] - center) * (xs[i + 1] - xs[i]);
  const misread: number[] = [];
  for (let i = 0; i + 1 < increments.length; i++) {
    const [a, b] = [departure(i), departure(i + 1)];
    if (!isStep(increments[i]) || !isStep(increments[i + 1]) || a * b >= 0) continue;
    if (Math.abs(a + b) > 0.25 * Math.min(Math.abs(a), Math.abs(b))) continue;
    misread.push(i + 1); // the level between the two increments
    i++;
  }
  if (misread.length === 0 || misread.length > Math.max(1, maxShare * increments.length)) return { ys: levels, repaired: 0 };
  for (const j of misread) {
    const share = (xs[j] - xs[j - 1]) / Math.max(1e-9, xs[j + 1] - xs[j - 1]);
    levels[j] = ys[j - 1] + (ys[j + 1] - ys[j - 1]) * share;
  }
  return { ys: levels, repaired: misread.length };
}

/**
 * Kendall's trend test on the levels: one-sided confidence that later points are higher than
 * earlier ones, from the order of the points alone. It assumes nothing about the noise's shape, so
 * a few runs cannot make it sure: four points in rising order happen by chance once in 24 (96%),
 * five once in 120. Ties count for neither side, and the distribution without ties is used (wider,
 * so the confidence errs low). Exact up to 12 points, normal beyond.
 */
export function kendallTrendUp(series: readonly number[], maxPoints = 300): number {
  // Evenly spaced points of a long series: the test is quadratic, and 300 points decide as well.
  const ys = evenlySpacedIndices(series.length, maxPoints).map((i) => series[i]);
  const m = ys.length;
  if (m < 2) return 0;
  let s = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) s += Math.sign(ys[j] - ys[i]);
  if (m <= EXACT_KENDALL_POINTS) return 1 - kendallUpperTail(s, m);
  const variance = (m * (m - 1) * (2 * m + 5)) / 18;
  // Continuity correction: S moves in steps of 2.
  return oneSided(s - 1, Math.sqrt(variance), 1e6);
}

const EXACT_KENDALL_POINTS = 12;

/** P(S >= s) for Kendall's S over m points in random order: S = pairs - 2 × inversions. */
function kendallUpperTail(observed: number, m: number): number {
  let s = observed;
  // Permutations of m items counted by their inversions (Mahonian numbers).
  let counts = [1];
  for (let k = 2; k <= m; k++) {
    const next = new Array<number>(counts.length + k - 1).fill(0);
    for (let i = 0; i < counts.length; i++) for (let j = 0; j < k; j++) next[i + j] += counts[i];
    counts = next;
  }
  const pairs = (m * (m - 1)) / 2;
  // With ties S can fall between the values a tie-free order takes: count it as the one below.
  if ((pairs - s) % 2 !== 0) s -= 1;
  const total = counts.reduce((a, b) => a + b, 0);
  let tail = 0;
  for (let inversions = 0; inversions < counts.length; inversions++) if (pairs - 2 * inversions >= s) tail += counts[inversions];
  return tail / total;
}

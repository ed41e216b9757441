/**
 * Columnar time-series buffers for the live chart, and min/max decimation. Pure: no DOM, no uPlot,
 * so it is unit-tested in Node and benchmarked in Chromium.
 *
 * One shared x column (seconds since session start) and one Float64 column per (target, metric);
 * NaN marks "no value in this row" (several targets poll at slightly different times). Rows from
 * different targets that arrive within `mergeWindowSec` share a row, so N targets do not cost N rows.
 */
import type { HeapStatsPoint } from '../core/model';
import { STATS_METRICS, type StatsMetric } from '../shared/protocol';

export interface SeriesKey {
  targetId: string;
  metric: StatsMetric;
}

export function seriesId(key: SeriesKey): string {
  return `${key.targetId}\u0000${key.metric}`;
}

const INITIAL_CAPACITY = 1024;

export class SeriesStore {
  length = 0;
  private capacity: number;
  x: Float64Array;
  readonly cols: Float64Array[] = [];
  readonly keys: SeriesKey[] = [];
  private readonly index = new Map<string, number>();
  /** Changes whenever a series is added (the chart rebuilds its series list). */
  layoutVersion = 0;
  /** Changes on every append. */
  dataVersion = 0;

  constructor(
    private readonly mergeWindowSec = 0.05,
    capacity = INITIAL_CAPACITY,
    /** Decides which metrics of a point become series (e.g. skip heapTotal for Python). */
    private readonly accept: (targetId: string, metric: StatsMetric) => boolean = () => true,
  ) {
    this.capacity = Math.max(16, capacity);
    this.x = new Float64Array(this.capacity);
  }

  clear(): void {
    this.length = 0;
    this.x = new Float64Array(this.capacity);
    this.cols.length = 0;
    this.keys.length = 0;
    this.index.clear();
    this.layoutVersion++;
    this.dataVersion++;
  }

  get lastX(): number {
    return this.length ? this.x[this.length - 1] : NaN;
  }

  get firstX(): number {
    return this.length ? this.x[0] : NaN;
  }

  seriesIndex(key: SeriesKey): number {
    return this.index.get(seriesId(key)) ?? -1;
  }

  private ensureSeries(key: SeriesKey): number {
    const id = seriesId(key);
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.cols.length;
      const col = new Float64Array(this.capacity);
      col.fill(NaN);
      this.cols.push(col);
      this.keys.push(key);
      this.index.set(id, i);
      this.layoutVersion++;
    }
    return i;
  }

  private grow(min: number): void {
    let cap = this.capacity;
    while (cap < min) cap *= 2;
    if (cap === this.capacity) return;
    const x = new Float64Array(cap);
    x.set(this.x.subarray(0, this.length));
    this.x = x;
    for (let c = 0; c < this.cols.length; c++) {
      const col = new Float64Array(cap);
      col.fill(NaN, this.length);
      col.set(this.cols[c].subarray(0, this.length));
      this.cols[c] = col;
    }
    this.capacity = cap;
  }

  /** Appends one statistics point (`t` in ms). Out-of-order points are clamped to the last time. */
  append(point: HeapStatsPoint): void {
    const tSec = point.t / 1000;
    const metrics: StatsMetric[] = [];
    for (const m of STATS_METRICS) {
      const v = point[m];
      if (typeof v === 'number' && Number.isFinite(v) && this.accept(point.targetId, m)) metrics.push(m);
    }
    if (!metrics.length) return;
    const idx = metrics.map((m) => this.ensureSeries({ targetId: point.targetId, metric: m }));
    let row = -1;
    const n = this.length;
    if (n > 0 && Math.abs(tSec - this.x[n - 1]) <= this.mergeWindowSec) {
      // Share the last row when it has nothing for these series yet.
      if (idx.every((c) => Number.isNaN(this.cols[c][n - 1]))) row = n - 1;
    }
    if (row < 0) {
      if (n + 1 > this.capacity) this.grow(n + 1);
      row = n;
      this.x[row] = n > 0 ? Math.max(tSec, this.x[n - 1]) : tSec;
      this.length = n + 1;
    }
    for (let k = 0; k < metrics.length; k++) this.cols[idx[k]][row] = point[metrics[k]] as number;
    this.dataVersion++;
  }

  appendMany(points: readonly HeapStatsPoint[]): void {
    if (points.length > 1) {
      let sorted = true;
      for (let i = 1; i < points.length; i++)
        if (points[i].t < points[i - 1].t) {
          sorted = false;
          break;
        }
      if (!sorted) points = [...points].sort((a, b) => a.t - b.t);
    }
    if (this.length + points.length > this.capacity) this.grow(this.length + points.length);
    for (const p of points) this.append(p);
  }
}

/** First index i with x[i] >= v, in x[0..n). */
export function lowerBound(x: ArrayLike<number>, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with x[i] > v. */
export function upperBound(x: ArrayLike<number>, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** uPlot's aligned data: x first, then one column per series (null = gap). */
export type Aligned = [number[], ...(number | null)[][]];

/**
 * The rows of `store` that fall in [x0, x1] (plus one neighbour on each side so lines reach the
 * edges), decimated to at most about `2 * buckets` rows: per bucket and per series the minimum and
 * the maximum, in the order they occurred. Spikes survive; a 36,000-row hour shrinks to what the
 * canvas can show. `include[c] === false` skips a hidden series (it gets an all-null column).
 */
export function decimate(store: SeriesStore, x0: number, x1: number, buckets: number, include?: readonly boolean[]): Aligned {
  const n = store.length;
  const nc = store.cols.length;
  const out: Aligned = [[]];
  for (let c = 0; c < nc; c++) out.push([]);
  if (n === 0) return out;
  const xs = store.x;
  const start = Math.max(0, lowerBound(xs, n, x0) - 1);
  const end = Math.min(n, upperBound(xs, n, x1) + 1); // exclusive
  const count = end - start;
  buckets = Math.max(1, Math.floor(buckets));
  const X = out[0];

  if (count <= 2 * buckets) {
    for (let i = start; i < end; i++) X.push(xs[i]);
    for (let c = 0; c < nc; c++) {
      const col = store.cols[c];
      const o = out[c + 1] as (number | null)[];
      const on = !include || include[c] !== false;
      for (let i = start; i < end; i++) {
        const v = col[i];
        o.push(on && v === v ? v : null);
      }
    }
    return out;
  }

  // Edges outside [x0, x1] are copied as they are so the lines run to the plot's borders.
  const lo = Math.max(start, lowerBound(xs, n, x0));
  const hi = Math.min(end, upperBound(xs, n, x1)); // exclusive
  const origin = xs[lo];
  const span = Math.max(1e-12, xs[Math.max(lo, hi - 1)] - origin);
  const bw = span / buckets;

  // Bucket boundaries by binary search (buckets × log n), then column-major scans: each series is
  // read sequentially from its Float64Array, which is several times faster than row-major.
  const edges: number[] = [lo];
  for (let b = 1; b < buckets; b++) {
    const e = Math.max(edges[b - 1], lowerBound(xs, hi, origin + b * bw));
    edges.push(e);
  }
  edges.push(hi);
  // Row layout of the output: per non-empty bucket its first row and (if it has more) its last row.
  for (let i = start; i < lo; i++) X.push(xs[i]);
  for (let b = 0; b < buckets; b++) {
    const a = edges[b];
    const z = edges[b + 1];
    if (z <= a) continue;
    X.push(xs[a]);
    if (z - a > 1) X.push(xs[z - 1]);
  }
  for (let i = hi; i < end; i++) X.push(xs[i]);
  const total = X.length;

  for (let c = 0; c < nc; c++) {
    const o = new Array<number | null>(total).fill(null);
    out[c + 1] = o;
    if (include && include[c] === false) continue;
    const col = store.cols[c];
    let k = 0;
    for (let i = start; i < lo; i++, k++) {
      const v = col[i];
      if (v === v) o[k] = v;
    }
    for (let b = 0; b < buckets; b++) {
      const a = edges[b];
      const z = edges[b + 1];
      if (z <= a) continue;
      if (z - a === 1) {
        const v = col[a];
        if (v === v) o[k] = v;
        k++;
        continue;
      }
      let mn = Infinity;
      let mx = -Infinity;
      let mi = -1;
      let xi = -1;
      for (let i = a; i < z; i++) {
        const v = col[i];
        if (v < mn) {
          mn = v;
          mi = i;
        } // NaN compares false: skipped
        if (v > mx) {
          mx = v;
          xi = i;
        }
      }
      if (mi >= 0) {
        if (mi <= xi) {
          o[k] = mn;
          o[k + 1] = mx;
        } else {
          o[k] = mx;
          o[k + 1] = mn;
        }
      }
      k += 2;
    }
    for (let i = hi; i < end; i++, k++) {
      const v = col[i];
      if (v === v) o[k] = v;
    }
  }
  return out;
}

/** Rows of one target as columns (for persisting and for `init`), thinned to at most ~2*maxBuckets rows. */
export function extractTarget(
  store: SeriesStore,
  targetId: string,
  maxBuckets: number,
): { t: number[]; values: Partial<Record<StatsMetric, (number | null)[]>> } {
  const cols: number[] = [];
  const metrics: StatsMetric[] = [];
  store.keys.forEach((k, c) => {
    if (k.targetId === targetId) {
      cols.push(c);
      metrics.push(k.metric);
    }
  });
  const include = store.keys.map((k) => k.targetId === targetId);
  const data = decimate(store, store.firstX, store.lastX, maxBuckets, include);
  const t: number[] = [];
  const values: Partial<Record<StatsMetric, (number | null)[]>> = {};
  for (const m of metrics) values[m] = [];
  for (let r = 0; r < data[0].length; r++) {
    let any = false;
    for (const c of cols) if (data[c + 1][r] !== null) any = true;
    if (!any) continue;
    t.push(Math.round(data[0][r] * 1000));
    cols.forEach((c, k) => values[metrics[k]]!.push(data[c + 1][r]));
  }
  return { t, values };
}

/** Turns persisted/`init` columns back into points. */
export function columnsToPoints(cols: { targetId: string; t: number[]; values: Partial<Record<StatsMetric, (number | null)[]>> }): HeapStatsPoint[] {
  const out: HeapStatsPoint[] = [];
  for (let i = 0; i < cols.t.length; i++) {
    const p: HeapStatsPoint = { t: cols.t[i], targetId: cols.targetId, heapUsed: NaN, heapTotal: NaN };
    for (const m of STATS_METRICS) {
      const v = cols.values[m]?.[i];
      if (typeof v === 'number') p[m] = v;
    }
    out.push(p);
  }
  return out;
}

/**
 * Y range with 8% headroom; memory is never negative so the floor stays at ≥ 0 when data is. A range
 * spans at least 5% of its largest value: a nearly flat 17.40-17.42 MiB would label every tick "17.4 MiB".
 */
export function paddedRange(min: number | null, max: number | null): [number, number] {
  if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) return [Math.max(0, min * 0.9), max * 1.1 + 1];
  const span = Math.max(max - min, 0.05 * Math.max(Math.abs(min), Math.abs(max)));
  const pad = span * 0.08 + (span - (max - min)) / 2;
  return [min >= 0 ? Math.max(0, min - pad) : min - pad, max + pad];
}

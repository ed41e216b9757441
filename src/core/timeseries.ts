/**
 * Bounded store of live heap statistics for one target. Recent points are kept at full resolution;
 * when that store is full its oldest half moves to the "older" store merged in pairs, and when the
 * older store is over budget every one of its buckets is merged with its neighbour (buckets double).
 * All older buckets stand for the same number of points, so resolution degrades evenly instead of
 * the oldest data decaying exponentially. A 24-hour session at 10 Hz (864,000 points) fits in
 * `maxTotal` points (3.2 s buckets for the first 23 hours) and the chart still covers the whole session.
 *
 * A merged point takes the first point's `t` (so the first point stays at the session's start) and
 * the MAX of every figure (heap, RSS, external, counters): a short spike must survive downsampling,
 * since spikes are what the chart is for. Averaging would hide them.
 */
import { HEAP_STATS_FIGURES, type HeapStatsPoint } from './model';

export interface StatsSeriesOptions {
  /** Points kept at full resolution (default 36,000: one hour at 10 Hz). */
  recentCapacity?: number;
  /** All points kept, recent and downsampled (default 72,000). */
  maxTotal?: number;
}

/** One bucket of two points: first `t` and `targetId`, max of each figure. */
export function mergeStatsPoints(a: HeapStatsPoint, b: HeapStatsPoint): HeapStatsPoint {
  const merged: HeapStatsPoint = { ...a };
  for (const field of HEAP_STATS_FIGURES) {
    const x = a[field];
    const y = b[field];
    if (x === undefined) {
      if (y !== undefined) merged[field] = y;
    } else if (y !== undefined && y > x) {
      merged[field] = y;
    }
  }
  return merged;
}

function halve(points: readonly HeapStatsPoint[]): HeapStatsPoint[] {
  const out: HeapStatsPoint[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) out.push(mergeStatsPoints(points[i], points[i + 1]));
  return out;
}

export class StatsSeries {
  private readonly recentCapacity: number;
  private readonly olderBudget: number;
  private recent: HeapStatsPoint[] = [];
  /** Downsampled points, each standing for `factor` original points (uniform resolution). */
  private older: HeapStatsPoint[] = [];
  private factor = 2;
  /** The bucket being filled for `older`; shown too, so there is never a hole. */
  private pending: HeapStatsPoint | undefined;
  private pendingCount = 0;

  constructor(options?: StatsSeriesOptions) {
    this.recentCapacity = Math.max(4, Math.floor(options?.recentCapacity ?? 36_000));
    const maxTotal = Math.floor(options?.maxTotal ?? 72_000);
    // One slot goes to the pending bucket.
    this.olderBudget = Math.max(2, maxTotal - this.recentCapacity - 1);
  }

  push(point: HeapStatsPoint): void {
    this.recent.push(point);
    if (this.recent.length < this.recentCapacity) return;
    // Spill the oldest half into buckets; amortised O(1) per push.
    for (const old of this.recent.splice(0, Math.floor(this.recentCapacity / 2))) this.addOlder(old);
  }

  private addOlder(point: HeapStatsPoint): void {
    this.pending = this.pending ? mergeStatsPoints(this.pending, point) : point;
    this.pendingCount++;
    if (this.pendingCount < this.factor) return;
    this.older.push(this.pending);
    this.pending = undefined;
    this.pendingCount = 0;
    if (this.older.length <= this.olderBudget) return;
    // Halve every bucket, not just the oldest, so old data does not decay exponentially.
    const odd = this.older.length % 2 === 1 ? this.older.pop() : undefined;
    this.older = halve(this.older);
    this.factor *= 2;
    if (odd) {
      this.pending = odd;
      this.pendingCount = this.factor / 2;
    }
  }

  /** All points, oldest first (a copy). */
  points(): HeapStatsPoint[] {
    const out = this.older.slice();
    if (this.pending) out.push(this.pending);
    for (const p of this.recent) out.push(p);
    return out;
  }

  get length(): number {
    return this.older.length + (this.pending ? 1 : 0) + this.recent.length;
  }

  latest(): HeapStatsPoint | undefined {
    return this.recent[this.recent.length - 1] ?? this.pending ?? this.older[this.older.length - 1];
  }

  clear(): void {
    this.recent = [];
    this.older = [];
    this.pending = undefined;
    this.pendingCount = 0;
    this.factor = 2;
  }
}

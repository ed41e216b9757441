/**
 * The host's copy of a session's statistics, per target in columns, so a webview that reloads
 * (hidden and shown again, window reload) gets everything in one `init`. Pure, no `vscode`.
 */
import type { HeapStatsPoint } from '../../core/model';
import { STATS_METRICS, type PanelStatsColumns, type StatsMetric } from '../../shared/protocol';

interface TargetColumns {
  t: number[];
  values: Map<StatsMetric, (number | null)[]>;
}

/** Rows kept per target before every pair of rows is merged (a 24-hour session at 10 Hz is 864,000). */
const MAX_ROWS_PER_TARGET = 144_000;

/** Merges rows pairwise: the first row's `t`, the max of each figure (spikes survive), null when both are. */
function halveColumns(cols: TargetColumns): void {
  const n = cols.t.length;
  const half = Math.ceil(n / 2);
  const t = new Array<number>(half);
  for (let i = 0; i < half; i++) t[i] = cols.t[2 * i]!;
  cols.t = t;
  for (const [m, col] of cols.values) {
    const merged = new Array<number | null>(half);
    for (let i = 0; i < half; i++) {
      const a = col[2 * i] ?? null;
      const b = 2 * i + 1 < n ? (col[2 * i + 1] ?? null) : null;
      merged[i] = a === null ? b : b === null ? a : Math.max(a, b);
    }
    cols.values.set(m, merged);
  }
}

export class HostStatsBuffer {
  private readonly targets = new Map<string, TargetColumns>();

  constructor(private readonly maxRowsPerTarget = MAX_ROWS_PER_TARGET) {}

  add(p: HeapStatsPoint): void {
    let cols = this.targets.get(p.targetId);
    if (!cols) {
      cols = { t: [], values: new Map() };
      this.targets.set(p.targetId, cols);
    }
    const row = cols.t.length;
    cols.t.push(p.t);
    for (const m of STATS_METRICS) {
      const v = p[m];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      let col = cols.values.get(m);
      if (!col) {
        col = new Array<number | null>(row).fill(null);
        cols.values.set(m, col);
      }
      col.push(v);
    }
    for (const col of cols.values.values()) if (col.length < row + 1) col.push(null);
    // Bounded memory for day-long sessions; the panel shows at most a few thousand rows anyway.
    if (cols.t.length > this.maxRowsPerTarget) halveColumns(cols);
  }

  get size(): number {
    let n = 0;
    for (const c of this.targets.values()) n += c.t.length;
    return n;
  }

  /**
   * Columns per target, thinned to about `maxRows` rows each: per bucket the rows holding the
   * minimum and the maximum of the main metric (heapUsed, else rss, else tracedBytes), in order.
   */
  columns(maxRows = 12000): PanelStatsColumns[] {
    const out: PanelStatsColumns[] = [];
    for (const [targetId, cols] of this.targets) {
      const n = cols.t.length;
      let rows: number[];
      if (n <= maxRows) {
        rows = Array.from({ length: n }, (_, i) => i);
      } else {
        const main = cols.values.get('heapUsed') ?? cols.values.get('rss') ?? cols.values.get('tracedBytes') ?? [];
        const buckets = Math.max(1, Math.floor(maxRows / 2));
        rows = [];
        for (let b = 0; b < buckets; b++) {
          const from = Math.floor((b * n) / buckets);
          const to = Math.floor(((b + 1) * n) / buckets);
          let lo = from;
          let hi = from;
          for (let i = from; i < to; i++) {
            const v = main[i] ?? null;
            if (v === null) continue;
            if ((main[lo] ?? Infinity) > v) lo = i;
            if ((main[hi] ?? -Infinity) < v) hi = i;
          }
          if (lo === hi) rows.push(lo);
          else rows.push(Math.min(lo, hi), Math.max(lo, hi));
        }
        if (rows[rows.length - 1] !== n - 1) rows.push(n - 1);
      }
      const values: PanelStatsColumns['values'] = {};
      for (const [m, col] of cols.values) values[m] = rows.map((i) => col[i] ?? null);
      out.push({ targetId, t: rows.map((i) => cols.t[i]), values });
    }
    return out;
  }

  clear(): void {
    this.targets.clear();
  }
}

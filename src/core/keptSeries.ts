/**
 * Worker-mode series are built from what each sampled task kept. A GC from inside a task cannot
 * always free what V8 keeps in new large-object space, so single runs can be off by ±200 KiB while
 * most runs are exact. A run far from the median of its neighbours (two on each side) is replaced
 * by that median before the running total is formed; the report says how many. Neighbours, not
 * the whole series: a cache that fills in its first runs is a real change, not an outlier.
 */

import { median } from './robust';

export interface RobustTotals {
  /** Running totals after outliers were replaced. */
  totals: number[];
  /** How many runs were replaced. */
  replaced: number;
}

/** `minSpread` keeps small, honest variation (a few KiB) from being called an outlier. */
export function robustRunningTotals(kept: readonly number[], minSpread = 8 * 1024): RobustTotals {
  if (kept.length < 4) {
    let total = 0;
    return { totals: kept.map((value) => (total += value)), replaced: 0 };
  }
  const center = median(kept);
  const spread = Math.max(minSpread, 4 * median(kept.map((value) => Math.abs(value - center))));
  let total = 0;
  let replaced = 0;
  const totals = kept.map((value, index) => {
    const local = median(kept.slice(Math.max(0, index - 2), index + 3));
    const outlier = Math.abs(value - local) > spread;
    if (outlier) replaced++;
    return (total += outlier ? local : value);
  });
  return { totals, replaced };
}

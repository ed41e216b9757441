import { strict as assert } from 'node:assert';
import { robustRunningTotals } from '../../src/core/keptSeries';

describe('robustRunningTotals', () => {
  it('replaces large-object spikes by the median and keeps honest runs', () => {
    const kept = [28_000, 27_500, 190_000, 28_200, -150_000, 28_100, 27_900, 28_000];
    const { totals, replaced } = robustRunningTotals(kept);
    assert.equal(replaced, 2);
    assert.equal(totals.length, kept.length);
    const perRun = totals[totals.length - 1] / kept.length;
    assert.ok(Math.abs(perRun - 28_000) < 300, `per run ${perRun}`);
  });

  it('leaves a clean series alone, including a plateau that stops growing', () => {
    const kept = [40_000, 40_000, 40_000, 0, 0, 0, 0, 0, 0, 0];
    const { totals, replaced } = robustRunningTotals(kept);
    // 40 KB is far from the series' median (0) but not from its neighbours: the cache really filled.
    assert.equal(replaced, 0);
    assert.equal(totals[totals.length - 1], 120_000);
  });

  it('does not touch fewer than four runs', () => {
    assert.deepEqual(robustRunningTotals([5, -200_000, 7]).totals, [5, -199_995, -199_988]);
  });
});

import * as assert from 'node:assert/strict';
import type uPlot from 'uplot';
import { COUNT_INCRS, runSplits } from '../../src/webview/chartStyle';

// runSplits does not read the chart; the axis callback's first argument is only passed through.
const chart = {} as uPlot;
/** The run numbers shown under the ticks (x is a run's 0-based index). */
const shown = (min: number, max: number, step: number): number[] => runSplits(chart, 0, min, max, step).map((index) => index + 1);

describe('webview chart axes', () => {
  it('count axes step in whole numbers only', () => {
    assert.ok(COUNT_INCRS.every((step) => Number.isInteger(step) && step >= 1));
    assert.deepEqual(COUNT_INCRS.slice(0, 6), [1, 2, 5, 10, 20, 50]);
  });

  it('labels run 1, then whole multiples of the step', () => {
    assert.deepEqual(shown(0, 299, 20).slice(0, 5), [1, 20, 40, 60, 80]);
    assert.equal(shown(0, 299, 20).at(-1), 300);
    assert.deepEqual(shown(0, 9, 1), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual(shown(0, 9, 2), [1, 2, 4, 6, 8, 10]);
  });

  it('a range that starts after run 1 starts at its first multiple', () => {
    assert.deepEqual(shown(10, 59, 10), [20, 30, 40, 50, 60]);
  });
});

import assert from 'node:assert/strict';
import { fitGrowth } from '../../src/core/growth';
import {
  binomialUpperTail,
  kendallTrendUp,
  levelTrendWithoutSteps,
  madScale,
  median,
  oneSided,
  signTestUp,
  theilSen,
  trimmedMeanTest,
  evenlySpacedIndices,
  repairMisreadLevels,
} from '../../src/core/robust';

// Fixed "noise" so every expectation is reproducible: zero mean, ±1.
const JITTER = [0.3, -0.8, 0.5, -0.1, 0.9, -0.6, 0.2, -0.4, 0.7, -0.9, 0.1, 0.1];
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const close = (actual: number, expected: number, tolerance: number, label = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label} expected ${expected} ± ${tolerance}, got ${actual}`);

describe('robust', () => {
  describe('median', () => {
    it('takes the middle value of an odd count, unsorted input', () => {
      assert.equal(median([9, 1, 5]), 5);
      assert.equal(median([7, -3, 2, 100, 4]), 4);
    });

    it('averages the two middle values of an even count', () => {
      assert.equal(median([4, 1, 3, 2]), 2.5);
      assert.equal(median([10, -10]), 0);
    });

    it('is NaN for no values and does not reorder its input', () => {
      assert.ok(Number.isNaN(median([])));
      const input = [3, 1, 2];
      median(input);
      assert.deepEqual(input, [3, 1, 2]);
    });
  });

  describe('madScale', () => {
    it('is 1.4826 × the median absolute deviation, untouched by one far value', () => {
      // median 3, deviations [2, 1, 0, 1, 97] → median deviation 1.
      assert.equal(madScale([1, 2, 3, 4, 100]), 1.4826);
      // Deviations from 10 of [0, 10, 20, 30]: [10, 0, 10, 20] → median 10.
      close(madScale([0, 10, 20, 30], 10), 14.826, 1e-9);
      assert.equal(madScale([5, 5, 5, 5]), 0);
    });
  });

  describe('theilSen', () => {
    it('recovers the slope of a line with one wild point', () => {
      const xs = range(10);
      const ys = xs.map((x) => 5 + 3 * x);
      ys[4] = 1_000_000;
      assert.equal(theilSen(xs, ys), 3);
      // Least squares is dragged far off by the same point.
      assert.ok(Math.abs(fitGrowth(ys, xs)!.slope - 3) > 1000);
    });

    it('is exact on a long line after thinning', () => {
      const xs = range(2000);
      assert.equal(
        theilSen(
          xs,
          xs.map((x) => 7 - 2 * x),
        ),
        -2,
      );
    });

    it('is NaN with fewer than two points or no spread in x', () => {
      assert.ok(Number.isNaN(theilSen([1], [1])));
      assert.ok(Number.isNaN(theilSen([2, 2, 2], [1, 5, 9])));
    });
  });

  describe('binomialUpperTail', () => {
    it('matches hand-computed tails of Binomial(n, 1/2)', () => {
      close(binomialUpperTail(3, 3), 1 / 8, 1e-12);
      close(binomialUpperTail(2, 3), 4 / 8, 1e-12);
      // C(10,8) + C(10,9) + C(10,10) = 45 + 10 + 1
      close(binomialUpperTail(8, 10), 56 / 1024, 1e-12);
      // C(10,5..10) = 252 + 210 + 120 + 45 + 10 + 1
      close(binomialUpperTail(5, 10), 638 / 1024, 1e-12);
      close(binomialUpperTail(1, 20), 1 - 2 ** -20, 1e-12);
    });

    it('is 1 for k <= 0 and 0 for k > n', () => {
      assert.equal(binomialUpperTail(0, 5), 1);
      assert.equal(binomialUpperTail(-2, 5), 1);
      assert.equal(binomialUpperTail(6, 5), 0);
    });

    it('stays finite in log space for large n', () => {
      // P(X >= 500 | n = 1000) = 1/2 + P(X = 500) / 2, P(X = 500) ≈ 0.025225
      close(binomialUpperTail(500, 1000), 0.5 + 0.0252250181 / 2, 1e-6);
    });
  });

  describe('kendallTrendUp', () => {
    it('is exact for short series: n points in rising order happen once in n! by chance', () => {
      assert.equal(kendallTrendUp([1, 2, 3, 4]), 1 - 1 / 24);
      assert.equal(kendallTrendUp([5, 9, 10, 30, 31]), 1 - 1 / 120);
      // One swapped pair of five: 1 + 4 of the 120 orders are at least as rising.
      assert.equal(kendallTrendUp([1, 3, 2, 4, 5]), 1 - 5 / 120);
      // A tie counts for neither side and never makes the confidence higher than without it.
      assert.ok(kendallTrendUp([1, 2, 2, 3, 4]) <= kendallTrendUp([1, 3, 2, 4, 5]));
      assert.ok(kendallTrendUp([4, 3, 2, 1]) < 0.05);
    });

    it('uses the normal approximation on long series and stays near one half on noise', () => {
      const rising = Array.from({ length: 40 }, (_, i) => i + (i % 3));
      assert.ok(kendallTrendUp(rising) > 0.999);
      // A fixed, shuffled-looking sequence with no trend (a linear congruential generator).
      let seed = 7;
      const noise = Array.from({ length: 200 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31));
      const confidence = kendallTrendUp(noise);
      assert.ok(confidence > 0.02 && confidence < 0.98, String(confidence));
      // Beyond 300 points it tests evenly spaced ones, with the same answer for a steady rise.
      assert.ok(kendallTrendUp(Array.from({ length: 5000 }, (_, i) => i)) > 0.999);
    });
  });

  describe('signTestUp', () => {
    it('counts ups and downs, ignores zeros, confidence from the binomial tail', () => {
      const result = signTestUp([1, 2, 3, 0, -1, 5, 6, 7, 8, 9]);
      assert.equal(result.up, 8);
      assert.equal(result.down, 1);
      // 1 - P(X >= 8 | n = 9) = 1 - (C(9,8) + C(9,9)) / 512
      close(result.confidence, 1 - 10 / 512, 1e-12);
    });

    it('gives no confidence when every move went down', () => {
      const result = signTestUp([-1, -2, -3]);
      assert.equal(result.up, 0);
      assert.equal(result.down, 3);
      assert.equal(result.confidence, 0);
    });
  });

  describe('oneSided', () => {
    it('at zero standard error is 1 above, 0 below and 1/2 at zero', () => {
      assert.equal(oneSided(500, 0, 10), 1);
      assert.equal(oneSided(-500, 0, 10), 0);
      assert.equal(oneSided(0, 0, 10), 0.5);
    });

    it('is 0 without degrees of freedom', () => {
      assert.equal(oneSided(500, 0, 0), 0);
      assert.equal(oneSided(500, 1, 0), 0);
    });

    it("matches Student's t: Cauchy at df 1, the closed form at df 2", () => {
      // df = 1: P(T < 1) = 1/2 + atan(1)/π = 0.75
      close(oneSided(10, 10, 1), 0.75, 1e-9);
      close(oneSided(-10, 10, 1), 0.25, 1e-9);
      // df = 2: P(T < t) = 1/2 + t / (2 √(2 + t²)); t = 2 → 1/2 + 1/√6
      close(oneSided(4, 2, 2), 0.5 + 1 / Math.sqrt(6), 1e-9);
      assert.equal(oneSided(0, 3, 5), 0.5);
    });
  });

  describe('repairMisreadLevels', () => {
    it('puts a level read off by one run and back at the next between its neighbours, total growth unchanged', () => {
      const ys = [3958511, 3979887, 4000439, 4021031, 4041559, 4040103, 4085679, 4106223, 4127015, 4147943];
      const { ys: repaired, repaired: count } = repairMisreadLevels(range(10), ys);
      assert.equal(count, 1);
      assert.equal(repaired[5], (4041559 + 4085679) / 2);
      assert.deepEqual([...repaired.slice(0, 5), ...repaired.slice(6)], [...ys.slice(0, 5), ...ys.slice(6)]);
      // Uneven spacing interpolates by x.
      assert.equal(repairMisreadLevels([0, 1, 2, 3, 4, 6, 7], [0, 10, 20, 30, 40, -500, 70]).ys[5], 60);
    });

    it('leaves steps that do not cancel, pairs in the same direction, and pairs that are the noise itself', () => {
      // A step up that stays (a backing store doubled): not undone by the next run.
      const step = [0, 100, 200, 300, 5300, 5400, 5500, 5600];
      assert.equal(repairMisreadLevels(range(8), step).repaired, 0);
      // Two large increments in a row, both up.
      assert.equal(repairMisreadLevels(range(8), [0, 100, 200, 5200, 10200, 10300, 10400, 10500]).repaired, 0);
      // Half undone is a step and a change, not a misread level.
      assert.equal(repairMisreadLevels(range(8), [0, 100, 200, 5200, 2700, 2800, 2900, 3000]).repaired, 0);
      // Every other level off: that is how this series reads, not a rare misreading.
      const zigzag = range(12).map((i) => 100 * i + (i % 2 ? 5000 : 0));
      assert.equal(repairMisreadLevels(range(12), zigzag).repaired, 0);
      assert.deepEqual(repairMisreadLevels(range(12), zigzag).ys, zigzag);
    });
  });

  describe('evenlySpacedIndices', () => {
    it('keeps every index of a short series and evenly spaced ones, first and last included, of a long one', () => {
      assert.deepEqual(evenlySpacedIndices(4, 300), [0, 1, 2, 3]);
      assert.deepEqual(evenlySpacedIndices(10, 4), [0, 3, 6, 9]);
      assert.deepEqual(evenlySpacedIndices(1001, 3), [0, 500, 1000]);
      assert.deepEqual(evenlySpacedIndices(0, 300), []);
    });
  });

  describe('trimmedMeanTest', () => {
    it('ignores 10% of far values: 18 runs of +500 B and two of +1.5 MB', () => {
      const values = [...Array.from({ length: 9 }, () => 500), 1_500_000, ...Array.from({ length: 9 }, () => 500), 1_500_000];
      const test = trimmedMeanTest(values)!;
      assert.equal(test.n, 20);
      assert.equal(test.estimate, 500);
      assert.equal(test.stdErr, 0);
      // Exact +500 B every run: sure it is above 0 and above 499, not above 501.
      assert.equal(test.confidenceAbove(0), 1);
      assert.equal(test.confidenceAbove(499), 1);
      assert.equal(test.confidenceAbove(500), 0.5);
      assert.equal(test.confidenceAbove(501), 0);
    });

    it('ignores far values in both directions', () => {
      const values = [-2_000_000, ...Array.from({ length: 18 }, (_, i) => 500 + (i % 2 ? 8 : -8)), 2_000_000];
      const test = trimmedMeanTest(values)!;
      // 20 values, g = 2: two lowest (-2e6 and one 492) and two highest (2e6 and one 508) dropped.
      assert.equal(test.estimate, 500);
      assert.ok(test.stdErr > 0 && test.stdErr < 5, String(test.stdErr));
      assert.ok(test.confidenceAbove(400) > 0.999);
    });

    it('has the winsorized standard error (1..10, 10% trim)', () => {
      const test = trimmedMeanTest(range(10).map((i) => i + 1))!;
      // Kept 2..9 → mean 5.5; winsorized [2,2,3..9,9]: mean 5.5, Σ(v - 5.5)² = 66.5; h = 8.
      assert.equal(test.estimate, 5.5);
      close(test.stdErr, Math.sqrt(66.5 / 9) / (0.8 * Math.sqrt(10)), 1e-12);
      close(test.confidenceAbove(5.5), 0.5, 1e-12);
      assert.ok(test.confidenceAbove(0) > 0.99);
    });

    it('needs three values', () => {
      assert.equal(trimmedMeanTest([1, 2]), undefined);
    });
  });

  describe('levelTrendWithoutSteps', () => {
    it('takes out one rare step of +1 MB from a steady +1000 per run', () => {
      const xs = range(20);
      const ys = xs.map((x) => 50_000_000 + 1000 * x + (x >= 10 ? 1_000_000 : 0));
      const trend = levelTrendWithoutSteps(xs, ys)!;
      assert.equal(trend.steps, 1);
      close(trend.slope, 1000, 1e-6);
      assert.equal(trend.stdErr, 0);
      assert.equal(trend.df, 18);
      // Without the repair the step dominates.
      assert.ok(fitGrowth(ys, xs)!.slope > 30_000);
    });

    it('takes out a rare step down among noisy increments', () => {
      const xs = range(24);
      const ys = xs.map((x) => 80_000_000 + 1000 * x + JITTER[x % JITTER.length] * 50 - (x >= 12 ? 2_000_000 : 0));
      const trend = levelTrendWithoutSteps(xs, ys)!;
      assert.equal(trend.steps, 1);
      close(trend.slope, 1000, 15, 'slope');
      assert.ok(trend.stdErr > 0);
    });

    it('keeps frequent steps: an array backing store growing every third run is the signal', () => {
      const xs = range(20);
      // +3000 every third run, 0 otherwise: 6 steps among 19 increments, well above 15%.
      const ys = xs.map((x) => 10_000_000 + 3000 * Math.floor(x / 3));
      const trend = levelTrendWithoutSteps(xs, ys)!;
      assert.equal(trend.steps, 0);
      close(trend.slope, fitGrowth(ys, xs)!.slope, 1e-9);
      assert.ok(trend.slope > 900 && trend.slope < 1100, String(trend.slope));
    });

    it('divides increments by the x gaps', () => {
      const xs = [0, 2, 4, 10, 12, 14];
      const ys = xs.map((x) => 500 * x);
      ys[4] += 100_000;
      ys[5] += 100_000;
      const trend = levelTrendWithoutSteps(xs, ys)!;
      assert.equal(trend.steps, 1);
      close(trend.slope, 500, 1e-9);
    });

    it('needs three points', () => {
      assert.equal(levelTrendWithoutSteps([0, 1], [0, 1]), undefined);
    });
  });
});

import assert from 'node:assert/strict';
import { confidenceFromT, fitGrowth, logGamma, oneSidedConfidence, regularizedIncompleteBeta, tStatistic } from '../../src/core/growth';

function close(actual: number, expected: number, tolerance: number, message?: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${message ?? ''} expected ${expected} ± ${tolerance}, got ${actual}`);
}

describe('growth', () => {
  describe('fitGrowth', () => {
    it('needs two points', () => {
      assert.equal(fitGrowth([]), undefined);
      assert.equal(fitGrowth([5]), undefined);
      assert.equal(fitGrowth([1, 2], [3, 3]), undefined);
    });
    it('fits an exact line with zero error', () => {
      const base = 50_000_000;
      const fit = fitGrowth([0, 1, 2, 3, 4].map((i) => base + 41 * 1024 * i));
      assert.ok(fit);
      close(fit.slope, 41 * 1024, 1e-6);
      close(fit.intercept, base, 1e-3);
      assert.equal(fit.slopeStdErr, 0);
      assert.equal(fit.residualStdDev, 0);
      assert.equal(fit.rSquared, 1);
      assert.equal(fit.n, 5);
      assert.equal(tStatistic(fit), Infinity);
    });
    it('two points: exact slope, no error estimate', () => {
      const fit = fitGrowth([10, 30]);
      assert.ok(fit);
      assert.equal(fit.slope, 20);
      assert.equal(fit.slopeStdErr, 0);
    });
    it('matches a hand-computed fit with noise', () => {
      // x = 0..4, y = 1,3,2,5,4: slope 0.8, intercept 1.4, SSR 3.6, s = sqrt(1.2), SE = s/sqrt(10)
      const fit = fitGrowth([1, 3, 2, 5, 4]);
      assert.ok(fit);
      close(fit.slope, 0.8, 1e-12);
      close(fit.intercept, 1.4, 1e-12);
      close(fit.residualStdDev, Math.sqrt(1.2), 1e-12);
      close(fit.slopeStdErr, Math.sqrt(1.2 / 10), 1e-12);
      close(fit.rSquared, 1 - 3.6 / 10, 1e-12);
      close(tStatistic(fit), 0.8 / Math.sqrt(0.12), 1e-9);
    });
    it('uses xs when given and drops non-finite pairs', () => {
      const fit = fitGrowth([0, 10, Number.NaN, 40], [0, 1, 2, 4]);
      assert.ok(fit);
      close(fit.slope, 10, 1e-12);
      assert.equal(fit.n, 3);
    });
    it('flat series: R² defined as 1, t = 0', () => {
      const fit = fitGrowth([7, 7, 7, 7]);
      assert.ok(fit);
      assert.equal(fit.slope, 0);
      assert.equal(fit.rSquared, 1);
      assert.equal(tStatistic(fit), 0);
    });
  });

  describe('confidenceFromT', () => {
    it('matches Student t critical values', () => {
      close(confidenceFromT(2.228, 10), 0.95, 0.001);
      close(confidenceFromT(12.706, 1), 0.95, 0.001);
      close(confidenceFromT(3.169, 10), 0.99, 0.001);
      close(confidenceFromT(1.96, 100000), 0.95, 0.001);
      close(confidenceFromT(2.086, 20), 0.95, 0.001);
      close(confidenceFromT(-2.228, 10), 0.95, 0.001);
    });
    it('handles the edges', () => {
      assert.equal(confidenceFromT(0, 5), 0);
      assert.equal(confidenceFromT(Infinity, 5), 1);
      assert.equal(confidenceFromT(3, 0), 0);
      assert.equal(confidenceFromT(Number.NaN, 5), 0);
    });
    it('one-sided confidence is symmetric around 0.5', () => {
      close(oneSidedConfidence(1.812, 10), 0.95, 0.001);
      close(oneSidedConfidence(-1.812, 10), 0.05, 0.001);
      assert.equal(oneSidedConfidence(0, 10), 0.5);
    });
  });

  it('special functions agree with known values', () => {
    close(logGamma(5), Math.log(24), 1e-12);
    close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-12);
    close(regularizedIncompleteBeta(0.5, 2, 2), 0.5, 1e-12);
    close(regularizedIncompleteBeta(0.3, 1, 1), 0.3, 1e-12);
  });
});

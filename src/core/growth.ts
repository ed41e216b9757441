/**
 * Least-squares growth of retained bytes over runs, and Student's t for how sure the slope is.
 */
import type { GrowthFit } from './model';

/**
 * Ordinary least squares of `ys` against `xs` (default 0..n-1). Pairs with a non-finite value are
 * dropped. Undefined with fewer than 2 points or when all xs are equal (no slope to speak of).
 */
export function fitGrowth(ys: readonly number[], xs?: readonly number[]): GrowthFit | undefined {
  const px: number[] = [];
  const py: number[] = [];
  for (let i = 0; i < ys.length; i++) {
    const x = xs ? xs[i] : i;
    const y = ys[i];
    if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    px.push(x);
    py.push(y);
  }
  const n = px.length;
  if (n < 2) return undefined;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += px[i];
    my += py[i];
  }
  mx /= n;
  my /= n;
  // Centred sums: heap figures are ~1e9 with ~1e4 differences, raw sums would lose the differences.
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  let maxAbsY = 0;
  for (let i = 0; i < n; i++) {
    const dx = px[i] - mx;
    const dy = py[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
    maxAbsY = Math.max(maxAbsY, Math.abs(py[i]));
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssr = 0;
  for (let i = 0; i < n; i++) {
    const r = py[i] - (intercept + slope * px[i]);
    ssr += r * r;
  }
  // Rounding leaves ~1e-7 residuals on exact lines of large numbers; that is zero for our purposes.
  const tolerance = n * (1e-12 * Math.max(1, maxAbsY)) ** 2;
  if (ssr <= tolerance) ssr = 0;
  const residualVariance = n > 2 ? ssr / (n - 2) : 0;
  const rSquared = syy === 0 ? 1 : Math.min(1, Math.max(0, 1 - ssr / syy));
  return {
    slope,
    slopeStdErr: Math.sqrt(residualVariance / sxx),
    intercept,
    rSquared,
    n,
    residualStdDev: Math.sqrt(residualVariance),
  };
}

/** slope / stderr; Infinity for a perfect non-flat line, 0 for a perfect flat one. */
export function tStatistic(fit: GrowthFit): number {
  if (fit.slopeStdErr === 0) {
    if (fit.slope === 0) return 0;
    return fit.slope > 0 ? Infinity : -Infinity;
  }
  return fit.slope / fit.slopeStdErr;
}

/**
 * Two-sided confidence 1 - p that the true value is not zero, from Student's t with `degreesOfFreedom`.
 * 0 when there are no degrees of freedom (two points say nothing about noise).
 */
export function confidenceFromT(t: number, degreesOfFreedom: number): number {
  if (Number.isNaN(t) || !(degreesOfFreedom > 0)) return 0;
  if (!Number.isFinite(t)) return 1;
  const x = degreesOfFreedom / (degreesOfFreedom + t * t);
  const p = regularizedIncompleteBeta(x, degreesOfFreedom / 2, 0.5);
  return Math.min(1, Math.max(0, 1 - p));
}

/** One-sided confidence that the true value is above zero (t may be negative). */
export function oneSidedConfidence(t: number, degreesOfFreedom: number): number {
  if (Number.isNaN(t) || !(degreesOfFreedom > 0)) return 0;
  const half = confidenceFromT(Math.abs(t), degreesOfFreedom) / 2;
  return t >= 0 ? 0.5 + half : 0.5 - half;
}

/** Regularized incomplete beta I_x(a, b), continued fraction (Numerical Recipes, betacf). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-14) break;
  }
  return h;
}

/** ln Γ(z) for z > 0 (Lanczos, g = 7, n = 9; ~15 significant digits). */
export function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - logGamma(1 - z);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const zz = z - 1;
  let sum = c[0];
  for (let i = 1; i < g + 2; i++) sum += c[i] / (zz + i);
  const t = zz + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (zz + 0.5) * Math.log(t) - t + Math.log(sum);
}

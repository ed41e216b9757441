/**
 * How one stretch of a retained-memory series grows: the three tests behind every verdict (a
 * typical run, the level trend without steps, the runs that grew) and the bounds they give.
 */
import { levelTrendWithoutSteps, madScale, median, oneSided, repairMisreadLevels, signTestUp, theilSen, trimmedMeanTest } from './robust';

/** How one stretch of a series grows, by three tests that each stand up to a different kind of noise. */
export interface SegmentGrowth {
  /** Theil-Sen slope of the levels: bytes per run, steps and all (array backing stores grow in steps). */
  slope: number;
  /** One-sided confidence that the growth is above the floor: the best of the tests below. */
  confidence: number;
  /** Which test carried it. */
  test: 'typical run' | 'trend without steps' | 'runs that grew';
  /**
   * The same, from the tests that need most runs to grow or a trend without steps: a few one-time
   * steps (warm-up: inline caches, lazily compiled code) do not pass them.
   */
  steadyConfidence: number;
  /** One-sided confidence that the growth is at most the floor. */
  flatConfidence: number;
  /** A one-sided 95% upper bound of the growth per run (level trend or typical run). */
  upper95: number;
  /** The standard error behind `upper95`. */
  stdErr: number;
  /** Trimmed mean of the per-run increments: what a typical run keeps. */
  typical: number;
  /** The spread of the per-run increments (robust), bytes. */
  spread: number;
  up: number;
  down: number;
  steps: number;
  /** Levels read off by one run and back at the next, replaced by their neighbours' interpolation. */
  misread: number;
  points: number;
}

/**
 * Growth of one stretch of a series: a trimmed mean of what each run kept (a steady leak: most
 * runs keep the same few bytes), the trend of the levels with rare steps taken out (level noise),
 * and a sign test on the runs that moved (a leak that keeps memory in one run of five).
 */
export function segmentGrowth(
  xs: readonly number[],
  measured: readonly number[],
  floor: number,
  noise: 'level' | 'increment',
  separateReadings = false,
): SegmentGrowth | undefined {
  const n = Math.min(xs.length, measured.length);
  if (n < 3) return undefined;
  // Separate readings only (level series, see resolveOptions): in a running total, a large increment
  // and its opposite are the noise itself.
  const { ys, repaired } = separateReadings ? repairMisreadLevels(xs, measured) : { ys: measured, repaired: 0 };
  const increments: number[] = [];
  for (let i = 1; i < n; i++) increments.push((ys[i] - ys[i - 1]) / Math.max(1e-9, xs[i] - xs[i - 1]));
  const slope = theilSen(xs, ys);
  const trimmed = trimmedMeanTest(increments);
  const level = noise === 'level' ? levelTrendWithoutSteps(xs, ys) : undefined;
  const sign = signTestUp(increments);
  const typicalConfidence = trimmed && trimmed.estimate > floor ? trimmed.confidenceAbove(floor) : 0;
  const levelConfidence = level && level.slope > floor ? oneSided(level.slope - floor, level.stdErr, level.df) : 0;
  // The sign test says growth is common, not how big: it counts only where the slope clears the floor.
  const signConfidence = slope > floor ? sign.confidence : 0;
  // A level trend alone can be a warm-up still settling (a few small steps in the later runs look
  // like a line): it needs the runs that moved to have gone up more often than down (95%), and the
  // sign test alone needs the level trend (a clean series' ups are rare steps, not a trend).
  const candidates: Array<{ test: SegmentGrowth['test']; confidence: number }> = [{ test: 'typical run', confidence: typicalConfidence }];
  if (level) {
    candidates.push({ test: 'trend without steps', confidence: signConfidence >= 0.95 ? levelConfidence : Math.min(levelConfidence, signConfidence) });
    candidates.push({ test: 'runs that grew', confidence: Math.min(signConfidence, levelConfidence) });
  } else {
    candidates.push({ test: 'runs that grew', confidence: signConfidence });
  }
  const best = candidates.reduce((a, b) => (b.confidence > a.confidence ? b : a));
  const steadyConfidence = Math.max(typicalConfidence, levelConfidence);
  const flatConfidence = level ? oneSided(floor - level.slope, level.stdErr, level.df) : trimmed ? 1 - trimmed.confidenceAbove(floor) : 0;
  const bound = level
    ? { estimate: level.slope, stdErr: level.stdErr, df: level.df }
    : trimmed
      ? { estimate: trimmed.estimate, stdErr: trimmed.stdErr, df: trimmed.df }
      : undefined;
  const upper95 = bound ? bound.estimate + studentQuantile95(bound.df) * bound.stdErr : Infinity;
  return {
    slope,
    confidence: best.confidence,
    test: best.test,
    steadyConfidence,
    flatConfidence,
    upper95,
    stdErr: bound?.stdErr ?? Infinity,
    typical: trimmed?.estimate ?? median(increments),
    spread: madScale(increments),
    up: sign.up,
    down: sign.down,
    steps: level?.steps ?? 0,
    misread: repaired,
    points: n,
  };
}

/** One-sided 95% quantile of Student's t (bisection on the distribution; df >= 1). */
export function studentQuantile95(df: number): number {
  if (!(df >= 1)) return Infinity;
  let low = 0;
  let high = 10;
  while (oneSided(high, 1, df) < 0.95) high *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (oneSided(mid, 1, df) < 0.95) low = mid;
    else high = mid;
  }
  return high;
}

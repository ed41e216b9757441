/**
 * Which harness runs are read (Node). A reading is the exact full GC (V8's low-memory notification)
 * and the retained heap after it; it costs ~2.5× an ordinary full GC, and the call after it runs
 * up to 4× slower while V8 recompiles the code it flushed and regrows the heap it shrank (README,
 * Performance). Between two readings the runs are not read: the difference between the readings is
 * what those runs kept, and the verdicts take growth per run from run numbers, gaps and all.
 *
 * Up to 2 × HARNESS_READINGS runs every run is read, as before; above that, one run in
 * `readingStride` (and the last), so a session has about HARNESS_READINGS readings whatever its
 * length. Fewer readings over the same runs lose no precision on a steady growth: a reading's noise
 * is on the level (±1 KiB or less), so the growth between readings K runs apart is K times the
 * per-run growth with the same noise.
 */

/** Readings a long harness session aims for: its later half then has 15, each a reading of its own. */
export const HARNESS_READINGS = 30;

/** Read every `readingStride(runs)`-th run. */
export function readingStride(runs: number): number {
  if (!Number.isFinite(runs) || runs < 2 * HARNESS_READINGS) return 1;
  return Math.floor(runs / HARNESS_READINGS);
}

/** Whether run `run` (0-based) of `runs` is read: the first, every stride-th, and the last. */
export function isReadRun(run: number, runs: number, stride = readingStride(runs)): boolean {
  return run === 0 || run === runs - 1 || run % stride === 0;
}

/** Defaults chosen from measurements (README, Performance); the CLI and the settings share them. */
export const DEFAULTS = {
  statsIntervalMs: 100,
  /** 8 KiB in the harness: attribution matters most there and run time does not (+~21% vs bare). */
  harnessSamplingIntervalBytes: 8 * 1024,
  /** 256 KiB for real workers: they run long enough to gather samples, and each halving costs ~1.5% more. */
  workerSamplingIntervalBytes: 256 * 1024,
  windowMs: 10_000,
  /** Node workers: the GCs around measured tasks may take 1% of the wall time. */
  taskGcBudget: 0.01,
  /**
   * 20: with 10, the later half is 6 points and one misread run decided (a 20 KiB/run leak read
   * inconclusive in 2 sessions of 54; none of 30 at 20); 20 runs cost ~0.5 s more on a light task.
   */
  runs: 20,
  /**
   * The harness reads what keeps the kept memory (two heap snapshots, or a referrer walk), unless the
   * heap after the warm-up is above `whyAutoMaxHeapBytes`: V8 builds and sends a snapshot at ~10 MB of
   * heap per second (README, Why it is kept), so 128 MiB pauses the task ~13 s twice.
   */
  why: 'auto' as const,
  whyAutoMaxHeapBytes: 128 * 1024 * 1024,
  warmup: 2,
};

/** Defaults chosen from measurements (README, Performance); the CLI and the settings share them. */
export const DEFAULTS = {
  statsIntervalMs: 100,
  /** 8 KiB in the harness: attribution matters most there and run time does not (+~21% vs bare). */
  harnessSamplingIntervalBytes: 8 * 1024,
  /** 128 KiB: ~1.6% overhead for real workers, which run for long enough to gather samples. */
  workerSamplingIntervalBytes: 128 * 1024,
  windowMs: 10_000,
  /** Node workers: GCs around sampled tasks may take 2% of the wall time. */
  taskGcBudget: 0.02,
  runs: 10,
  warmup: 2,
};

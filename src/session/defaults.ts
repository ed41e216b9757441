/** Defaults chosen from measurements (README, Performance); the CLI and the settings share them. */
export const DEFAULTS = {
  statsIntervalMs: 100,
  /** 32 KiB: ±6% on retained size at ~6.6% overhead in the harness, where attribution matters most. */
  harnessSamplingIntervalBytes: 32 * 1024,
  /** 128 KiB: ~1.6% overhead for real workers, which run for long enough to gather samples. */
  workerSamplingIntervalBytes: 128 * 1024,
  windowMs: 10_000,
  runs: 10,
  warmup: 2,
};

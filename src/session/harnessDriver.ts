/**
 * Drives the task harness: load the module, warm up, take a baseline capture, then for each run
 * call the task, collect garbage and capture what is retained. Sites count only what the measured
 * runs allocated and kept (sample ordinals above the baseline, DESIGN.md fact 6) where the runtime
 * orders its samples; for Python, tracing starts after the warm-up, which excludes imports and
 * warm-up the same way. How each run is measured is the runtime's (`harness.measurement`).
 */
import type { RunTaskResult } from '../cdp/extraProtocol';
import type { RawSamplingProfile, TaskRun } from '../core/model';
import { isReadRun, readingStride } from '../core/harnessReadings';
import type { HarnessMeasurement } from '../runtimes/adapter';
import { runtimeOf } from '../runtimes/registry';
import type { HarnessSpec } from './api';
import type { DriverHost } from './driver';
import type { Target } from './target';
import { explainRetained } from './whyRetained';
import { DEFAULTS } from './defaults';
import { withTimeout } from './withTimeout';
import { formatBytes, plural } from '../core/format';
import type { SessionDriver } from './driver';

/** How long a harness process may take to report in (TypeScript compilation included). */
const HARNESS_START_TIMEOUT_MS = 60_000;
/**
 * Share of the measured runs' wall time that sampling profiles may take ('budgeted-profiles'): the
 * fetch (V8 runs a full GC for it) and the analysis, which holds up the next run's reply.
 */
const PROFILE_BUDGET = 0.1;
/** Extra runs that why retained explains (`whyRuns: 'extra-runs'`): enough for a holder to gain entries in most of them. */
const WHY_EXTRA_RUNS = 20;
/** How long a stop waits for the run in flight to end before it takes its last reading anyway. */
const STOP_WAIT_MS = 10_000;

/** How the report describes each way of measuring a run. */
const MEASUREMENT_NOTES: Record<HarnessMeasurement, string> = {
  'budgeted-profiles': `; sampling profiles are analysed after the first and the last run and in between within ${PROFILE_BUDGET * 100}% of the time`,
  'capture-per-run': ' and a retained capture',
};

export class HarnessDriver implements SessionDriver {
  private harnessTarget: Target | undefined;
  private boundaryOrdinal = 0;
  private runsDone = 0;
  private previousRetained: number | undefined;
  private exited: string | undefined;
  private disposed = false;
  private readonly extraNotes: string[] = [];
  /** The analyses of fetched profiles, one after another. */
  private analysis: Promise<void> = Promise.resolve();
  private analysing = false;
  /** The last measured run whose profile was fetched for analysis ('budgeted-profiles'). */
  private lastAnalysedRun = -1;
  /** Read one run in `stride` ('budgeted-profiles'); the last run read. */
  private stride = 1;
  /** Time the measured runs' sampling profiles took so far: fetches and analyses (PROFILE_BUDGET). */
  private profileCostMs = 0;
  private lastReadRun = -1;
  private lastDurationMs = 0;
  /** The measured runs' loop, and whether a stop asked it to end before its next run (finalCapture). */
  private measuring: Promise<void> | undefined;
  private stopping = false;

  /** Rejects when the harness process ends its JavaScript (process.exit in a task) while we wait on it. */
  private contextGone: Promise<never> | undefined;
  private signalExit: ((error: Error) => void) | undefined;

  constructor(private readonly session: DriverHost) {}

  private get spec(): HarnessSpec {
    const spec = this.session.options.harness;
    if (!spec) throw new Error('no harness spec');
    return spec;
  }

  watch(target: Target): void {
    if (this.contextGone) return;
    this.contextGone = new Promise<never>((_, reject) => {
      target.onContextDestroyed(() => reject(new Error(`the task process ended (process.exit or a fatal error) during run ${this.runsDone + 1}`)));
      target.onExit((reason) => reject(new Error(`the connection to the task process closed (${reason}) during run ${this.runsDone + 1}`)));
    });
    this.contextGone.catch(() => undefined);
  }

  async run(): Promise<void> {
    try {
      await this.runAll();
    } catch (error) {
      // A lost connection is usually a dead process: give its exit status a moment to arrive,
      // since "killed by SIGKILL" tells the user more than "socket closed".
      if (!this.exited) await new Promise((resolve) => setTimeout(resolve, 300));
      throw this.exited ? new Error(this.exited) : error;
    }
  }

  private async runAll(): Promise<void> {
    const spec = this.spec;
    const target = await this.waitForTarget();
    this.harnessTarget = target;
    const session = this.session;
    session.progress({ message: `Loading ${spec.file}…` });
    await this.load(target);
    for (let i = 0; i < spec.warmup; i++) {
      session.progress({ message: `Warm-up ${i + 1}/${spec.warmup}`, done: 0, total: spec.runs });
      await this.callTask(target, i, false);
    }
    // Baseline: everything retained so far (module loading, warm-up) is below this ordinal.
    const baseline = await target.capture();
    this.boundaryOrdinal = maxOrdinal(baseline.profile);
    const why = this.whyWanted(baseline.retainedAfterGc);
    const whyAround = why && target.runtimeInfo.harness.whyRuns === 'around-measured-runs';
    if (whyAround) {
      session.progress({ message: 'Reading the heap before the measured runs (why retained)…' });
      await target.whyBaseline();
    }
    this.measuring =
      target.runtimeInfo.harness.measurement === 'budgeted-profiles' ? this.measureWithBudgetedProfiles(target) : this.measureWithCaptures(target);
    await this.measuring;
    if (this.stopping) return;
    if (whyAround) await this.explain(target, spec.runs, 'the measured runs');
    else if (why) await this.explainOverExtraRuns(target);
    session.progress({ message: 'Done', done: spec.runs, total: spec.runs });
    await session.stop('completed');
  }

  /**
   * A read run is followed by the full GC and the retained heap, as every capture measures it; a
   * long session reads one run in several (core/harnessReadings), and the runs in between only run.
   * The sampling profile is fetched and analysed after the first and the last run, and after read
   * runs in between while fetching takes at most PROFILE_BUDGET of the time: sample ordinals
   * separate the runs, so a later profile still says what the runs since the last one kept. The
   * analysis runs in this process while the next run runs in the target.
   */
  private async measureWithBudgetedProfiles(target: Target): Promise<void> {
    const spec = this.spec;
    const session = this.session;
    const name = spec.exportName;
    await target.endWarmUp();
    this.stride = readingStride(spec.runs);
    let lastOrdinal = this.boundaryOrdinal;
    const started = performance.now();
    for (let i = 0; i < spec.runs; i++) {
      if (this.stopping) return;
      const result = await this.measuredRun(target, i);
      this.runsDone = i + 1;
      this.lastDurationMs = result.durationMs;
      if (!isReadRun(i, spec.runs, this.stride)) {
        session.tasks.addUnmeasured(1);
        continue;
      }
      const last = i === spec.runs - 1;
      let keptByRun: number | undefined;
      const reading = await this.read(target, i, result.durationMs);
      if (i === 0 || last || (!this.analysing && this.profileCostMs <= PROFILE_BUDGET * (performance.now() - started))) {
        const fetchStarted = performance.now();
        const profile = await target.profile();
        this.profileCostMs += performance.now() - fetchStarted;
        // Bytes of the samples the runs since the last fetch allocated and still keep, per run.
        keptByRun = keptAbove(profile, lastOrdinal) / (i - this.lastAnalysedRun);
        lastOrdinal = Math.max(lastOrdinal, maxOrdinal(profile));
        this.analyse(target, profile, i);
        if (last) await this.analysis;
      }
      session.taskUpdated(session.tasks.addHarnessRun(name, { ...reading, keptByRun }, i));
    }
    await this.analysis;
  }

  /** The full GC and the retained heap after run `run` (Node's budgeted-profiles harness). */
  private async read(target: Target, run: number, durationMs: number): Promise<Omit<TaskRun, 'index'>> {
    const retained = await target.retained();
    const rssBytes = await target.rss();
    this.lastReadRun = run;
    return {
      retainedBytes: retained.retainedAfterGc,
      rssBytes,
      ...(retained.outsideHeapAfterGc !== undefined ? { outsideHeapBytes: retained.outsideHeapAfterGc } : {}),
      ...(retained.compiledCodeAfterGc !== undefined ? { compiledCodeBytes: retained.compiledCodeAfterGc } : {}),
      runtime: target.runtime,
      durationMs,
      targetId: target.id,
    };
  }

  /** Analyses a profile after the one before it, off the run loop; its failure fails the session at the next wait. */
  private analyse(target: Target, profile: RawSamplingProfile, run: number): void {
    this.analysing = true;
    this.lastAnalysedRun = run;
    this.analysis = this.analysis.then(async () => {
      const started = performance.now();
      try {
        await this.session.recordCapture(target, profile, run, this.boundaryOrdinal);
      } finally {
        this.profileCostMs += performance.now() - started;
        this.analysing = false;
      }
    });
    // Handled here so that a failure waits for the loop's next `await this.analysis` instead of crashing.
    this.analysis.catch(() => undefined);
  }

  /** Every run is a capture of its own (Python: tracing starts after the warm-up). */
  private async measureWithCaptures(target: Target): Promise<void> {
    const spec = this.spec;
    const session = this.session;
    const name = spec.exportName;
    await target.endWarmUp();
    for (let i = 0; i < spec.runs; i++) {
      if (this.stopping) return;
      const result = await this.measuredRun(target, i);
      const capture = await target.capture();
      const reading = await target.stats();
      const retainedBytes = result.retainedBytes !== undefined ? result.retainedBytes : capture.retainedAfterGc;
      this.runsDone = i + 1;
      await session.recordCapture(target, capture.profile, i);
      // The change of traced memory; tracing starts with the first measured run.
      const previousRetained = this.previousRetained;
      this.previousRetained = retainedBytes;
      session.taskUpdated(
        session.tasks.addHarnessRun(name, {
          retainedBytes,
          rssBytes: result.rss ?? reading.rss,
          ...(capture.outsideHeapAfterGc !== undefined ? { outsideHeapBytes: capture.outsideHeapAfterGc } : {}),
          ...(result.untracedBytes !== undefined ? { untracedBytes: result.untracedBytes } : {}),
          ...(result.trimmedBytes !== undefined ? { trimmedBytes: result.trimmedBytes } : {}),
          runtime: target.runtime,
          keptByRun: retainedBytes - (previousRetained ?? 0),
          durationMs: result.durationMs,
          targetId: target.id,
        }),
      );
    }
  }

  /** Whether to find what keeps the kept memory, given the heap after the warm-up. */
  private whyWanted(heapBytes: number): boolean {
    const why = this.spec.why ?? false;
    if (why !== 'auto') return why;
    if (heapBytes <= DEFAULTS.whyAutoMaxHeapBytes) return true;
    this.extraNotes.push(
      `Why retained was skipped: the heap after the warm-up is ${formatBytes(heapBytes)}, and reading it twice would pause the task for long (about 1 s per 10 MB each time). Ask for it with --why (or the taskMemory.whyRetained setting).`,
    );
    return false;
  }

  /**
   * Why retained over extra runs after the measured ones (`whyRuns: 'extra-runs'`): a heap reading,
   * then as many runs as were measured (at most WHY_EXTRA_RUNS), then the explanation of what they
   * kept. The runs are the same call, so what they keep is what the measured runs kept.
   */
  private async explainOverExtraRuns(target: Target): Promise<void> {
    const { spec, session } = this;
    const runs = Math.min(spec.runs, WHY_EXTRA_RUNS);
    this.assertRunning();
    session.progress({ message: 'Reading the heap (why retained)…' });
    await target.whyBaseline();
    for (let i = 0; i < runs; i++) {
      this.assertRunning();
      session.progress({ message: `Why retained: run ${i + 1}/${runs} after the measured runs` });
      await this.callTask(target, spec.warmup + spec.runs + i, false);
    }
    await this.explain(target, runs, `${plural(runs, 'more run')} after the measured ones`);
  }

  /** What keeps what `runs` runs kept; the pause it took goes into the notes. */
  private async explain(target: Target, runs: number, which: string): Promise<void> {
    const { spec, session } = this;
    this.assertRunning();
    const why = await explainRetained(target, runs, spec.file, session.currentSites(), (done, total) =>
      session.progress({ message: `Reading the heap after ${which} (why retained): ${Math.round((100 * done) / Math.max(1, total))}%` }),
    );
    session.tasks.setWhy(spec.exportName, why);
    session.taskUpdated(session.tasks.summary(spec.exportName));
    this.extraNotes.push(
      `Why retained: read over ${which}; the process was paused ${Math.round(why.pauseMs)} ms to read its heap${why.truncated ? ` (${why.truncated})` : ''}.`,
    );
  }

  /** One measured run, whatever the runtime: progress, the task's marks and the call. */
  private async measuredRun(target: Target, run: number): Promise<RunTaskResult> {
    const { spec, session } = this;
    this.assertRunning();
    session.progress({ message: `Run ${run + 1}/${spec.runs}`, done: run, total: spec.runs });
    session.mark({ t: session.now(), targetId: target.id, kind: 'task-start', label: spec.exportName });
    const result = await this.callTask(target, spec.warmup + run, true);
    session.mark({ t: session.now(), targetId: target.id, kind: 'task-end', label: spec.exportName });
    return result;
  }

  private async waitForTarget(): Promise<Target> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the task process did not start within ${HARNESS_START_TIMEOUT_MS / 1000} s`)), HARNESS_START_TIMEOUT_MS);
    });
    const exited = new Promise<never>((_, reject) => (this.signalExit = reject));
    try {
      return await Promise.race([this.session.waitForHarnessTarget(), timeout, exited]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async load(target: Target): Promise<void> {
    await target.loadHarness(this.spec);
  }

  private async callTask(target: Target, index: number, measure: boolean): Promise<RunTaskResult> {
    const call = target.runHarnessTask(index, measure);
    const result = this.contextGone ? await Promise.race([call, this.contextGone]) : await call;
    if (result.error) {
      throw new Error(
        `${this.spec.exportName} threw in run ${index + 1}: ${result.error.message}${result.error.traceback ? `\n${result.error.traceback}` : ''}`,
      );
    }
    return result;
  }

  private assertRunning(): void {
    if (this.exited) throw new Error(this.exited);
    if (this.disposed) throw new Error('the session was stopped');
  }

  commandExited(how: string, _code: number | null): Promise<void> {
    this.exited = `the task process ${how}${this.runsDone ? ` after ${this.runsDone} measured runs` : this.harnessTarget ? '' : ' before it could be profiled (its output above says why)'}`;
    this.signalExit?.(new Error(this.exited));
    return Promise.resolve();
  }

  async captureAll(_reason: string): Promise<void> {
    const target = this.harnessTarget;
    if (!target?.alive) return;
    const capture = await target.capture();
    await this.session.recordCapture(target, capture.profile, this.runsDone, target.runtimeInfo.orderedSamples ? this.boundaryOrdinal : undefined);
  }

  async finalCapture(): Promise<void> {
    const target = this.harnessTarget;
    if (!target?.alive) return;
    // No run after the last one read: the loop ends after the run in flight (a task that hangs is not waited for long).
    this.stopping = true;
    if (this.measuring)
      await withTimeout(
        this.measuring.catch(() => undefined),
        STOP_WAIT_MS,
      );
    const budgeted = target.runtimeInfo.harness.measurement === 'budgeted-profiles';
    // Stopped between two read runs: one more reading, so the series ends where the runs did.
    if (budgeted && this.runsDone > 0 && this.lastReadRun >= 0 && this.lastReadRun < this.runsDone - 1) {
      const run = this.runsDone - 1;
      const reading = await this.read(target, run, this.lastDurationMs);
      // That run ran unread and was counted then (addUnmeasured): not a second time.
      this.session.taskUpdated(this.session.tasks.addHarnessRun(this.spec.exportName, reading, run, true));
    }
    // Stopped between two fetched profiles: the sites include the runs since the last one.
    if (budgeted && this.runsDone > 0 && this.lastAnalysedRun < this.runsDone - 1) {
      await this.analysis.catch(() => undefined);
      this.analyse(target, await target.profile(), this.runsDone - 1);
    }
    await this.analysis;
    await target.exitHarness().catch(() => undefined);
  }

  notes(): string[] {
    const spec = this.session.options.harness;
    if (!spec) return this.extraNotes;
    return [
      ...this.extraNotes,
      `${spec.warmup} warm-up run(s) and module loading are excluded from the sites; ${
        this.stride > 1 ? `one measured run in ${this.stride} (and the last)` : 'each measured run'
      } is followed by a full GC and a reading of the retained heap${MEASUREMENT_NOTES[runtimeOf(spec.runtime).harness.measurement]}.`,
    ];
  }

  dispose(): void {
    this.disposed = true;
  }
}

function maxOrdinal(profile: { samples?: Array<{ ordinal: number }> } | undefined): number {
  let max = 0;
  for (const sample of profile?.samples ?? []) if (sample.ordinal > max) max = sample.ordinal;
  return max;
}

function keptAbove(profile: { samples?: Array<{ ordinal: number; size: number }> }, ordinal: number): number {
  let bytes = 0;
  for (const sample of profile.samples ?? []) if (sample.ordinal > ordinal) bytes += sample.size;
  return bytes;
}

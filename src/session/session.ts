/**
 * One profiling session: launches (or attaches to) the program, turns every process that reports
 * in into a target, polls statistics, marks tasks, takes retained captures and keeps the analysis
 * current. Views subscribe to its events and call its methods; they never talk to targets.
 */
import * as crypto from 'node:crypto';
import { Emitter } from '../core/events';
import { FrameMemory } from '../core/frameMemory';
import type { HeapStatsPoint, RawSamplingProfile, SessionMark, TargetInfo, TaskSummary } from '../core/model';
import type { Checkpoint } from '../core/workerTrend';
import { buildReport, type TaskmemReport } from '../core/report';
import type { SiteAggregation } from '../core/sites';
import { StatsSeries } from '../core/timeseries';
import { profilerPaths, toolVersion } from '../launch/assets';
import { killTree } from '../launch/processes';
import { targetInfoOf, type Registration } from '../launch/registry';
import type { ProfilingSessionApi, SessionOptions, SessionProgress, SessionState } from './api';
import { LaunchedCommand } from './launchedCommand';
import { describeCommand, scriptOf } from './launchPlan';
import { SiteHistory } from './siteHistory';
import { withTimeout } from './withTimeout';
import { OnDemandWhy, type WhyStep } from './onDemandWhy';
import type { SessionWhy } from '../core/why/model';
import { SourceMapLoader } from './sourceMapLoader';
import { Target } from './target';
import { TaskTracker } from './taskTracker';
import { WorkerModeDriver } from './workerMode';
import { HarnessDriver } from './harnessDriver';
import { attachTargets } from './attach';
import { DEFAULTS } from './defaults';
import { recyclingAdvice } from './recyclingInputs';
import type { RecyclingAdvice } from '../core/recyclingAdvisor';
import type { SessionDriver } from './driver';
import type { TargetOptions } from '../runtimes/adapter';

export class ProfilingSession implements ProfilingSessionApi {
  readonly id = crypto.randomBytes(6).toString('hex');
  private readonly targetEmitter = new Emitter<TargetInfo>();
  private readonly targetExitEmitter = new Emitter<TargetInfo>();
  private readonly statsEmitter = new Emitter<HeapStatsPoint>();
  private readonly markEmitter = new Emitter<SessionMark>();
  private readonly captureEmitter = new Emitter<SiteAggregation>();
  private readonly taskEmitter = new Emitter<TaskSummary>();
  private readonly taskRemovedEmitter = new Emitter<string>();
  private readonly progressEmitter = new Emitter<SessionProgress>();
  private readonly warningEmitter = new Emitter<string>();
  private readonly stateEmitter = new Emitter<SessionState>();
  private readonly endedEmitter = new Emitter<TaskmemReport>();
  private readonly whyEmitter = new Emitter<SessionWhy>();
  readonly onTarget = this.targetEmitter.event;
  readonly onTargetExit = this.targetExitEmitter.event;
  readonly onStats = this.statsEmitter.event;
  readonly onMark = this.markEmitter.event;
  readonly onCapture = this.captureEmitter.event;
  readonly onTask = this.taskEmitter.event;
  readonly onTaskRemoved = this.taskRemovedEmitter.event;
  readonly onProgress = this.progressEmitter.event;
  readonly onWarning = this.warningEmitter.event;
  readonly onStateChange = this.stateEmitter.event;
  readonly onEnded = this.endedEmitter.event;
  readonly onWhy = this.whyEmitter.event;
  private readonly onDemandWhy = new OnDemandWhy({
    liveTargetList: () => this.liveTargetList(),
    finishedTasks: () => this.tasks.finished,
    currentSites: () => this.sites.current(),
    scriptFile: () => scriptOf(this.options.command, this.options.cwd),
  });
  /** `why` (worker, attach): the baseline was asked for after the first task. */
  private whyBaselineAsked = false;

  private readonly liveTargets = new Map<string, Target>();
  private readonly allTargets: TargetInfo[] = [];
  private readonly stats = new Map<string, StatsSeries>();
  private readonly markList: SessionMark[] = [];
  readonly tasks: TaskTracker;
  private readonly sites = new SiteHistory(profilerPaths());
  private readonly sourceMaps = new SourceMapLoader();
  private readonly warnings: string[] = [];
  private readonly notes: string[] = [];
  /** Harness and worker sessions: the command they run. */
  private command: LaunchedCommand | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  readonly startedAt = Date.now();
  private endedAt: number | undefined;
  /** The end of what the command printed (both streams): a failed command's cause is usually there. */
  private endReason = 'running';
  private currentState: SessionState = 'starting';
  private finalReport: TaskmemReport | undefined;
  private resolveDone!: (report: TaskmemReport) => void;
  readonly done: Promise<TaskmemReport> = new Promise((resolve) => (this.resolveDone = resolve));
  private stopping: Promise<TaskmemReport> | undefined;
  private driver: SessionDriver | undefined;
  private readonly targetWaiters: Array<(target: Target) => void> = [];
  private readonly lastProfiles = new Map<string, RawSamplingProfile>();
  /** Per target: script URLs and function lines learnt from earlier captures, for frames whose code is gone. */
  private readonly frameMemories = new Map<string, FrameMemory>();

  /** Why the session failed (bad input, a crash); undefined when it ended normally or was stopped. */
  private failure: string | undefined;
  private firstProgramError: string | undefined;

  constructor(readonly options: SessionOptions) {
    // The harness measures retained heap to ±1 KiB (getHeapUsage after a full GC, tracemalloc in
    // Python), so a smaller growth is still a real leak there; worker-mode figures are noisier.
    this.tasks = new TaskTracker();
    this.tasks.useSites(() => this.sites.current()?.sites ?? []);
  }

  get state(): SessionState {
    return this.currentState;
  }
  get failureReason(): string | undefined {
    return this.failure;
  }
  get marks(): readonly SessionMark[] {
    return this.markList;
  }
  get finishedTasks(): number {
    return this.tasks.finished;
  }
  liveTargetList(): Target[] {
    return [...this.liveTargets.values()];
  }
  statsPointsOf(targetId: string): readonly HeapStatsPoint[] {
    return this.stats.get(targetId)?.points() ?? [];
  }
  retainedSampleCount(): number {
    return this.sites.current()?.sampleCount ?? 0;
  }
  get targets(): readonly TargetInfo[] {
    return this.allTargets;
  }
  get statsIntervalMs(): number {
    return this.options.statsIntervalMs ?? DEFAULTS.statsIntervalMs;
  }
  get samplingIntervalBytes(): number {
    const fallback = this.options.mode === 'harness' ? DEFAULTS.harnessSamplingIntervalBytes : DEFAULTS.workerSamplingIntervalBytes;
    return this.options.samplingIntervalBytes ?? fallback;
  }
  now(): number {
    return Date.now() - this.startedAt;
  }

  async start(): Promise<void> {
    if (this.currentState !== 'starting') throw new Error('a session starts only once');
    try {
      this.driver = this.options.mode === 'harness' ? new HarnessDriver(this) : new WorkerModeDriver(this);
      if (this.options.mode === 'attach') {
        await attachTargets(this, this.options.attach ?? {});
      } else {
        this.launch();
      }
      this.setState('running');
      this.schedulePoll();
      void this.driver.run().catch((error: Error) => this.fail(error.message));
    } catch (error) {
      await this.fail((error as Error).message);
      throw error;
    }
  }

  get lastOutput(): string {
    return this.command?.lastOutput ?? '';
  }
  get programError(): string | undefined {
    return this.firstProgramError;
  }

  private launch(): void {
    this.command = new LaunchedCommand(this.options, {
      registered: (registration) => void this.adopt(registration),
      problem: (problem) => this.warn(problem),
      failed: (message) => void this.fail(message),
      exited: (how, code) => {
        if (this.currentState === 'running' || this.currentState === 'starting') void this.driver?.commandExited(how, code);
      },
    });
  }

  /** How this session connects to a process that reported in (launched, or attached to). */
  targetOptions(): TargetOptions {
    return {
      samplingIntervalBytes: this.samplingIntervalBytes,
      pythonSampleEvery: this.options.pythonSampleEvery,
      ...(this.options.pythonMallocTrim && this.options.mode !== 'harness' ? { pythonMallocTrim: true } : {}),
      debuggerAlways: this.options.mode === 'harness',
    };
  }

  /** Connects to a process that reported in and makes it a target. */
  async adopt(registration: Registration): Promise<void> {
    if (this.currentState === 'stopping' || this.currentState === 'ended') return;
    try {
      const target = await Target.connect(targetInfoOf(registration), registration.endpoint, this.targetOptions());
      await this.addTarget(target, registration.isHarness);
    } catch (error) {
      this.warn(`could not attach to pid ${registration.pid}: ${(error as Error).message}`);
    }
  }

  async addTarget(target: Target, isHarness = false, alreadyInitialized = false): Promise<void> {
    this.liveTargets.set(target.id, target);
    this.allTargets.push(target.info);
    this.stats.set(target.id, new StatsSeries());
    target.onExit((reason) => this.targetExited(target, reason));
    target.onWorker((worker) => void this.addTarget(worker, false, true));
    target.onGc(() => this.mark({ t: this.now(), targetId: target.id, kind: 'gc' }));
    target.onUncaughtException((text) => (this.firstProgramError ??= text));
    // A target that sends frames we cannot read is shown, a few times only: it must not flood the report.
    let protocolProblems = 0;
    target.onProtocolError((problem) => {
      if (++protocolProblems <= 3)
        this.warn(`${target.info.title}: ${problem}${protocolProblems === 3 ? ' (further problems of this target are not shown)' : ''}`);
    });
    this.driver?.watch(target);
    // Listeners are in place before initialize() lets the process run.
    if (!alreadyInitialized) await target.initialize();
    this.mark({ t: this.now(), targetId: target.id, kind: 'target-start', label: target.info.title });
    this.targetEmitter.fire(target.info);
    if (isHarness) for (const waiter of this.targetWaiters.splice(0)) waiter(target);
  }

  /** Resolves with the harness process once it has reported in. */
  currentSites(): SiteAggregation | undefined {
    return this.sites.current();
  }

  waitForHarnessTarget(): Promise<Target> {
    return new Promise((resolve) => this.targetWaiters.push(resolve));
  }

  private targetExited(target: Target, reason: string): void {
    if (!this.liveTargets.delete(target.id)) return;
    target.info.exitReason = reason;
    this.mark({ t: this.now(), targetId: target.id, kind: 'target-exit' });
    this.targetExitEmitter.fire(target.info);
    target.dispose();
  }

  mark(mark: SessionMark): void {
    this.markList.push(mark);
    if (this.markList.length > 100_000) this.markList.splice(0, 50_000);
    this.markEmitter.fire(mark);
  }

  warn(message: string): void {
    this.warnings.push(message);
    this.warningEmitter.fire(message);
  }

  progress(progress: SessionProgress): void {
    this.progressEmitter.fire(progress);
  }

  taskUpdated(summary: TaskSummary): void {
    this.taskEmitter.fire(summary);
  }

  taskRemoved(name: string): void {
    this.taskRemovedEmitter.fire(name);
  }

  /** Aggregates a capture of one target into the site history and tells the views. */
  async recordCapture(target: Target, profile: RawSamplingProfile, progress: number, minOrdinalExclusive?: number): Promise<SiteAggregation | undefined> {
    let memory = this.frameMemories.get(target.id);
    if (!memory) this.frameMemories.set(target.id, (memory = new FrameMemory()));
    memory.learnScripts(target.scripts);
    memory.repair(profile);
    for (const problem of this.sourceMaps.loadFor(profile, target.scripts, target.id)) this.warn(problem);
    const store = this.sourceMaps.store;
    const mapper = {
      original: (scriptId: string, url: string, line: number, column: number) => store.original(`${target.id}:${scriptId}`, url, line, column),
    };
    this.lastProfiles.set(target.id, profile);
    // Analysed in slices: one call on a million-node profile would block the extension host for seconds.
    await this.sites.addAsync(target.id, target.runtimeInfo.sitePrecision, profile, progress, mapper, minOrdinalExclusive);
    const merged = this.sites.current();
    if (merged) this.captureEmitter.fire(merged);
    this.mark({ t: this.now(), targetId: target.id, kind: 'capture' });
    return merged;
  }

  private schedulePoll(): void {
    this.pollTimer = setTimeout(() => void this.poll(), this.statsIntervalMs);
  }

  private async poll(): Promise<void> {
    if (this.currentState !== 'running') return;
    const t = this.now();
    await Promise.all(
      [...this.liveTargets.values()].map(async (target) => {
        if (target.pollWouldDelayRun) return;
        try {
          const point = target.toPoint(t, await target.stats());
          this.stats.get(target.id)?.push(point);
          this.statsEmitter.fire(point);
        } catch {
          // A target that is exiting cannot answer; its exit is reported separately.
        }
      }),
    );
    this.askWhyBaseline();
    if (this.currentState === 'running') this.schedulePoll();
  }

  async whyRetained(): Promise<WhyStep> {
    if (this.options.mode === 'harness') throw new Error('the harness explains what its runs kept by itself, after the measured runs');
    if (this.currentState !== 'running') throw new Error('the session is not running: there is no heap to read');
    return this.whyStep();
  }

  /** One reading of the heap: the baseline, or the explanation of what was kept since (told to the views). */
  private async whyStep(): Promise<WhyStep> {
    const step = await this.onDemandWhy.step((message) => this.progress({ message }));
    if (step.step === 'explained') this.whyEmitter.fire(step.why);
    return step;
  }

  /** `why`: the baseline once a task finished (the worker is warm), off the poll. */
  private askWhyBaseline(): void {
    if (!this.options.why || this.whyBaselineAsked || this.options.mode === 'harness' || this.tasks.finished < 1) return;
    this.whyBaselineAsked = true;
    this.whyRetained().catch((error: Error) => this.warn(`why retained: ${error.message}`));
  }

  async captureNow(): Promise<void> {
    await this.driver?.captureAll('captured on request');
  }

  async collectGarbage(): Promise<void> {
    await Promise.all([...this.liveTargets.values()].map((target) => target.collectGarbage().catch(() => undefined)));
    this.mark({ t: this.now(), targetId: '*', kind: 'gc', label: 'requested' });
  }

  stop(reason = 'stopped by user'): Promise<TaskmemReport> {
    if (this.finalReport) return Promise.resolve(this.finalReport);
    if (!this.stopping) this.stopping = this.finish(reason, true);
    return this.stopping;
  }

  /** Ends the session because something went wrong; the data gathered so far is kept. */
  fail(reason: string): Promise<TaskmemReport> {
    if (!this.failure && !this.finalReport) {
      this.failure = reason;
      this.warn(reason);
    }
    return this.stop(reason);
  }

  private async finish(reason: string, finalCapture: boolean): Promise<TaskmemReport> {
    this.endReason = reason;
    this.setState('stopping');
    if (this.pollTimer) clearTimeout(this.pollTimer);
    if (finalCapture && this.driver) {
      this.progress({ message: 'Final retained capture…' });
      await this.driver.finalCapture().catch((error: Error) => this.warn(`final capture failed: ${error.message}`));
    }
    // After the final capture: its sites name the user files searched for the holding lines.
    if (this.options.why && this.onDemandWhy.hasBaseline) {
      this.progress({ message: 'Reading the heap again (why retained)…' });
      await this.whyStep().catch((error: Error) => this.warn(`why retained: ${error.message}`));
    }
    this.driver?.dispose();
    if (this.options.mode === 'attach') {
      // A process we attached to goes on: nothing of ours may stay in it (task marks, GC budget).
      const removed = Promise.all([...this.liveTargets.values()].map((target) => target.letGo().catch(() => undefined)));
      await withTimeout(removed, DETACH_TIMEOUT_MS);
    }
    const pids = [...this.liveTargets.values()].map((target) => target.info.pid);
    for (const target of this.liveTargets.values()) target.dispose();
    this.liveTargets.clear();
    if (this.command || pids.length) await killTree(this.command?.pid, this.options.mode === 'attach' ? [] : pids);
    // The command's last output (a crash's stack trace) is forwarded before the report.
    await this.command?.drainOutput();
    this.command?.dispose();
    this.endedAt = Date.now();
    this.finalReport = this.report();
    this.setState('ended');
    this.endedEmitter.fire(this.finalReport);
    this.resolveDone(this.finalReport);
    return this.finalReport;
  }

  private setState(state: SessionState): void {
    this.currentState = state;
    this.stateEmitter.fire(state);
  }

  report(): TaskmemReport {
    if (this.finalReport) return this.finalReport;
    // Once per report: the summaries fit every task's trend, and the recycling advice reads them too.
    const tasks = this.tasks.summaries();
    return buildReport({
      mode: this.options.mode,
      command: describeCommand(this.options),
      startedAt: this.startedAt,
      durationMs: (this.endedAt ?? Date.now()) - this.startedAt,
      endReason: this.endReason,
      tasks,
      aggregation: this.sites.current(),
      targets: this.allTargets,
      settings: {
        statsIntervalMs: this.statsIntervalMs,
        samplingIntervalBytes: this.samplingIntervalBytes,
        preciseAttribution: this.options.preciseAttribution ?? this.options.mode === 'harness',
      },
      notes: [...this.notes, ...(this.driver?.notes() ?? [])],
      warnings: this.warnings,
      taskSource: this.driver?.taskSource?.(),
      toolVersion: toolVersion(),
      ...this.recycling(tasks),
      ...(this.onDemandWhy.latest ? { why: this.onDemandWhy.latest } : {}),
    });
  }

  /** Worker sessions with tasks: recycling limits from what was measured. */
  private recycling(tasks: readonly TaskSummary[]): { recycling?: RecyclingAdvice } {
    if (this.options.mode !== 'worker') return {};
    const statsByTarget = new Map([...this.stats.entries()].map(([id, series]) => [id, series.points()]));
    const advice = recyclingAdvice({
      argv: this.options.command ?? [],
      tasks,
      statsByTarget,
      ...(this.options.memoryLimitBytes !== undefined ? { memoryLimitBytes: this.options.memoryLimitBytes } : {}),
    });
    return advice ? { recycling: advice } : {};
  }

  checkpointsByTarget(): ReadonlyMap<string, readonly Checkpoint[]> {
    return this.tasks.checkpointsByTarget();
  }

  statsPoints(): HeapStatsPoint[] {
    return [...this.stats.values()].flatMap((series) => series.points()).sort((a, b) => a.t - b.t);
  }

  taskSummaries(): TaskSummary[] {
    return this.tasks.summaries();
  }

  heapProfile(): RawSamplingProfile | undefined {
    // The harness (or the first target) is the one users open in DevTools.
    return this.lastProfiles.values().next().value;
  }
}

/** How long letting go of an attached process may wait for it to take our task marks out. */
const DETACH_TIMEOUT_MS = 2000;

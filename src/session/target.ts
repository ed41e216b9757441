/**
 * One profiled process (or worker thread) behind an inspector connection: the connection, the
 * queue that makes measurements take turns, the events and worker threads. What differs between
 * runtimes (statistics, GC, retained captures, the harness) is its adapter's (src/runtimes).
 */
import { CdpConnection, type CdpClient } from '../cdp/connection';
import type { CheckpointEvent, RunTaskResult, TaskFinishedEvent, TaskStartedEvent, WorkerInfo } from '../cdp/extraProtocol';
import { openTransport, type Endpoint } from '../cdp/endpoint';
import { WorkerTransport } from '../cdp/transport';
import { Emitter } from '../core/events';
import { isTaskSource } from '../core/taskSources';
import type { HeapStatsPoint, RawSamplingProfile, RuntimeKind, TargetInfo } from '../core/model';
import type { WhyRetained } from '../core/why/model';
import type {
  CaptureResult,
  RetainedReading,
  RuntimeAdapter,
  RuntimeDescription,
  ScriptInfo,
  StatsReading,
  TargetOptions,
  TargetSink,
} from '../runtimes/adapter';
import { validCounts } from '../runtimes/replies';
import { runtimeOf } from '../runtimes/registry';
import type { HarnessSpec } from './api';

/** A harness run in flight this long gets statistics polls again (pollWouldDelayRun). */
const HARNESS_POLL_AFTER_MS = 1000;

export class Target {
  readonly scripts = new Map<string, ScriptInfo>();
  /** What this target's runtime is and does (asked by the drivers instead of its name). */
  readonly runtimeInfo: RuntimeDescription;
  private readonly adapter: RuntimeAdapter;
  private readonly taskStartedEmitter = new Emitter<TaskStartedEvent>();
  private readonly taskFinishedEmitter = new Emitter<TaskFinishedEvent>();
  private readonly taskCountsEmitter = new Emitter<Record<string, number>>();
  /** Tasks that ended unmeasured, per name (batched). */
  readonly onTaskCounts = this.taskCountsEmitter.event;
  private readonly checkpointEmitter = new Emitter<CheckpointEvent>();
  /** A full GC with the retained heap after it and the tasks finished by then, per name. */
  readonly onCheckpoint = this.checkpointEmitter.event;
  private readonly taskSourceEmitter = new Emitter<string>();
  private readonly taskFunctionsEmitter = new Emitter<{ name: string; functions: string[] }>();
  /** The named functions that handled a task name (Node: an HTTP route's handlers). */
  readonly onTaskFunctions = this.taskFunctionsEmitter.event;
  /** Where this target's tasks come from (the program's marks, HTTP requests, BullMQ jobs, …). */
  readonly onTaskSource = this.taskSourceEmitter.event;
  private readonly gcEmitter = new Emitter<{ generation: number; durationMs?: number }>();
  private readonly workerEmitter = new Emitter<Target>();
  private readonly exitEmitter = new Emitter<string>();
  private readonly contextDestroyedEmitter = new Emitter<void>();
  private readonly uncaughtExceptionEmitter = new Emitter<string>();
  /** The program threw an exception nothing caught (Node): its text. */
  readonly onUncaughtException = this.uncaughtExceptionEmitter.event;
  readonly onTaskStarted = this.taskStartedEmitter.event;
  readonly onTaskFinished = this.taskFinishedEmitter.event;
  readonly onGc = this.gcEmitter.event;
  /** A worker thread of this target became a target of its own. */
  readonly onWorker = this.workerEmitter.event;
  /** The connection closed: the process (or thread) is gone or detached. */
  readonly onExit = this.exitEmitter.event;
  /** The main script finished; the process waits for us to disconnect (capture-at-exit window; Node). */
  readonly onContextDestroyed = this.contextDestroyedEmitter.event;
  private exited = false;
  /** Frames or events from the target that could not be understood; the connection stays up. */
  readonly onProtocolError: CdpConnection['onProtocolError'];
  private queue: Promise<void> = Promise.resolve();
  /** When the harness run in flight started (pollWouldDelayRun). */
  private harnessRunStarted: number | undefined;

  private constructor(
    readonly info: TargetInfo,
    private readonly client: CdpClient,
    private readonly connection: CdpConnection | undefined,
    private readonly options: TargetOptions,
  ) {
    client.onClose((reason) => {
      this.exited = true;
      this.exitEmitter.fire(reason);
    });
    this.onProtocolError = connection ? connection.onProtocolError : () => ({ dispose: () => undefined });
    this.runtimeInfo = runtimeOf(info.runtime);
    this.adapter = this.runtimeInfo.adapter({ info, client, options, sink: this.sink(), scripts: this.scripts });
  }

  get id(): string {
    return this.info.id;
  }
  get runtime(): RuntimeKind {
    return this.info.runtime;
  }
  get alive(): boolean {
    return !this.exited && !this.client.closed;
  }

  static async connect(info: TargetInfo, endpoint: Endpoint, options: TargetOptions): Promise<Target> {
    const connection = new CdpConnection(await openTransport(endpoint));
    return new Target(info, connection, connection, options);
  }

  /** A worker thread, tunnelled through its parent's connection (Node's NodeWorker domain). */
  private static forWorker(parent: Target, sessionId: string, worker: WorkerInfo): Target {
    const transport = new WorkerTransport(parent.client, sessionId);
    const connection = new CdpConnection(transport);
    const info: TargetInfo = {
      id: `${parent.id}/worker-${worker.workerId}`,
      pid: parent.info.pid,
      runtime: parent.runtime,
      title: worker.title || `worker ${worker.workerId}`,
      argv: [worker.url],
      parentId: parent.id,
    };
    return new Target(info, connection, connection, { ...parent.options, closeInspectorOnLetGo: false });
  }

  /** Events from the adapter, checked once here for every runtime. */
  private sink(): TargetSink {
    return {
      taskStarted: (event) => this.taskStartedEmitter.fire(event),
      taskFinished: (event) => this.taskFinishedEmitter.fire(event),
      taskCounts: (raw) => this.taskCountsEmitter.fire(validCounts(raw)),
      checkpoint: (params) => this.fireCheckpoint(params),
      taskSource: (source) => {
        if (isTaskSource(source)) this.taskSourceEmitter.fire(source);
      },
      taskFunctions: (event) => this.taskFunctionsEmitter.fire(event),
      gc: (event) => this.gcEmitter.fire(event),
      contextDestroyed: () => this.contextDestroyedEmitter.fire(),
      uncaughtException: (text) => this.uncaughtExceptionEmitter.fire(text),
      worker: (sessionId, worker) => this.attachWorker(sessionId, worker),
    };
  }

  /** Enables what the session needs, starts the sampler and lets the process run. */
  initialize(): Promise<void> {
    return this.adapter.initialize();
  }

  private fireCheckpoint(params: { heap?: unknown; counts?: unknown; t?: unknown; phase?: unknown }): void {
    const heap = Number(params.heap);
    if (!Number.isFinite(heap) || heap < 0) return;
    const t = Number(params.t);
    const phase = params.phase === 'start' || params.phase === 'end' || params.phase === 'capture' ? params.phase : undefined;
    this.checkpointEmitter.fire({ heap, counts: validCounts(params.counts), ...(Number.isFinite(t) ? { t } : {}), ...(phase ? { phase } : {}) });
  }

  private attachWorker(sessionId: string, worker: WorkerInfo): void {
    if (typeof sessionId !== 'string' || typeof worker !== 'object' || worker === null) throw new Error('attachedToWorker without a sessionId and workerInfo');
    const child = Target.forWorker(this, sessionId, worker);
    child
      .initialize()
      .then(() => this.workerEmitter.fire(child))
      .catch(() => {
        // The thread ended before it could be set up; nothing to profile.
      });
  }

  /**
   * Statistics and captures take turns: a poll landing between a GC and its measurement would
   * count the poll's own allocations as retained.
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  stats(): Promise<StatsReading> {
    return this.exclusive(() => this.adapter.readStats());
  }

  /** The hooks that marked tasks in this process (Python: celery, rq, flask, django), as last read. */
  get taskSources(): readonly string[] {
    return this.adapter.taskSources;
  }

  /** Where this process's memory went, from its last readings, for the report. */
  memoryNote(points: readonly HeapStatsPoint[]): string | undefined {
    return this.adapter.memoryNote(`${this.info.title} (pid ${this.info.pid})`, points);
  }

  toPoint(t: number, reading: StatsReading): HeapStatsPoint {
    return { t, targetId: this.id, ...reading };
  }

  collectGarbage(): Promise<void> {
    return this.adapter.collectGarbage();
  }

  /** Full GC, then the sampling profile: what is still retained. */
  capture(options: { collect: boolean } = { collect: true }): Promise<CaptureResult> {
    return this.exclusive(() => this.adapter.capture(options.collect));
  }

  /** The process's RSS: read beside the protocol without a round trip where the runtime can. */
  async rss(): Promise<number | undefined> {
    return this.adapter.quickRss() ?? (await this.stats()).rss;
  }

  /** The full GC and what is retained after it, without the sampling profile (the harness fetches that within a budget). */
  whyBaseline(): Promise<void> {
    return this.exclusive(() => this.adapter.whyBaseline());
  }

  whyRetained(runs: number, progress: (done: number, total: number) => void = () => undefined): Promise<WhyRetained> {
    return this.exclusive(() => this.adapter.whyRetained(runs, progress));
  }

  retained(): Promise<RetainedReading> {
    return this.exclusive(() => this.adapter.retained());
  }

  /** The sampling profile as it stands, without a GC (the harness ran its own). */
  profile(): Promise<RawSamplingProfile> {
    return this.exclusive(() => this.adapter.profile());
  }

  loadHarness(spec: HarnessSpec): Promise<void> {
    return this.adapter.loadHarness(spec);
  }

  /**
   * A statistics poll sent just before the run (it waited behind the reading of the run before)
   * answers while the run is in flight, and the run's reply then waits for our delayed ACK, as in
   * pollWouldDelayRun: the run goes out once the polls in the queue are answered.
   */
  async runHarnessTask(index: number, measure: boolean): Promise<RunTaskResult> {
    await this.queue;
    this.harnessRunStarted = performance.now();
    try {
      return await this.adapter.runHarnessTask(index, measure);
    } finally {
      this.harnessRunStarted = undefined;
    }
  }

  /**
   * Whether a statistics poll now would slow the harness run in flight. A reply sent while the run
   * is still going leaves the run's reply waiting for our delayed ACK (the inspector's socket does
   * not set TCP_NODELAY): +40-50 ms on a run of 10-20 ms, measured in one run in three. Runs longer
   * than HARNESS_POLL_AFTER_MS get their polls, where that wait is a few percent.
   */
  get pollWouldDelayRun(): boolean {
    return this.harnessRunStarted !== undefined && performance.now() - this.harnessRunStarted < HARNESS_POLL_AFTER_MS;
  }

  /** Harness, after warm-up (Node: the Debugger domain off, see `debuggerAlways`). */
  endWarmUp(): Promise<void> {
    return this.exclusive(() => this.adapter.endWarmUp());
  }

  exitHarness(): Promise<void> {
    return this.adapter.exitHarness();
  }

  /** A process attached to without our bootloader: its task marks, installed through the protocol. */
  async installTaskMarks(script: string, gcBudget: number, autoTasks: boolean): Promise<void> {
    if (!this.adapter.installTaskMarks) throw new Error(`task marks cannot be installed in a ${this.runtime} process`);
    await this.adapter.installTaskMarks(script, gcBudget, autoTasks);
  }

  /** The session lets go of the process: what it injected comes out (attach). */
  letGo(): Promise<void> {
    return this.adapter.letGo();
  }

  dispose(): void {
    this.adapter.dispose();
    this.connection?.close();
    this.taskStartedEmitter.dispose();
    this.taskFinishedEmitter.dispose();
    this.taskCountsEmitter.dispose();
    this.checkpointEmitter.dispose();
    this.taskSourceEmitter.dispose();
    this.taskFunctionsEmitter.dispose();
    this.gcEmitter.dispose();
    this.workerEmitter.dispose();
    this.contextDestroyedEmitter.dispose();
    this.uncaughtExceptionEmitter.dispose();
  }
}

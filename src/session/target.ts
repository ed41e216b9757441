/**
 * One profiled process (or worker thread) behind an inspector connection. Hides the differences
 * between V8's inspector and our Python agent: statistics, GC, retained captures, task events.
 */
import { CdpConnection, type CdpClient } from '../cdp/connection';
import type { CheckpointEvent, PythonStats, TaskFinishedEvent, TaskStartedEvent, WorkerInfo } from '../cdp/extraProtocol';
import { openTransport, type Endpoint } from '../cdp/endpoint';
import { WorkerTransport } from '../cdp/transport';
import { Emitter } from '../core/events';
import { isTaskSource } from '../core/taskSources';
import type { HeapStatsPoint, RawSamplingProfile, RuntimeKind, TargetInfo } from '../core/model';
import { checkpointReply, readRss, unknownScripts, validCounts } from './targetReplies';

export interface ScriptInfo {
  url: string;
  sourceMapURL?: string;
}

export interface TargetOptions {
  samplingIntervalBytes: number;
  /**
   * Enable the Debugger domain from the start (harness: loading and warm-up), until
   * `disableDebugger()`; after that it is enabled only to learn scripts a profile names that were
   * not seen yet. Workers enable it the same way, only for such a capture: enabled, it costs a running worker ~5%,
   * every Runtime.evaluate ~45 ms more on a 22 MiB heap, and enabling replays every script's sourceMapURL.
   */
  debuggerAlways?: boolean;
  /** Python: trace one task in K (worker mode). */
  pythonSampleEvery?: number;
  /** Python: measure (gc.collect) after every task. */
  pythonGcPerTask?: boolean;
  /** Python: malloc_trim(0) after the session's full GCs, to measure allocator high water (opt-in: it changes the process). */
  pythonMallocTrim?: boolean;
}

export interface CaptureResult {
  profile: RawSamplingProfile;
  /**
   * What the process retains after the GC. Node: the V8 heap without compiled code, plus memory
   * outside the heap held by JS objects (Buffers, ArrayBuffers). Python: traced memory.
   */
  retainedAfterGc: number;
  /** Node: the part of `retainedAfterGc` outside the V8 heap, when the bootloader could say. */
  outsideHeapAfterGc?: number;
  /** Node: compiled code after the GC (left out of `retainedAfterGc`), when the bootloader could say. */
  compiledCodeAfterGc?: number;
  sampledTasks?: number;
  totalTasks?: number;
}

/** One reading of a target's statistics: a stats point before it is stamped with time and target. */
export type StatsReading = Omit<HeapStatsPoint, 't' | 'targetId'>;

const BINDING = '__taskmemEmit';
const NODE_MEMORY_EXPRESSION = '(() => { const m = process.memoryUsage(); return [m.heapUsed, m.heapTotal, m.rss, m.external, m.arrayBuffers]; })()';

export class Target {
  readonly scripts = new Map<string, ScriptInfo>();
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
  /** Task marks injected after attaching (letGo takes them out). */
  private marksInstalled = false;
  /** Attach by pid: the session opened this process's inspector, and closes it when it lets go. */
  closeInspectorOnDetach = false;
  readonly onTaskStarted = this.taskStartedEmitter.event;
  readonly onTaskFinished = this.taskFinishedEmitter.event;
  readonly onGc = this.gcEmitter.event;
  /** A worker thread of this target became a target of its own. */
  readonly onWorker = this.workerEmitter.event;
  /** The connection closed: the process (or thread) is gone or detached. */
  readonly onExit = this.exitEmitter.event;
  /** Node: the main script finished; the process waits for us to disconnect (capture-at-exit window). */
  readonly onContextDestroyed = this.contextDestroyedEmitter.event;
  lastCapture: CaptureResult | undefined;
  private exited = false;
  /** Frames or events from the target that could not be understood; the connection stays up. */
  readonly onProtocolError: CdpConnection['onProtocolError'];
  private queue: Promise<void> = Promise.resolve();
  private debuggerOn = false;
  /** Script ids a profile named that the Debugger was asked about once already. */
  private readonly scriptsAskedFor = new Set<string>();
  private lastMallocTrim: PythonStats['mallocTrim'];
  private lastTaskSources: readonly string[] = [];
  private pollCount = 0;
  private lastExternal: { external: number | undefined; arrayBuffers: number | undefined } | undefined;

  private constructor(
    readonly info: TargetInfo,
    readonly client: CdpClient,
    private readonly connection: CdpConnection | undefined,
    private readonly options: TargetOptions,
  ) {
    client.onClose((reason) => {
      this.exited = true;
      this.exitEmitter.fire(reason);
    });
    this.onProtocolError = connection ? connection.onProtocolError : () => ({ dispose: () => undefined });
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

  private static forWorker(parent: Target, sessionId: string, worker: WorkerInfo): Target {
    const transport = new WorkerTransport(parent.client, sessionId);
    const connection = new CdpConnection(transport);
    const info: TargetInfo = {
      id: `${parent.id}/worker-${worker.workerId}`,
      pid: parent.info.pid,
      runtime: 'node',
      title: worker.title || `worker ${worker.workerId}`,
      argv: [worker.url],
      parentId: parent.id,
    };
    return new Target(info, connection, connection, parent.options);
  }

  /** Enables what the session needs, starts the sampler and lets the process run. */
  async initialize(): Promise<void> {
    if (this.runtime === 'python') {
      await this.client.send('Runtime.enable');
      this.client.on('Taskmem.taskStarted', (event) => this.taskStartedEmitter.fire(event));
      this.client.on('Taskmem.taskFinished', (event) => this.taskFinishedEmitter.fire(event));
      this.client.on('Taskmem.taskCounts', (event) => this.taskCountsEmitter.fire(validCounts(event.counts)));
      this.client.on('Taskmem.checkpoint', (event) => this.fireCheckpoint(event));
      this.client.on('Taskmem.gc', (event) => this.gcEmitter.fire(event));
      this.client.on('Taskmem.taskSource', (event) => {
        if (isTaskSource(event.source)) this.taskSourceEmitter.fire(event.source);
      });
      const configure: { sampleEvery?: number; mallocTrim?: boolean } = {};
      if (this.options.pythonMallocTrim) configure.mallocTrim = true;
      if (this.options.pythonSampleEvery !== undefined) configure.sampleEvery = this.options.pythonSampleEvery;
      await this.client.send('Taskmem.configure', configure);
      await this.client.send('HeapProfiler.enable');
      await this.client.send('HeapProfiler.startSampling', { samplingInterval: this.options.samplingIntervalBytes });
      await this.client.send('Runtime.runIfWaitingForDebugger');
      return;
    }
    this.client.on('Debugger.scriptParsed', (event) => {
      if (event.url) this.scripts.set(event.scriptId, { url: event.url, sourceMapURL: event.sourceMapURL || undefined });
    });
    this.client.on('Runtime.bindingCalled', (event) => {
      if (event.name === BINDING) this.handleBinding(event.payload);
    });
    // Only the main context ending means the program is done; vm contexts come and go.
    let mainContextId: number | undefined;
    this.client.on('Runtime.executionContextCreated', (event) => {
      const aux = event.context.auxData as { isDefault?: boolean } | undefined;
      if (mainContextId === undefined && (aux?.isDefault ?? true)) mainContextId = event.context.id;
    });
    this.client.on('Runtime.executionContextDestroyed', (event) => {
      if (event.executionContextId === mainContextId) this.contextDestroyedEmitter.fire();
    });
    this.client.on('NodeWorker.attachedToWorker', (event) => this.attachWorker(event.sessionId, event.workerInfo));
    this.debuggerOn = this.options.debuggerAlways === true;
    await Promise.all([
      this.client.send('Runtime.enable'),
      ...(this.debuggerOn ? [this.client.send('Debugger.enable', {})] : []),
      this.client.send('HeapProfiler.enable'),
      this.client.send('Runtime.addBinding', { name: BINDING }),
    ]);
    await this.client.send('HeapProfiler.startSampling', {
      samplingInterval: this.options.samplingIntervalBytes,
      includeObjectsCollectedByMajorGC: false,
      includeObjectsCollectedByMinorGC: false,
    });
    // Worker threads attach without pausing them: a paused module-loader thread (tsx, --import
    // hooks) deadlocks the main thread that waits for it synchronously. Never fatal.
    await this.client.send('NodeWorker.enable', { waitForDebuggerOnStart: false }).catch(() => undefined);
    await this.client.send('Runtime.runIfWaitingForDebugger');
  }

  private handleBinding(payload: string): void {
    let message: { method?: unknown; params?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    const params = (typeof message.params === 'object' && message.params !== null ? message.params : {}) as Record<string, unknown>;
    const name = typeof params.name === 'string' ? params.name : 'task';
    if (message.method === 'Taskmem.taskStarted') this.taskStartedEmitter.fire({ ...params, name });
    else if (message.method === 'Taskmem.taskFinished') this.taskFinishedEmitter.fire({ ...params, name });
    else if (message.method === 'Taskmem.taskCounts') this.taskCountsEmitter.fire(validCounts(params.counts));
    else if (message.method === 'Taskmem.checkpoint') this.fireCheckpoint(params);
    else if (message.method === 'Taskmem.taskFunctions') {
      const functions = Array.isArray(params.functions) ? params.functions.filter((f): f is string => typeof f === 'string' && f.length <= 200) : [];
      if (functions.length) this.taskFunctionsEmitter.fire({ name, functions: functions.slice(0, 8) });
    } else if (message.method === 'Taskmem.taskSource') {
      if (isTaskSource(params.source)) this.taskSourceEmitter.fire(params.source);
    } else if (message.method === 'Taskmem.gc') this.gcEmitter.fire({ generation: Number(params.generation) || 0, durationMs: Number(params.durationMs) || 0 });
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
    return this.exclusive(() => this.readStats());
  }

  /** Python with --malloc-trim: RSS that malloc_trim(0) returned after the session's full GCs. */
  get mallocTrim(): PythonStats['mallocTrim'] {
    return this.lastMallocTrim;
  }

  /** Python: the hooks that marked tasks in this process (celery, rq, flask, django), as last read. */
  get taskSources(): readonly string[] {
    return this.lastTaskSources;
  }

  private async readStats(): Promise<StatsReading> {
    if (this.runtime === 'python') {
      const stats: PythonStats = await this.client.send('Taskmem.getStats');
      this.lastMallocTrim = stats.mallocTrim ?? undefined;
      if (Array.isArray(stats.taskSources)) this.lastTaskSources = stats.taskSources.filter((source) => typeof source === 'string');
      return {
        heapUsed: stats.tracing ? stats.tracedCurrent : 0,
        heapTotal: stats.tracing ? stats.tracedPeak : 0,
        rss: stats.rss,
        tracedBytes: stats.tracing ? stats.tracedCurrent : undefined,
        allocatedBlocks: stats.allocatedBlocks,
        gcCollections: stats.gcCollections,
      };
    }
    // Most polls run no JavaScript in the target: heap from the inspector (C++), RSS from /proc.
    // Every 10th, and where /proc cannot be read, process.memoryUsage() adds external and array
    // buffers. Fewer evaluations in flight also means fewer at the moment a worker exits.
    const rss = this.info.pid > 0 && this.info.runtime === 'node' ? readRss(this.info.pid) : undefined;
    if (rss !== undefined && this.pollCount++ % 10 !== 0 && this.lastExternal) {
      const usage = await this.client.send('Runtime.getHeapUsage');
      return { heapUsed: usage.usedSize, heapTotal: usage.totalSize, rss, ...this.lastExternal };
    }
    const result = await this.client.send('Runtime.evaluate', { expression: NODE_MEMORY_EXPRESSION, returnByValue: true, silent: true });
    const value = result.result.value as unknown;
    if (!Array.isArray(value) || value.length < 5) throw new Error('unexpected memoryUsage() result');
    const [heapUsed, heapTotal, rssNow, external, arrayBuffers] = value.map(Number);
    this.lastExternal = { external, arrayBuffers };
    return { heapUsed, heapTotal, rss: rssNow, external, arrayBuffers };
  }

  toPoint(t: number, reading: StatsReading): HeapStatsPoint {
    return { t, targetId: this.id, ...reading };
  }

  async collectGarbage(): Promise<void> {
    await this.client.send('HeapProfiler.collectGarbage');
  }

  /** Full GC, then the sampling profile: what is still retained. */
  capture(options: { collect: boolean } = { collect: true }): Promise<CaptureResult> {
    return this.exclusive(() => this.captureNow(options.collect));
  }

  private async captureNow(collect: boolean): Promise<CaptureResult> {
    if (this.runtime === 'python') {
      if (collect) await this.collectGarbage();
      const usage = await this.readStats();
      const result = await this.client.send('HeapProfiler.getSamplingProfile#python');
      this.lastCapture = { profile: result.profile, retainedAfterGc: usage.heapUsed, sampledTasks: result.sampledTasks, totalTasks: result.totalTasks };
      return this.lastCapture;
    }
    const retained = await this.retainedNow(collect);
    const result = await this.client.send('HeapProfiler.getSamplingProfile');
    // Scripts are learned only when the profile names one the session has not seen. Not while the
    // program is ending (the capture at exit, collect=false): enabling the Debugger in a context
    // that is being torn down crashed Node 20 (SIGSEGV, 2 exits in 30).
    if (!this.debuggerOn && collect) await this.learnScripts(result.profile);
    this.lastCapture = { profile: result.profile, ...retained };
    return this.lastCapture;
  }

  /** The process's RSS: from /proc without a round trip where it can be read. */
  async rss(): Promise<number | undefined> {
    const rss = this.info.pid > 0 && this.info.runtime === 'node' ? readRss(this.info.pid) : undefined;
    return rss ?? (await this.stats()).rss;
  }

  /** Node: the full GC and what is retained after it, without the sampling profile (the harness fetches that within a budget). */
  retained(): Promise<Omit<CaptureResult, 'profile'>> {
    return this.exclusive(() => this.retainedNow(true));
  }

  private async retainedNow(collect: boolean): Promise<Omit<CaptureResult, 'profile'>> {
    if (collect) await this.collectGarbage();
    // getHeapUsage answers from C++ without allocating on the JS heap: ±1 KiB where evaluating
    // process.memoryUsage() swings by ±100 KiB.
    if (!collect) return { retainedAfterGc: (await this.client.send('Runtime.getHeapUsage')).usedSize };
    // The GC just run is a checkpoint for the worker's trend (the bootloader adds the task counts).
    // The retained figure leaves out compiled code, which grows for hundreds of runs as V8 optimizes;
    // code space is not touched by the evaluation's own allocations, so the difference stays exact.
    // Both requests go out together (one round trip): the target answers them in order, so the heap
    // is read before the evaluation allocates.
    const [usage, measured] = await Promise.all([
      this.client.send('Runtime.getHeapUsage'),
      this.client.send('Runtime.evaluate', { expression: 'globalThis.__taskmemCheckpoint?.()', silent: true, returnByValue: true }).catch(() => undefined),
    ]);
    const heapUsed = usage.usedSize;
    const reply = checkpointReply(measured?.result.value);
    if (!reply || reply.code >= heapUsed) return { retainedAfterGc: heapUsed };
    return { retainedAfterGc: heapUsed - reply.code + reply.outsideHeap, outsideHeapAfterGc: reply.outsideHeap, compiledCodeAfterGc: reply.code };
  }

  /** Harness, after warm-up: the Debugger domain off (see `debuggerAlways`). */
  async disableDebugger(): Promise<void> {
    if (!this.debuggerOn) return;
    this.debuggerOn = false;
    await this.exclusive(() => this.client.send('Debugger.disable'));
  }

  /** Node: the sampling profile as it stands, without a GC (the harness ran its own). */
  profile(): Promise<RawSamplingProfile> {
    return this.exclusive(async () => {
      const { profile } = await this.client.send('HeapProfiler.getSamplingProfile');
      if (this.options.debuggerAlways && !this.debuggerOn) await this.learnScripts(profile);
      return profile;
    });
  }

  /**
   * Scripts a profile names that scriptParsed has not told us about: enabling the Debugger replays
   * scriptParsed (URL, source map) for every live script, so it is enabled only for such a profile.
   * Enabled, it makes V8 collect source positions for all compiled code and slows every evaluate;
   * around every capture of a worker it was a cost paid for nothing once the scripts were known.
   */
  private async learnScripts(profile: RawSamplingProfile): Promise<void> {
    const unknown = unknownScripts(profile, (scriptId) => this.scripts.has(scriptId) || this.scriptsAskedFor.has(scriptId));
    for (const scriptId of unknown) this.scriptsAskedFor.add(scriptId);
    if (!unknown.size) return;
    await this.client.send('Debugger.enable', {});
    await this.client.send('Debugger.disable').catch(() => undefined);
  }

  /**
   * A process we attached to has no bootloader: its task marks (its own `taskmem:task` channel, HTTP
   * requests) are installed through the inspector. The console's command-line API lends `require`.
   */
  async installTaskMarks(script: string, gcBudget: number, autoTasks: boolean): Promise<void> {
    const defined = await this.client.send('Runtime.evaluate', { expression: script, includeCommandLineAPI: true, silent: true });
    if (defined.exceptionDetails) throw new Error(defined.exceptionDetails.exception?.description?.split('\n')[0] ?? defined.exceptionDetails.text);
    await this.evaluate<string>(`globalThis.__taskmemAttachMarks(${Number(gcBudget)}, ${autoTasks === true})`);
    this.marksInstalled = true;
  }

  /**
   * The session lets go of a process it attached to: the injected marks come out, then the
   * inspector closes if the session opened it (SIGUSR1). inspector.close() waits for open
   * connections to end, so it runs on a timer, after this connection is gone.
   */
  async letGo(): Promise<void> {
    if (this.marksInstalled) {
      this.marksInstalled = false;
      await this.evaluate('globalThis.__taskmemDetachMarks?.()');
    }
    if (this.closeInspectorOnDetach) {
      this.closeInspectorOnDetach = false;
      await this.client.send('Runtime.evaluate', {
        expression: "(() => { const inspector = require('node:inspector'); setTimeout(() => inspector.close(), 100); })()",
        includeCommandLineAPI: true,
        silent: true,
      });
    }
  }

  /** Evaluates an expression in the target (Node), awaiting promises, returning the value. */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.client.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (result.exceptionDetails) {
      const description = result.exceptionDetails.exception?.description ?? result.exceptionDetails.text;
      // The description is the error's stack: its first line is "Name: message".
      const firstLine = description.split('\n')[0] ?? description;
      throw new Error(firstLine.replace(/^Error: /, ''));
    }
    return result.result.value as T;
  }

  dispose(): void {
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
  }
}

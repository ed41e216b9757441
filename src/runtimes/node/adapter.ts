/**
 * A Node process (or worker thread) through V8's inspector. Task marks come from the bootloader
 * through a binding; the retained figure is the heap after a full GC without compiled code, plus
 * what JS objects hold outside the heap.
 */
import type { Protocol } from 'devtools-protocol';
import type { CheckpointReply, RunTaskResult } from '../../cdp/extraProtocol';
import type { HeapStatsPoint, RawSamplingProfile } from '../../core/model';
import { rssSplitNote } from '../../core/memorySplit';
import type { HarnessSpec } from '../../session/api';
import type { AdapterContext, CaptureResult, RetainedReading, RuntimeAdapter, StatsReading } from '../adapter';
import { checkpointReply, collectReply, readRss, unknownScripts } from '../replies';
import type { WhyRetained } from '../../core/why/model';
import { HeapSnapshotReader } from './heapSnapshot';

const BINDING = '__taskmemEmit';
const NODE_MEMORY_EXPRESSION = '(() => { const m = process.memoryUsage(); return [m.heapUsed, m.heapTotal, m.rss, m.external, m.arrayBuffers]; })()';

interface NodeRunResult {
  durationMs: number;
  error?: { message: string; stack?: string };
}

/** How long attaching waits for the program's next turn of its event loop to install the task marks. */
const MARKS_INSTALL_WAIT_MS = 2000;

export class NodeAdapter implements RuntimeAdapter {
  readonly taskSources: readonly string[] = [];
  private debuggerOn = false;
  /** Script ids a profile named that the Debugger was asked about once already. */
  private readonly scriptsAskedFor = new Set<string>();
  /** Task marks injected after attaching (letGo takes them out). */
  private marksInstalled = false;
  /** The harness script is loaded: its own GC replaces the inspector's. */
  private harnessLoaded = false;
  private closeInspectorOnLetGo: boolean;
  private pollCount = 0;
  /** Why retained: the baseline's ids and the later snapshot, read off this thread. */
  private snapshots: HeapSnapshotReader | undefined;
  private lastExternal: { external: number | undefined; arrayBuffers: number | undefined } | undefined;

  constructor(private readonly context: AdapterContext) {
    this.closeInspectorOnLetGo = context.options.closeInspectorOnLetGo === true;
  }

  async initialize(): Promise<void> {
    const { client, sink, scripts, options } = this.context;
    client.on('Debugger.scriptParsed', (event) => {
      if (event.url) scripts.set(event.scriptId, { url: event.url, sourceMapURL: event.sourceMapURL || undefined });
    });
    client.on('Runtime.bindingCalled', (event) => {
      if (event.name === BINDING) this.handleBinding(event.payload);
    });
    // Only the main context ending means the program is done; vm contexts come and go.
    let mainContextId: number | undefined;
    client.on('Runtime.executionContextCreated', (event) => {
      const aux = event.context.auxData as { isDefault?: boolean } | undefined;
      if (mainContextId === undefined && (aux?.isDefault ?? true)) mainContextId = event.context.id;
    });
    client.on('Runtime.executionContextDestroyed', (event) => {
      if (event.executionContextId === mainContextId) sink.contextDestroyed();
    });
    // Node reports an exception to the inspector only when it is fatal (no uncaughtException
    // handler): the program did not finish, whatever the exit looks like afterwards.
    client.on('Runtime.exceptionThrown', (event) => {
      const details = event.exceptionDetails;
      sink.uncaughtException(details.exception?.description ?? details.text);
    });
    client.on('NodeWorker.attachedToWorker', (event) => sink.worker(event.sessionId, event.workerInfo));
    this.debuggerOn = options.debuggerAlways === true;
    await Promise.all([
      client.send('Runtime.enable'),
      ...(this.debuggerOn ? [client.send('Debugger.enable', {})] : []),
      client.send('HeapProfiler.enable'),
      client.send('Runtime.addBinding', { name: BINDING }),
    ]);
    await client.send('HeapProfiler.startSampling', {
      samplingInterval: options.samplingIntervalBytes,
      includeObjectsCollectedByMajorGC: false,
      includeObjectsCollectedByMinorGC: false,
    });
    // Worker threads attach without pausing them: a paused module-loader thread (tsx, --import
    // hooks) deadlocks the main thread that waits for it synchronously. Never fatal.
    await client.send('NodeWorker.enable', { waitForDebuggerOnStart: false }).catch(() => undefined);
    await client.send('Runtime.runIfWaitingForDebugger');
  }

  private handleBinding(payload: string): void {
    let message: { method?: unknown; params?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    const { sink } = this.context;
    const params = (typeof message.params === 'object' && message.params !== null ? message.params : {}) as Record<string, unknown>;
    const name = typeof params.name === 'string' ? params.name : 'task';
    if (message.method === 'Taskmem.taskStarted') sink.taskStarted({ ...params, name });
    else if (message.method === 'Taskmem.taskFinished') sink.taskFinished({ ...params, name });
    else if (message.method === 'Taskmem.taskCounts') sink.taskCounts(params.counts);
    else if (message.method === 'Taskmem.checkpoint') sink.checkpoint(params);
    else if (message.method === 'Taskmem.taskFunctions') {
      const functions = Array.isArray(params.functions) ? params.functions.filter((f): f is string => typeof f === 'string' && f.length <= 200) : [];
      if (functions.length) sink.taskFunctions({ name, functions: functions.slice(0, 8) });
    } else if (message.method === 'Taskmem.taskSource') sink.taskSource(params.source);
    else if (message.method === 'Taskmem.gc') sink.gc({ generation: Number(params.generation) || 0, durationMs: Number(params.durationMs) || 0 });
  }

  quickRss(): number | undefined {
    return this.context.info.pid > 0 ? readRss(this.context.info.pid) : undefined;
  }

  async readStats(): Promise<StatsReading> {
    const { client } = this.context;
    // Most polls run no JavaScript in the target: heap from the inspector (C++), RSS from /proc.
    // Every 10th, and where /proc cannot be read, process.memoryUsage() adds external and array
    // buffers. Fewer evaluations in flight also means fewer at the moment a worker exits.
    const rss = this.quickRss();
    if (rss !== undefined && this.pollCount++ % 10 !== 0 && this.lastExternal) {
      const usage = await client.send('Runtime.getHeapUsage');
      return { heapUsed: usage.usedSize, heapTotal: usage.totalSize, rss, ...this.lastExternal };
    }
    const result = await client.send('Runtime.evaluate', { expression: NODE_MEMORY_EXPRESSION, returnByValue: true, silent: true });
    const value = result.result.value as unknown;
    if (!Array.isArray(value) || value.length < 5) throw new Error('unexpected memoryUsage() result');
    const [heapUsed, heapTotal, rssNow, external, arrayBuffers] = value.map(Number);
    this.lastExternal = { external, arrayBuffers };
    return { heapUsed, heapTotal, rss: rssNow, external, arrayBuffers };
  }

  /** Our own full GC where the process has one (ownCollect), else the inspector's. */
  async collectGarbage(): Promise<void> {
    if (!(await this.ownCollect())) await this.context.client.send('HeapProfiler.collectGarbage');
  }

  /**
   * A full GC of ours and the reading after it, in one round trip: the harness's, or the bootloader's
   * (launch/taskMarks: `__taskmemCollect`, in worker mode with a GC budget and in attached
   * processes). Undefined where neither is installed. The inspector's GC is a low-memory notification
   * that left the task's hot code cold after each capture.
   */
  private async ownCollect(): Promise<RetainedReading | undefined> {
    if (this.harnessLoaded) return this.harnessCollect();
    const reply = await this.context.client
      .send('Runtime.evaluate', { expression: 'globalThis.__taskmemCollect?.()', silent: true, returnByValue: true })
      .catch(() => undefined);
    const parsed = collectReply(reply?.result.value);
    return parsed && retainedReading(parsed.usedHeap, parsed.checkpoint);
  }

  async capture(collect: boolean): Promise<CaptureResult> {
    const retained = await this.retainedNow(collect);
    const result = await this.context.client.send('HeapProfiler.getSamplingProfile');
    // Scripts are learned only when the profile names one the session has not seen. Not while the
    // program is ending (the capture at exit, collect=false): enabling the Debugger in a context
    // that is being torn down crashed Node 20 (SIGSEGV, 2 exits in 30).
    if (!this.debuggerOn && collect) await this.learnScripts(result.profile);
    return { profile: result.profile, ...retained };
  }

  retained(): Promise<RetainedReading> {
    return this.retainedNow(true);
  }

  /** The harness's full GC and its reading of the heap right after it, in one round trip. */
  private async harnessCollect(): Promise<RetainedReading> {
    const reply = collectReply(await this.evaluate<unknown>('globalThis.__taskmemHarness.collect()'));
    if (!reply) throw new Error('the harness did not report the heap after its GC');
    return retainedReading(reply.usedHeap, reply.checkpoint);
  }

  async whyBaseline(): Promise<void> {
    this.snapshots ??= new HeapSnapshotReader(this.context.client);
    await this.snapshots.baseline();
  }

  /** V8 keeps an object's snapshot id for its life in one process: ids the baseline lacks are new. */
  async whyRetained(runs: number, progress: (done: number, total: number) => void): Promise<WhyRetained> {
    if (!this.snapshots) throw new Error('no baseline heap snapshot was taken');
    try {
      return await this.snapshots.explain(runs, progress);
    } finally {
      this.snapshots.dispose();
      this.snapshots = undefined;
    }
  }

  private async retainedNow(collect: boolean): Promise<RetainedReading> {
    const { client } = this.context;
    const own = collect ? await this.ownCollect() : undefined;
    if (own) return own;
    if (collect) await this.context.client.send('HeapProfiler.collectGarbage');
    // getHeapUsage answers from C++ without allocating on the JS heap: ±1 KiB where evaluating
    // process.memoryUsage() swings by ±100 KiB.
    if (!collect) return { retainedAfterGc: (await client.send('Runtime.getHeapUsage')).usedSize };
    // The GC just run is a checkpoint for the worker's trend (the bootloader adds the task counts).
    // The retained figure leaves out compiled code, which grows for hundreds of runs as V8 optimizes;
    // code space is not touched by the evaluation's own allocations, so the difference stays exact.
    // The heap is read before the evaluation allocates. One after the other, not pipelined: Node's
    // inspector socket does not set TCP_NODELAY, so the second of two replies written back to back
    // waited for our delayed ACK, ~40 ms on Linux (measured: 42-48 ms for this pair on a 4 MB heap,
    // 1-2 ms in sequence), more than the GC itself in the harness's every run.
    const usage = await client.send('Runtime.getHeapUsage');
    const measured = await client
      .send('Runtime.evaluate', { expression: 'globalThis.__taskmemCheckpoint?.()', silent: true, returnByValue: true })
      .catch(() => undefined);
    return retainedReading(usage.usedSize, checkpointReply(measured?.result.value));
  }

  async profile(): Promise<RawSamplingProfile> {
    const { profile } = await this.context.client.send('HeapProfiler.getSamplingProfile');
    if (this.context.options.debuggerAlways && !this.debuggerOn) await this.learnScripts(profile);
    return profile;
  }

  /**
   * Scripts a profile names that scriptParsed has not told us about: enabling the Debugger replays
   * scriptParsed (URL, source map) for every live script, so it is enabled only for such a profile.
   * Enabled, it makes V8 collect source positions for all compiled code and slows every evaluate;
   * around every capture of a worker it was a cost paid for nothing once the scripts were known.
   */
  private async learnScripts(profile: RawSamplingProfile): Promise<void> {
    const { client, scripts } = this.context;
    const unknown = unknownScripts(profile, (scriptId) => scripts.has(scriptId) || this.scriptsAskedFor.has(scriptId));
    for (const scriptId of unknown) this.scriptsAskedFor.add(scriptId);
    if (!unknown.size) return;
    await client.send('Debugger.enable', {});
    await client.send('Debugger.disable').catch(() => undefined);
  }

  async loadHarness(_spec: HarnessSpec): Promise<void> {
    // The harness script (given its task in the environment) sets its global once the bootloader lets it run.
    for (let attempt = 0; attempt < 200; attempt++) {
      const ready = await this.evaluate<boolean>('typeof globalThis.__taskmemHarness === "object"');
      if (ready) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await this.evaluate('globalThis.__taskmemHarness.load()');
    this.harnessLoaded = true;
  }

  async runHarnessTask(_index: number, _measure: boolean): Promise<RunTaskResult> {
    const result = await this.evaluate<NodeRunResult>('globalThis.__taskmemHarness.run()');
    return { durationMs: result.durationMs, error: result.error ? { message: result.error.message, traceback: result.error.stack } : undefined };
  }

  /** The Debugger domain makes every evaluation cost ~45 ms on a 22 MiB heap; scripts loaded from now on are learnt on demand. */
  async endWarmUp(): Promise<void> {
    if (!this.debuggerOn) return;
    this.debuggerOn = false;
    await this.context.client.send('Debugger.disable');
  }

  async exitHarness(): Promise<void> {
    await this.evaluate('globalThis.__taskmemHarness.exit()');
  }

  /**
   * A process we attached to has no bootloader: its task marks (its own `taskmem:task` channel, HTTP
   * requests, BullMQ jobs) are installed through the inspector. The console's command-line API lends
   * `require`.
   *
   * Not in the middle of the program's own JavaScript: an evaluation runs as soon as it arrives, and
   * a program still starting may be halfway through loading a module. Our `require('node:v8')` then
   * loaded Node's heap utilities while `stream` was half loaded ("Class extends value undefined",
   * under CPU load 1 attach in 25), and the session fell back to time windows. The script runs on
   * the program's next turn of the event loop instead, when no load is under way; a program that
   * does not get there soon (a synchronous loop) gets it at once, as before.
   */
  async installTaskMarks(script: string, gcBudget: number, autoTasks: boolean): Promise<void> {
    const install = `globalThis.__taskmemAttachMarks(${Number(gcBudget)}, ${autoTasks === true})`;
    const deferred = `new Promise((resolve, reject) => {
      const load = require;
      setImmediate(() => {
        try {
          new Function('require', ${JSON.stringify(script)})(load);
          resolve(${install});
        } catch (error) {
          reject(error);
        }
      });
    })`;
    const atNextTurn = this.context.client
      .send('Runtime.evaluate', { expression: deferred, includeCommandLineAPI: true, awaitPromise: true, returnByValue: true, silent: true })
      .then((result) => {
        if (result.exceptionDetails) throw evaluationError(result.exceptionDetails);
        return true;
      });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), MARKS_INSTALL_WAIT_MS)));
    const installed = await Promise.race([atNextTurn, late]).finally(() => clearTimeout(timer));
    if (!installed) {
      // The program has not yielded: install now. The deferred one, if it ever runs, finds the marks
      // there (the script defines its entry point once and installs once).
      atNextTurn.catch(() => undefined);
      const defined = await this.context.client.send('Runtime.evaluate', { expression: script, includeCommandLineAPI: true, silent: true });
      if (defined.exceptionDetails) throw evaluationError(defined.exceptionDetails);
      await this.evaluate<string>(install);
    }
    this.marksInstalled = true;
  }

  /**
   * The injected marks come out, then the inspector closes if the session opened it (SIGUSR1).
   * inspector.close() waits for open connections to end, so it runs on a timer, after this
   * connection is gone.
   */
  dispose(): void {
    this.snapshots?.dispose();
    this.snapshots = undefined;
  }

  async letGo(): Promise<void> {
    this.dispose();
    if (this.marksInstalled) {
      this.marksInstalled = false;
      await this.evaluate('globalThis.__taskmemDetachMarks?.()');
    }
    if (this.closeInspectorOnLetGo) {
      this.closeInspectorOnLetGo = false;
      await this.context.client.send('Runtime.evaluate', {
        expression: "(() => { const inspector = require('node:inspector'); setTimeout(() => inspector.close(), 100); })()",
        includeCommandLineAPI: true,
        silent: true,
      });
    }
  }

  /** Where RSS went at the last reading that had it split (V8 heap, outside it, the rest). */
  memoryNote(title: string, points: readonly HeapStatsPoint[]): string | undefined {
    const last = [...points].reverse().find((point) => point.rss !== undefined && point.external !== undefined);
    return last ? rssSplitNote(title, last) : undefined;
  }

  /** Evaluates an expression in the target, awaiting promises, returning the value. */
  private async evaluate<T>(expression: string): Promise<T> {
    const result = await this.context.client.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (result.exceptionDetails) throw evaluationError(result.exceptionDetails);
    return result.result.value as T;
  }
}

/** An evaluation's exception as an Error: the description is the error's stack, its first line "Name: message". */
function evaluationError(details: Protocol.Runtime.ExceptionDetails): Error {
  const description = details.exception?.description ?? details.text;
  const firstLine = description.split('\n')[0] ?? description;
  return new Error(firstLine.replace(/^Error: /, ''));
}

/** The retained figure: the heap without compiled code (V8's, not the task's), plus what Buffers hold outside it. */
function retainedReading(heapUsed: number, reply: CheckpointReply | undefined): RetainedReading {
  if (!reply || reply.code >= heapUsed) return { retainedAfterGc: heapUsed };
  return { retainedAfterGc: heapUsed - reply.code + reply.outsideHeap, outsideHeapAfterGc: reply.outsideHeap, compiledCodeAfterGc: reply.code };
}

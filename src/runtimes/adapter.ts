/**
 * What differs between runtimes, behind one interface. A `RuntimeDescription` says what a runtime
 * is (what it measures, how its harness runs, what the report notes about it) without a process;
 * its `RuntimeAdapter` talks to one process of it. `Target` (src/session/target.ts) keeps what is
 * common (connection, queue, events, worker threads) and delegates to the adapter. A new runtime is
 * a folder here and a line in `registry.ts`.
 */
import type { CdpClient } from '../cdp/connection';
import type { Endpoint } from '../cdp/endpoint';
import type { RunTaskResult, TaskFinishedEvent, TaskStartedEvent, WorkerInfo } from '../cdp/extraProtocol';
import type { HeapStatsPoint, RawSamplingProfile, RetainedSite, RuntimeKind, TargetInfo } from '../core/model';
import type { WhyRetained } from '../core/why/model';
import type { HarnessSpec, SessionOptions } from '../session/api';
import type { LaunchPlan } from '../session/launchPlan';

export interface ScriptInfo {
  url: string;
  sourceMapURL?: string;
}

export interface TargetOptions {
  samplingIntervalBytes: number;
  /**
   * Enable the Debugger domain from the start (harness: loading and warm-up), until the warm-up
   * ends; after that it is enabled only to learn scripts a profile names that were not seen yet.
   * Workers enable it the same way, only for such a capture: enabled, it costs a running worker ~5%,
   * every Runtime.evaluate ~45 ms more on a 22 MiB heap, and enabling replays every script's sourceMapURL.
   */
  debuggerAlways?: boolean;
  /** Attach by pid: the session opened this process's inspector, and closes it when it lets go. */
  closeInspectorOnLetGo?: boolean;
  /** Python: trace one task in K (worker mode). */
  pythonSampleEvery?: number;
  /** Python: malloc_trim(0) after the session's full GCs, to measure allocator high water (opt-in: it changes the process). */
  pythonMallocTrim?: boolean;
}

/** What the process retains after a full GC, without the profile. */
export interface RetainedReading {
  /**
   * Node: the V8 heap without compiled code, plus memory outside the heap held by JS objects
   * (Buffers, ArrayBuffers). Python: traced memory.
   */
  retainedAfterGc: number;
  /** Node: the part of `retainedAfterGc` outside the V8 heap, when the bootloader could say. */
  outsideHeapAfterGc?: number;
  /** Node: compiled code after the GC (left out of `retainedAfterGc`), when the bootloader could say. */
  compiledCodeAfterGc?: number;
}

export interface CaptureResult extends RetainedReading {
  profile: RawSamplingProfile;
  /** How many tasks the profile stands for (Python worker mode: traced, and finished in all). */
  sampledTasks?: number;
  totalTasks?: number;
}

/** One reading of a target's statistics: a stats point before it is stamped with time and target. */
export type StatsReading = Omit<HeapStatsPoint, 't' | 'targetId'>;

/** Where an adapter delivers what its process reports; the target checks shapes and fires its events. */
export interface TargetSink {
  taskStarted(event: TaskStartedEvent): void;
  taskFinished(event: TaskFinishedEvent): void;
  /** Tasks that ended unmeasured, per name (any shape: checked here). */
  taskCounts(raw: unknown): void;
  checkpoint(raw: { heap?: unknown; counts?: unknown; t?: unknown; phase?: unknown }): void;
  taskSource(raw: unknown): void;
  taskFunctions(event: { name: string; functions: string[] }): void;
  gc(event: { generation: number; durationMs?: number }): void;
  /** The program's main context ended; the process waits for us (Node). */
  contextDestroyed(): void;
  /** An exception nothing caught ended (or is ending) the program: its text, as the runtime prints it (Node). */
  uncaughtException(text: string): void;
  /** A worker thread to profile as a target of its own (Node). */
  worker(sessionId: string, worker: WorkerInfo): void;
}

export interface AdapterContext {
  readonly info: TargetInfo;
  readonly client: CdpClient;
  readonly options: TargetOptions;
  readonly sink: TargetSink;
  /** Scripts by id, for source maps (the adapter fills it where the runtime reports scripts). */
  readonly scripts: Map<string, ScriptInfo>;
}

/** One process of a runtime. Calls that measure are serialised by the target (one at a time). */
export interface RuntimeAdapter {
  /** Enables what the session needs, starts the sampler and lets the process run. */
  initialize(): Promise<void>;
  readStats(): Promise<StatsReading>;
  /** RSS read beside the protocol (Linux /proc) without a round trip, where it can be. */
  quickRss(): number | undefined;
  collectGarbage(): Promise<void>;
  /** What is retained (after a full GC when `collect`) and the sampling profile. */
  capture(collect: boolean): Promise<CaptureResult>;
  /** The full GC and what is retained after it, without the profile. */
  retained(): Promise<RetainedReading>;
  /** The sampling profile as it stands, without a GC. */
  profile(): Promise<RawSamplingProfile>;
  /**
   * Why retained: remembers what is alive now (Node: the ids of a heap snapshot; Python: nothing,
   * tracing started with the measured runs). Pauses the process for the snapshot.
   */
  whyBaseline(): Promise<void>;
  /** What the `runs` since the baseline kept and the paths that keep it (pauses the process). */
  whyRetained(runs: number, progress: (done: number, total: number) => void): Promise<WhyRetained>;
  /** Harness: makes the task callable (imports the module). */
  loadHarness(spec: HarnessSpec): Promise<void>;
  /** Harness: one call of the task; `measure` for the measured runs (after the warm-up). */
  runHarnessTask(index: number, measure: boolean): Promise<RunTaskResult>;
  /** Harness: the warm-up is over (Node: the Debugger domain goes off). */
  endWarmUp(): Promise<void>;
  /** Harness: the process may end. */
  exitHarness(): Promise<void>;
  /** The session lets go of the process: what it injected comes out. */
  letGo(): Promise<void>;
  /** Frees what the adapter holds in the session's process (a heap snapshot reader). */
  dispose(): void;
  /** Where the process's memory went, for the report (from its last readings); undefined when nothing to say. */
  memoryNote(title: string, points: readonly HeapStatsPoint[]): string | undefined;
  /** The hooks that marked tasks in this process, as last read (Python: celery, rq, flask, django). */
  readonly taskSources: readonly string[];
  /** A process attached to without our bootloader: install the task marks through the protocol (Node). */
  installTaskMarks?(script: string, gcBudget: number, autoTasks: boolean): Promise<void>;
}

/** How the harness measures each run, as the runtime allows. */
/**
 * When the harness reads the heap for "why it is kept":
 * - `around-measured-runs`: before and after the measured runs, which it explains (Python: the
 *   traced runs' allocations are the starting point).
 * - `extra-runs`: over extra runs after the measured ones. Node: once a heap snapshot exists, V8
 *   tracks every object move so that ids stay stable, which made each run ~1.75× slower (211 against
 *   121 ms per run on the bench's 22 MiB fixture); the measured runs must not pay it.
 */
export type HarnessWhyRuns = 'around-measured-runs' | 'extra-runs';

export type HarnessMeasurement =
  /** Retained bytes after a GC per run; sampling profiles (whose ordinals separate runs) fetched within a time budget. */
  | 'budgeted-profiles'
  /** A retained capture per run; the run's own reply carries its figures. */
  | 'capture-per-run';

/** What the worker-mode notes of a runtime may use. */
export interface RuntimeNoteContext {
  readonly options: SessionOptions;
  /** Task marks were seen (not only time windows). */
  readonly sawTaskMarks: boolean;
  /** The task sources this runtime's targets reported. */
  readonly taskSources: readonly string[];
}

export interface RuntimeDescription {
  readonly kind: RuntimeKind;
  /** For the user: "Node", "Python". */
  readonly label: string;
  /**
   * Where a process that registered (docs/PROTOCOL.md §1) listens, checked: an endpoint, or why the
   * registration is refused. `channel` is the session's token and private directory.
   */
  endpoint(record: Record<string, unknown>, channel: { token: string; dir: string }): Endpoint | string;
  readonly harness: {
    readonly measurement: HarnessMeasurement;
    readonly whyRuns: HarnessWhyRuns;
    /** The command that runs the harness for `spec`. */
    launch(spec: HarnessSpec, options: SessionOptions): LaunchPlan;
  };
  /** Where a retaining site is placed: the allocating function's first line, or the exact line. */
  readonly sitePrecision: RetainedSite['precision'];
  /** Profile samples carry allocation ordinals: sites can count only what was allocated after a boundary. */
  readonly orderedSamples: boolean;
  /** Every task that ends is counted, measured or not, and the report says how many were measured. */
  readonly tracksTaskCounts: boolean;
  /** Tasks named like HTTP requests are the bootloader's own request tasks (they overlap). */
  readonly requestTasksByName: boolean;
  /**
   * A runtime that reports the end of its program (the target's onContextDestroyed) and may then
   * crash at exit through no fault of the program: what the report says when that happened.
   */
  readonly crashAtExitNote?: string;
  /** The task source of a target that marks tasks but named no source. */
  readonly markedTaskSource: string;
  /** Notes for a worker session's report with targets of this runtime. */
  workerNotes(context: RuntimeNoteContext): string[];
  adapter(context: AdapterContext): RuntimeAdapter;
}

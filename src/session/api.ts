/**
 * The public face of a profiling session: what launchers are given and what views (CLI, panel,
 * decorations) listen to. Views never talk to targets; they call these methods.
 */
import type { SessionWhy } from '../core/why/model';
import type { WhyStep } from './onDemandWhy';
import type { Event } from '../core/events';
import type { HeapStatsPoint, RawSamplingProfile, RuntimeKind, SessionMark, TargetInfo, TaskSummary } from '../core/model';
import type { Checkpoint } from '../core/workerTrend';
import type { TaskmemReport } from '../core/report';
import type { SiteAggregation } from '../core/sites';

export interface HarnessSpec {
  /** Absolute path of the module that exports the task. */
  file: string;
  exportName: string;
  runs: number;
  warmup: number;
  /** Passed to every call. */
  args: unknown[];
  runtime: RuntimeKind;
  /**
   * Find what keeps the memory the runs kept (Node: two heap snapshots; Python: a referrer walk).
   * `auto`: unless the heap after the warm-up is so large that a snapshot would pause for long.
   */
  why?: boolean | 'auto';
}

export interface AttachSpec {
  /** ws://127.0.0.1:PORT/ID, or an http://host:port that serves /json/list. */
  url?: string;
  port?: number;
  /** A Node process whose inspector is opened with SIGUSR1. */
  pid?: number;
}

export type SessionMode = 'harness' | 'worker' | 'attach';

export interface SessionOptions {
  mode: SessionMode;
  /** Worker mode: the command line (argv) to run; run through the shell when `shell` is set. */
  command?: string[];
  shell?: boolean;
  harness?: HarnessSpec;
  attach?: AttachSpec;
  cwd: string;
  env?: Record<string, string>;
  /** Heap statistics polling interval (default 100 ms). */
  statsIntervalMs?: number;
  /** Sampling heap profiler interval in bytes. */
  samplingIntervalBytes?: number;
  /** Set --no-turbo-inlining so allocations are credited to the function that made them. */
  preciseAttribution?: boolean;
  /** Worker mode: stop after this many seconds. */
  durationSec?: number;
  /** Worker mode: stop after this many finished tasks. */
  maxTasks?: number;
  /** Memory one worker child may use, bytes, for the recycling advisor (else the cgroup limit, else RAM per child). */
  memoryLimitBytes?: number;
  /** Worker mode without task marks: the length of the fixed windows that stand in for tasks. */
  windowMs?: number;
  /**
   * Node worker mode: the share of wall time (0..1) that the full GCs around sampled tasks may
   * take; tasks are measured while it allows (default 0.02). 1 measures every task.
   */
  taskGcBudget?: number;
  /**
   * Node: HTTP requests (Express and Fastify routes included) and BullMQ jobs become tasks without
   * code changes (default true); false leaves only the program's own taskmem:task marks.
   */
  autoTasks?: boolean;
  /**
   * Worker and attach: read the heap after the first task finished and again at the end, and explain
   * what the tasks in between kept (why retained; each reading pauses the process).
   */
  why?: boolean;
  /** Python interpreter for Python harnesses (default `python3`). */
  pythonPath?: string;
  /** Python worker mode: trace one task in K. */
  pythonSampleEvery?: number;
  /** Python workers: malloc_trim(0) after each full GC the session runs, to measure allocator high water (opt-in). */
  pythonMallocTrim?: boolean;
  /** Where the target's stdout/stderr go; default: passed through to ours. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface SessionProgress {
  message: string;
  done?: number;
  total?: number;
}

export type SessionState = 'starting' | 'running' | 'stopping' | 'ended';

export interface SessionEvents {
  readonly onTarget: Event<TargetInfo>;
  readonly onTargetExit: Event<TargetInfo>;
  readonly onStats: Event<HeapStatsPoint>;
  readonly onMark: Event<SessionMark>;
  /** A retained capture was analysed (sites updated). */
  readonly onCapture: Event<SiteAggregation>;
  /** A task's summary changed (a run finished). */
  readonly onTask: Event<TaskSummary>;
  /** A task row no longer stands (a row of names judged together, once they can be told apart). */
  readonly onTaskRemoved: Event<string>;
  readonly onProgress: Event<SessionProgress>;
  /** A problem worth showing the user (a target crashed, a capture failed); the session goes on. */
  readonly onWarning: Event<string>;
  readonly onStateChange: Event<SessionState>;
  /** Worker and attach: a new explanation of what the tasks kept (why retained). */
  readonly onWhy: Event<SessionWhy>;
  /** Fired once with the final report. */
  readonly onEnded: Event<TaskmemReport>;
}

/** What a session has gathered so far, for a view that opens late (a panel reopened by the user). */
export interface SessionHistory {
  /** Epoch ms when the session started; stats and marks are relative to it. */
  readonly startedAt: number;
  statsPoints(): HeapStatsPoint[];
  readonly marks: readonly SessionMark[];
  taskSummaries(): TaskSummary[];
  /** Worker sessions: each target's full GCs with the tasks finished by then (the trend's points). */
  checkpointsByTarget(): ReadonlyMap<string, readonly Checkpoint[]>;
}

export interface ProfilingSessionApi extends SessionEvents, SessionHistory {
  readonly id: string;
  readonly options: SessionOptions;
  readonly state: SessionState;
  readonly targets: readonly TargetInfo[];
  /** Why the session failed (bad input, a crash); undefined while running or when it ended normally. */
  readonly failureReason: string | undefined;
  /** Tasks finished so far, measured or not (unmeasured ones arrive as counts, without a mark each). */
  readonly finishedTasks: number;
  /** The end of what the launched command printed (8 KiB; empty for the harness and attach). */
  readonly lastOutput: string;
  /**
   * The first exception that ended a profiled program, as its runtime reported it (Node: before it
   * prints it, so it survives a crash at exit that the printed text does not).
   */
  readonly programError: string | undefined;
  /** Resolves with the final report when the session ends, however it ends. */
  readonly done: Promise<TaskmemReport>;
  start(): Promise<void>;
  /** Stops capturing, kills what the session launched (the whole process tree), returns the report. */
  stop(reason?: string): Promise<TaskmemReport>;
  captureNow(): Promise<void>;
  collectGarbage(): Promise<void>;
  /**
   * Worker and attach: the first call reads the heap (a baseline), the next explains what the tasks
   * finished since kept. Each pauses the process for a heap snapshot.
   */
  whyRetained(): Promise<WhyStep>;
  /** The report as of now (also while running). */
  report(): TaskmemReport;
  /** The last retained profile of each target, merged, for `.heapprofile` export. */
  heapProfile(): RawSamplingProfile | undefined;
}

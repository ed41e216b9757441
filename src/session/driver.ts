/**
 * The two sides of a session and the part that decides when tasks run and when to capture (the
 * harness, worker mode, attach): what the session asks of a driver, and what a driver may ask of
 * its session. Drivers see only `DriverHost`, never the session's own state.
 */
import type { HeapStatsPoint, RawSamplingProfile, SessionMark, TargetInfo, TaskSummary } from '../core/model';
import type { TaskmemReport } from '../core/report';
import type { SiteAggregation } from '../core/sites';
import type { SessionOptions, SessionProgress, SessionState } from './api';
import type { Target } from './target';
import type { TaskTracker } from './taskTracker';
import type { TargetOptions } from '../runtimes/adapter';

export interface SessionDriver {
  /** Subscribes to a new target's task and GC events (before it is released to run). */
  watch(target: Target): void;
  /** The main loop; resolves when the driver has nothing more to do. */
  run(): Promise<void>;
  commandExited(how: string, code: number | null): Promise<void>;
  captureAll(reason: string): Promise<void>;
  finalCapture(): Promise<void>;
  notes(): string[];
  /** Worker and attach: where the tasks came from (marks, HTTP requests, jobs, time windows). */
  taskSource?(): string | undefined;
  dispose(): void;
}

/** What a driver may read of its session and tell it. */
export interface DriverHost {
  readonly options: SessionOptions;
  readonly state: SessionState;
  readonly targets: readonly TargetInfo[];
  readonly samplingIntervalBytes: number;
  /** Per-task figures: drivers feed it harness runs, worker checkpoints and measured tasks. */
  readonly tasks: TaskTracker;
  /** ms since the session started. */
  now(): number;
  /** The targets connected now. */
  liveTargetList(): Target[];
  /** The statistics gathered from one target so far. */
  statsPointsOf(targetId: string): readonly HeapStatsPoint[];
  /** Samples in the latest retained captures (too few cannot name sites). */
  retainedSampleCount(): number;
  mark(mark: SessionMark): void;
  warn(message: string): void;
  progress(progress: SessionProgress): void;
  taskUpdated(summary: TaskSummary): void;
  /** A row that no longer stands (names judged together that can now be told apart). */
  taskRemoved(name: string): void;
  /** Analyses a target's retained capture; `progress` is the run or task count it was taken at. */
  recordCapture(target: Target, profile: RawSamplingProfile, progress: number, minOrdinalExclusive?: number): Promise<SiteAggregation | undefined>;
  /** The sites of the latest analysed capture. */
  currentSites(): SiteAggregation | undefined;
  waitForHarnessTarget(): Promise<Target>;
  addTarget(target: Target, isHarness?: boolean, alreadyInitialized?: boolean): Promise<void>;
  /** How to connect to a process that registered (a Python agent's socket): sampling and the agent's settings. */
  targetOptions(): TargetOptions;
  stop(reason?: string): Promise<TaskmemReport>;
  fail(reason: string): Promise<TaskmemReport>;
}

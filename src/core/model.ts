/**
 * The profile model shared by the engine, the CLI and the extension. Pure data: no I/O, no `vscode`.
 *
 * Shapes that come from a target (Node through V8's inspector, Python through our agent) follow the
 * Chrome DevTools Protocol's sampling heap profile, so one analysis serves both runtimes.
 */

/** A frame as the inspector reports it: 0-based line and column, `url` a path or file URL. */
import type { PersistenceProbe } from './persistence';
import type { WhyRetained } from './why/model';

export interface RawCallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

export interface RawProfileNode {
  callFrame: RawCallFrame;
  selfSize: number;
  id: number;
  children: RawProfileNode[];
}

export interface RawSample {
  size: number;
  nodeId: number;
  ordinal: number;
}

/** `HeapProfiler.getSamplingProfile`'s result (DevTools Protocol `SamplingHeapProfile`). */
export interface RawSamplingProfile {
  head: RawProfileNode;
  samples: RawSample[];
}

/** Runtime of a target; decides line precision (V8 attributes per function, tracemalloc per line). */
export type RuntimeKind = 'node' | 'python';

/** Where an original source position came from after source maps. */
export interface SourcePosition {
  /** Absolute path (or URL when it is not a file). */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** Maps a generated position to the original source; returns undefined when there is no map. */
export interface SourceMapper {
  /** `line` and `column` are 0-based, as in the inspector's call frames. */
  original(scriptId: string, url: string, line: number, column: number): (SourcePosition & { name?: string }) | undefined;
}

/** How a frame is classified for grouping. */
export type FrameCategory = 'user' | 'dependency' | 'runtime' | 'profiler';

export interface Frame {
  function: string;
  /** Absolute path or URL; empty for frames without a script. */
  file: string;
  /** 1-based. For Node this is the function's first line (V8 attributes per function). */
  line: number;
  column: number;
  category: FrameCategory;
}

/** A retaining site: memory that is still reachable after a full GC, grouped by function and line. */
export interface RetainedSite {
  /** Stable key: `file:line:function`. */
  key: string;
  function: string;
  file: string;
  /** 1-based line in the original source. */
  line: number;
  column: number;
  category: FrameCategory;
  /** `function`: the line is the function's start (Node); `line`: exact allocating line (Python). */
  precision: 'function' | 'line';
  retainedBytes: number;
  /** Number of samples (Node) or blocks (Python) behind the figure. */
  count: number;
  /** Fraction of all retained bytes in the profile, 0..1. */
  share: number;
  /** Growth of this site per measured run (least squares over captures), bytes; undefined when unknown. */
  bytesPerRun?: number;
  /** The heaviest allocation stacks through this site, innermost frame first. */
  stacks: SiteStack[];
  /** Lines in user code that call into this site (from its stacks), heaviest first. */
  callers: CallerLine[];
}

export interface SiteStack {
  frames: Frame[];
  bytes: number;
}

export interface CallerLine {
  function: string;
  file: string;
  line: number;
  /** The site's function name, for "→ 3.1 MB via enrich()". */
  via: string;
  bytes: number;
}

export type VerdictKind = 'leak' | 'plateau' | 'no-leak' | 'allocator-high-water' | 'inconclusive';

/** Where a leak's memory lives: the runtime's heap, outside it but held by its objects (Node Buffers), or in native code. */
export type LeakMemory = 'heap' | 'outside-heap' | 'native';

export interface Verdict {
  kind: VerdictKind;
  /** For a leak: where the growing memory lives, when the measurement can tell. */
  memory?: LeakMemory;
  /** 0..1: how sure the statistics are. */
  confidence: number;
  /** One sentence: what is going on. */
  summary: string;
  /** What to try next. */
  advice: string;
  /** The figures behind it, human-readable. */
  evidence: string[];
}

/** The fit of retained bytes against run index. */
export interface GrowthFit {
  /** Bytes per run. */
  slope: number;
  /** Standard error of the slope. */
  slopeStdErr: number;
  intercept: number;
  /** Coefficient of determination, 0..1. */
  rSquared: number;
  /** Number of points fitted. */
  n: number;
  /** Residual standard deviation, bytes. */
  residualStdDev: number;
}

/** One measured run of a task: what the heap held after it and a full GC. */
export interface TaskRun {
  /**
   * 0-based: the run's number in a harness (a long session reads one run in several, so there may
   * be gaps), else the index among the measured runs (tasks) of this task.
   */
  index: number;
  /** Live heap after the run and a full GC (Node: heapUsed; Python: traced or block-estimated bytes). */
  retainedBytes: number;
  /** Resident set size after the run, when known. */
  rssBytes?: number;
  /** Node: the part of `retainedBytes` outside the V8 heap (Buffers, ArrayBuffers), when known. */
  outsideHeapBytes?: number;
  /**
   * Node: bytes of compiled code (V8's code spaces) after the run and the GC, left out of
   * `retainedBytes`; while it still grows, V8 is still compiling the task. When known.
   */
  compiledCodeBytes?: number;
  /**
   * Python: RSS after the run, a full GC and `malloc_trim(0)`, less what tracemalloc traces and its
   * own bookkeeping: memory that C code (extensions, ctypes, the allocator) holds. When known.
   */
  untracedBytes?: number;
  /** Python: RSS that `malloc_trim(0)` returned to the OS after this run (allocator high water), when measured. */
  trimmedBytes?: number;
  /** Bytes allocated during this run and still alive after it (sampling, by ordinal); when known. */
  keptByRun?: number;
  /** Python workers: what persistence probes of this name found still referenced some tasks after a traced run (bytes). */
  persistence?: readonly PersistenceProbe[];
  durationMs: number;
  targetId?: string;
  /** Which runtime measured it: allocator high water is judged from RSS for Python only (a Node harness's RSS grows with the inspector and V8's reservations). */
  runtime?: RuntimeKind;
}

export interface TaskSummary {
  name: string;
  runs: number;
  /** Growth per run of retained bytes (slope), bytes. */
  bytesPerRun: number;
  fit: GrowthFit | undefined;
  verdict: Verdict;
  series: TaskRun[];
  /** Runs traced for attribution (Python task sampling); equal to runs when all are. */
  sampledRuns?: number;
  /** Standard error of `bytesPerRun`, when the method that produced it knows one. */
  growthStdErr?: number;
  /** What keeps the memory the runs kept (harness, when it was asked for). */
  why?: WhyRetained;
}

/** One point of the live statistics stream. */
export interface HeapStatsPoint {
  /** ms since the session started. */
  t: number;
  targetId: string;
  /** Node: the V8 heap in use and reserved. Python has no such heap (see `tracedBytes`). */
  heapUsed?: number;
  heapTotal?: number;
  rss?: number;
  external?: number;
  arrayBuffers?: number;
  /** Python: traced memory (bytes) when tracing, allocated blocks otherwise. */
  tracedBytes?: number;
  allocatedBlocks?: number;
  gcCollections?: number;
}

/** The figures of a statistics point (every field but `t` and `targetId`): one list for the series, the panel and its chart. */
export const HEAP_STATS_FIGURES = [
  'heapUsed',
  'heapTotal',
  'rss',
  'external',
  'arrayBuffers',
  'tracedBytes',
  'allocatedBlocks',
  'gcCollections',
] as const satisfies ReadonlyArray<Exclude<keyof HeapStatsPoint, 't' | 'targetId'>>;
export type HeapStatsFigure = (typeof HEAP_STATS_FIGURES)[number];

export type SessionMarkKind = 'gc' | 'task-start' | 'task-end' | 'capture' | 'target-start' | 'target-exit';

export interface SessionMark {
  t: number;
  targetId: string;
  kind: SessionMarkKind;
  label?: string;
}

export interface TargetInfo {
  id: string;
  pid: number;
  ppid?: number;
  runtime: RuntimeKind;
  title: string;
  argv: string[];
  /** Parent target for worker threads. */
  parentId?: string;
  exitCode?: number | null;
  exitReason?: string;
}

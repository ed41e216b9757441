/**
 * The message protocol between the extension host (src/extension/panel) and the memory panel webview
 * (src/webview). Imported by both sides; types only plus a few pure guards, no `vscode`, no DOM.
 *
 * Host → webview: `init` once per webview load (after `ready`), then incremental messages.
 * Webview → host: `ready`, `command`, `open-site`. Everything from the webview is validated with
 * `parseWebviewMessage` before it is acted on.
 */
import type { SessionWhy, WhyRetained } from '../core/why/model';
import type { FailureView } from '../core/failure';
import type { RecyclingAdvice } from '../core/recyclingAdvisor';
import { median } from '../core/robust';
import {
  HEAP_STATS_FIGURES,
  type HeapStatsFigure,
  type HeapStatsPoint,
  type RetainedSite,
  type SessionMark,
  type TargetInfo,
  type TaskSummary,
  type Verdict,
} from '../core/model';

export type { HeapStatsPoint, SessionMark, TargetInfo, Verdict };

/** The registered view type of the panel (also the serializer key). */
export const PANEL_VIEW_TYPE = 'taskmem.memoryPanel';

/** Bump when the persisted webview state changes shape; older states are ignored. */
export const PANEL_STATE_VERSION = 1;

/** Session lifecycle as the panel shows it (`SessionState` of src/session/api.ts plus `restored`). */
/** A failure without its full text: that stays in the output channel. */
export type PanelFailure = Omit<FailureView, 'detail'>;

export type PanelSessionState = 'starting' | 'running' | 'stopping' | 'ended' | 'restored';

export interface PanelSessionInfo {
  id: string;
  /** Human title: "leaky-worker.js#handleJob". */
  title: string;
  /** Epoch ms of the session start (t = 0 of the charts). */
  startedAt?: number;
  mode?: string;
}

/** One row of the per-task table. A structural subset of `TaskSummary`, plus derived figures. */
export interface PanelTask {
  name: string;
  runs: number;
  /** Growth slope of retained bytes per run (least squares). */
  bytesPerRun: number;
  /** Standard error of `bytesPerRun`, when its method knows one (a worker's trend, a harness series). */
  growthStdErr?: number;
  /** Mean bytes a run allocated and kept (sampling by ordinal), when known. */
  keptPerRun?: number;
  rSquared?: number;
  sampledRuns?: number;
  verdict: Verdict;
  /**
   * Retained memory after each measured run (and a full GC), relative to the first, by run index:
   * the picture of the verdict. Workers: the running total of what the measured tasks kept.
   */
  retained?: { x: number[]; y: number[] };
  /** The growth the verdict stands on, drawn over the later runs: two points (x, y) of `retained`'s scale. */
  fitLine?: { x: [number, number]; y: [number, number] };
  /** What keeps the memory the runs kept (harness). */
  why?: WhyRetained;
}

/**
 * A worker's picture of its verdict: the retained heap after each full GC (a checkpoint) against the
 * tasks finished by then, per process, relative to its first checkpoint, with the growth per task
 * the verdict rows stand on drawn over the later half. The few tasks measured one by one would draw
 * a plateau where the trend over all tasks says leak.
 */
export interface PanelWorkerTrend {
  processes: Array<{
    label: string;
    x: number[];
    y: number[];
    /** The verdict rows' growth per task finished in this process's mix, through the later half. */
    fitLine?: { x: [number, number]; y: [number, number] };
    perTask?: number;
  }>;
}

/** Points per task sent to the panel's per-run chart; longer series keep every k-th run and the last. */
export const RETAINED_POINTS = 600;

export interface PanelFrame {
  function: string;
  file: string;
  line: number;
  category: RetainedSite['category'];
}

export interface PanelStack {
  frames: PanelFrame[];
  bytes: number;
}

/** One row of the retaining-sites table; a structural subset of `RetainedSite`. */
export interface PanelSite {
  key: string;
  function: string;
  file: string;
  line: number;
  column: number;
  category: RetainedSite['category'];
  precision: RetainedSite['precision'];
  retainedBytes: number;
  count: number;
  share: number;
  bytesPerRun?: number;
  stacks: PanelStack[];
}

/** Stats of one target in columnar form (smaller to post and to persist than point objects). */
export interface PanelStatsColumns {
  targetId: string;
  /** ms since session start. */
  t: number[];
  /** Metric name → values aligned with `t`; `null` where the point did not carry the metric. */
  values: Partial<Record<StatsMetric, (number | null)[]>>;
}

/** Metrics the chart can show; every one is optional on a point (Python's have no heapUsed/heapTotal). */
export const STATS_METRICS = HEAP_STATS_FIGURES;
export type StatsMetric = HeapStatsFigure;

export interface PanelSnapshot {
  session: PanelSessionInfo;
  state: PanelSessionState;
  targets: TargetInfo[];
  stats: PanelStatsColumns[];
  marks: SessionMark[];
  tasks: PanelTask[];
  /** Worker sessions with checkpoints: the trend the verdict stands on (drawn instead of per-run series). */
  workerTrend?: PanelWorkerTrend;
  sites: PanelSite[];
  verdict?: Verdict;
  /** Worker sessions: recycling limits from what was measured (the report's `recycling`). */
  recycling?: RecyclingAdvice;
  /** Why the session failed, as the user reads it (the whole text goes to the output channel). */
  failure?: PanelFailure;
  /** A one-line notice (warnings from the session), newest last. */
  warnings?: string[];
  /** Worker and attach: why the memory is kept, when it was asked for. */
  why?: SessionWhy;
}

// ---------------------------------------------------------------------------------------------
// Host → webview

export type HostMessage =
  | ({ type: 'init' } & PanelSnapshot)
  | { type: 'stats'; points: HeapStatsPoint[] }
  | { type: 'mark'; marks: SessionMark[] }
  | { type: 'targets'; targets: TargetInfo[] }
  | { type: 'tasks'; tasks: PanelTask[]; workerTrend?: PanelWorkerTrend }
  | { type: 'sites'; sites: PanelSite[] }
  | { type: 'verdict'; verdict: Verdict | undefined; recycling?: RecyclingAdvice }
  | { type: 'state'; state: PanelSessionState }
  | { type: 'failure'; failure: PanelFailure }
  | { type: 'warning'; message: string }
  | { type: 'why'; why: SessionWhy }
  | { type: 'reveal-site'; key: string }
  | { type: 'reveal-task'; name: string };

/** Every host → webview message type, once: the webview drops anything else. */
export const HOST_MESSAGE_TYPES = [
  'init',
  'why',
  'stats',
  'mark',
  'targets',
  'tasks',
  'sites',
  'verdict',
  'state',
  'failure',
  'warning',
  'reveal-site',
  'reveal-task',
] as const;
// A type added to HostMessage and not here fails to compile.
const everyHostMessageType: Record<HostMessage['type'], true> = Object.fromEntries(HOST_MESSAGE_TYPES.map((t) => [t, true])) as Record<
  (typeof HOST_MESSAGE_TYPES)[number],
  true
>;
void everyHostMessageType;

// ---------------------------------------------------------------------------------------------
// Webview → host

export type PanelCommand = 'stop' | 'capture' | 'gc' | 'why' | 'export' | 'pause' | 'follow';
export const PANEL_COMMANDS: readonly PanelCommand[] = ['stop', 'capture', 'gc', 'why', 'export', 'pause', 'follow'];

export type WebviewMessage = { type: 'ready' } | { type: 'command'; command: PanelCommand } | { type: 'open-site'; file: string; line: number };

/** What the webview persists with `setState` (restored by VS Code after a reload). */
export interface PersistedWebviewState {
  version: typeof PANEL_STATE_VERSION;
  snapshot: PanelSnapshot;
  view: { follow: boolean; paused: boolean; windowMinutes: number; hidden: string[] };
}

/** Validates a message that claims to come from the webview; returns undefined when it is malformed. */
export function parseWebviewMessage(raw: unknown): WebviewMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'command':
      return typeof m.command === 'string' && (PANEL_COMMANDS as readonly string[]).includes(m.command)
        ? { type: 'command', command: m.command as PanelCommand }
        : undefined;
    case 'open-site':
      return typeof m.file === 'string' && m.file.length > 0 && m.file.length < 4096 && typeof m.line === 'number' && Number.isInteger(m.line) && m.line >= 1
        ? { type: 'open-site', file: m.file, line: m.line }
        : undefined;
    default:
      return undefined;
  }
}

/** Validates persisted state (it may come from an older version of the extension). */
export function isPersistedState(raw: unknown): raw is PersistedWebviewState {
  if (typeof raw !== 'object' || raw === null) return false;
  const s = raw as Partial<PersistedWebviewState>;
  return (
    s.version === PANEL_STATE_VERSION &&
    typeof s.snapshot === 'object' &&
    s.snapshot !== null &&
    typeof s.snapshot.session === 'object' &&
    Array.isArray(s.snapshot.stats) &&
    Array.isArray(s.snapshot.tasks) &&
    Array.isArray(s.snapshot.sites)
  );
}

/** Converts a `TaskSummary` (core) into a table row. */
export function toPanelTask(task: TaskSummary): PanelTask {
  const kept = task.series.map((r) => r.keptByRun).filter((v): v is number => typeof v === 'number');
  // A Node worker's task measured between two GCs inside the worker reads a steady offset low (-1 to
  // -3 KiB, README): its median would contradict the trend's growth in the same row, so it is left out.
  const nodeWorker = task.sampledRuns !== undefined && task.series.some((r) => r.targetId !== undefined && !r.targetId.startsWith('python:'));
  return {
    name: task.name,
    runs: task.runs,
    bytesPerRun: task.bytesPerRun,
    ...(task.growthStdErr !== undefined && Number.isFinite(task.growthStdErr) ? { growthStdErr: task.growthStdErr } : {}),
    // The median: one worker task measured between two GCs can be off by ±200 KiB (V8's accounting).
    keptPerRun: kept.length && !nodeWorker ? median(kept) : undefined,
    rSquared: task.fit?.rSquared,
    sampledRuns: task.sampledRuns,
    verdict: task.verdict,
    ...(task.why ? { why: task.why } : {}),
    ...retainedPicture(task),
  };
}

/** The per-run series of a task and the verdict's growth line over its later half. */
function retainedPicture(task: TaskSummary): Pick<PanelTask, 'retained' | 'fitLine'> {
  // Only where every run was measured (the harness): a worker's verdict comes from the trend over all
  // its tasks, and the few measured one by one would draw a picture that contradicts it.
  if (task.sampledRuns !== undefined && task.sampledRuns < task.runs) return {};
  const runs = [...task.series].filter((r) => Number.isFinite(r.retainedBytes)).sort((a, b) => a.index - b.index);
  if (runs.length < 2) return {};
  const base = runs[0].retainedBytes;
  const stride = Math.ceil(runs.length / RETAINED_POINTS);
  const shown = runs.filter((_, i) => i % stride === 0 || i === runs.length - 1);
  const retained = { x: shown.map((r) => r.index), y: shown.map((r) => r.retainedBytes - base) };
  // The verdict's slope through the later half's median point, across the later half.
  const later = runs.slice(Math.floor((runs.length - 1) / 2));
  const xMid = median(later.map((r) => r.index));
  const yMid = median(later.map((r) => r.retainedBytes - base));
  const x0 = later[0].index;
  const x1 = later[later.length - 1].index;
  if (!(x1 > x0) || !Number.isFinite(task.bytesPerRun)) return { retained };
  const at = (x: number): number => yMid + task.bytesPerRun * (x - xMid);
  return { retained, fitLine: { x: [x0, x1], y: [at(x0), at(x1)] } };
}

/** Converts a `RetainedSite` (core) into a table row, keeping at most `maxStacks` stacks of `maxFrames`. */
export function toPanelSite(site: RetainedSite, maxStacks = 3, maxFrames = 24): PanelSite {
  return {
    key: site.key,
    function: site.function,
    file: site.file,
    line: site.line,
    column: site.column,
    category: site.category,
    precision: site.precision,
    retainedBytes: site.retainedBytes,
    count: site.count,
    share: site.share,
    bytesPerRun: site.bytesPerRun,
    stacks: site.stacks.slice(0, maxStacks).map((s) => ({
      bytes: s.bytes,
      frames: s.frames.slice(0, maxFrames).map((f) => ({ function: f.function, file: f.file, line: f.line, category: f.category })),
    })),
  };
}

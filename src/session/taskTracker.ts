/**
 * Per-task series. In the harness every run is measured directly (retained heap after a full GC).
 * In worker mode tasks interleave with other tasks in one heap, so each measured task is charged
 * with the change of the retained heap since the previous measurement in the same target: a clean
 * task next to a leaky one stays flat, and the series of what each task name kept is cumulative.
 * Node workers also report checkpoints (the heap after every full GC and the tasks finished by
 * then); their trend decides the verdict when there are enough of them (core/workerTrend.ts), and
 * the single-task series stays as supporting evidence.
 */
import type { RetainedSite, TaskRun, TaskSummary } from '../core/model';
import type { WhyRetained } from '../core/why/model';
import { keptFigure, PYTHON_WORKER_FLOOR_BYTES, summarizeKeptSeries } from '../core/keptSeries';
import { DEFAULT_FLOOR_BYTES, summarizeTask, type VerdictOptions } from '../core/verdict';
import {
  fitOverallTrend,
  fitWorkerTrends,
  growthConfidence,
  judgeTrend,
  measuredAgrees,
  measuredSeriesDecides,
  type Checkpoint,
  type TaskTrend,
} from '../core/workerTrend';
import {
  groupName,
  groupSummary,
  holderOf,
  NEGATIVE_SHARE_ERRORS,
  notTheHolderVerdict,
  scaleTrend,
  splitGroup,
  undecidedMemberVerdict,
  type GroupContext,
} from './taskGroups';
import { formatBytes, formatBytesPerRun } from '../core/format';

/** Checkpoints kept per target; beyond it every second one is dropped (the trend keeps its span). */
const MAX_CHECKPOINTS = 2048;
/**
 * The smallest growth per task a Node worker's trend stands behind. Clean workers (a bounded LRU
 * cache, temporaries) read a small positive residue when sessions share the machine: over 12
 * sessions run three at a time the whole-session figure ranged from -20 to +56 B per task (mean
 * +14), and one CI run read +61 B at 99%. Twice the largest residue seen; leaks of 512 B per task
 * and more are found 3 times in 3 (bench), so the floor costs only the smallest worker leaks.
 */
const NODE_WORKER_TREND_FLOOR_BYTES = 128;
/** While checkpoints stream in, trends are refitted for firming at most this often. */
const REFIT_MS = 200;
/** A trend needs this many checkpoints in a target before it speaks. */
const MIN_CHECKPOINTS = 5;

interface Firming {
  suspectedAt?: number;
  confirmedAt?: number;
}

const noSites = (): readonly RetainedSite[] => [];

export class TaskTracker {
  private readonly whyByName = new Map<string, WhyRetained>();
  private readonly runs = new Map<string, TaskRun[]>();
  /** Cumulative bytes charged to each task name (worker mode). */
  private readonly charged = new Map<string, number>();
  /** Last retained measurement per target (worker mode). */
  private readonly lastRetained = new Map<string, number>();
  /** Task names whose runs report what each run kept (worker mode), not the heap level. */
  private readonly keptSeries = new Set<string>();
  /** Task names measured by the harness: each run is a reading of the whole heap of its own. */
  private readonly harnessNames = new Set<string>();
  private finishedCount = 0;
  private startedCount = 0;
  private readonly checkpoints = new Map<string, Checkpoint[]>();
  private trendCache: TaskTrend[] | undefined;
  /** Tasks run several at a time (HTTP requests): see noteOverlappingTasks. */
  private overlapping = false;
  /** When the trends were last refitted for firming and group rows (ms). */
  private lastRefit = -Infinity;
  /** The rows of names judged together, as of the last refit. */
  private groupRows: string[] = [];
  private readonly firming = new Map<string, Firming>();
  /** The current sites, to tell which of the names that run in step holds the memory. */
  private sites: () => readonly RetainedSite[] = noSites;
  private readonly handlers = new Map<string, string[]>();

  constructor(
    private readonly verdictOptions: VerdictOptions = {},
    /** Milliseconds, for the pace of refits (tests step it). */
    private readonly clock: () => number = Date.now,
  ) {}

  private get floor(): number {
    return this.verdictOptions.floorBytes ?? DEFAULT_FLOOR_BYTES;
  }

  /** The floor of trend judgements: the method's measured residue in workers (Node 128 B, Python 1 KiB per task). */
  private get trendFloor(): number {
    let floor = this.floor;
    for (const targetId of this.checkpoints.keys()) {
      floor = Math.max(floor, targetId.startsWith('python:') ? PYTHON_WORKER_FLOOR_BYTES : NODE_WORKER_TREND_FLOOR_BYTES);
    }
    return floor;
  }

  /**
   * The tasks overlap (a server handles several requests at once). A request stores what it keeps
   * before it finishes, so the heap at a checkpoint already holds requests still in flight that the
   * counts do not have yet; in the short rows around a measured request, that memory lands on the
   * names that finished instead. The per-name fit can then look precise and be wrong: an Express app
   * whose POST route kept 2.4 KB per request read "GET /health: leak 2,428 B/run, POST: no leak"
   * (1 run in 4). The names are judged as one group, then split by their sites or measured figures.
   */
  noteOverlappingTasks(): void {
    if (this.overlapping) return;
    this.overlapping = true;
    this.trendCache = undefined;
  }

  useSites(sites: () => readonly RetainedSite[]): void {
    this.sites = sites;
  }

  /** The named functions that handled a task name (Taskmem.taskFunctions: an HTTP route's handlers). */
  addHandlers(name: string, functions: readonly string[]): void {
    const known = new Set([...(this.handlers.get(name) ?? []), ...functions]);
    this.handlers.set(name, [...known].slice(0, 8));
  }

  /**
   * A full GC in a worker with the tasks finished by then. Returns the rows whose trend changed, and
   * the rows of names judged together that no longer stand (the sites or the measured tasks now
   * tell the names apart): a view drops those.
   */
  addCheckpoint(targetId: string, checkpoint: Checkpoint): { updated: string[]; removed: string[] } {
    let list = this.checkpoints.get(targetId);
    if (!list) this.checkpoints.set(targetId, (list = []));
    list.push(checkpoint);
    if (list.length > MAX_CHECKPOINTS) this.checkpoints.set(targetId, (list = list.filter((_, i) => i % 2 === 0 || i === list!.length - 1)));
    this.trendCache = undefined;
    const names = Object.keys(checkpoint.counts);
    for (const name of names) this.list(name);
    // A busy worker sends hundreds of checkpoints a second, and a refit walks all of them (and the
    // measured series): refitting on every one stalled the session for seconds (a stop took 17-36 s
    // with every task measured). The views ask for summaries at their own pace; firming is noted here.
    const now = this.clock();
    let removed: string[] = [];
    if (now - this.lastRefit >= REFIT_MS) {
      this.lastRefit = now;
      for (const trend of this.trends()) this.noteFirming(trend);
      const rows = this.unresolvedGroups().map((trend) => groupName(trend.names));
      removed = this.groupRows.filter((row) => !rows.includes(row));
      this.groupRows = rows;
    }
    return { updated: [...names, ...this.groupRows], removed };
  }

  private trends(): TaskTrend[] {
    if (!this.trendCache) {
      const usable = [...this.checkpoints.values()].filter((list) => list.length >= MIN_CHECKPOINTS);
      const perName = fitWorkerTrends(usable);
      const overall = fitOverallTrend(usable);
      // When the worker as a whole grows but the split between names is too uncertain to name one,
      // the names are judged as one group (and the sites tell which of them holds the memory).
      // The split is precise when each name's error is under half the worker's growth per task: a name
      // that kept all of it would then stand about four errors away from one that kept none. Otherwise
      // the names are judged together (a clean worker's split is noise; a leaking one's goes by sites).
      const growth = overall ? (overall.later ?? overall.whole).perTask : 0;
      // A task cannot keep less than nothing for long: a name whose share is far below zero shows a
      // split the checkpoints cannot carry (the others' shares are then too high), however small its error.
      // Nor can the split stand where a name's tasks, measured one by one, clearly disagree with its
      // share: counts that move almost together trade growth between the names (measured: a clean
      // task given +6.4 KiB ± 2.4 KiB per task while its own tasks measured -3 KiB).
      const precise =
        !this.overlapping &&
        perName.length > 0 &&
        perName.every((trend) => {
          const fit = trend.later ?? trend.whole;
          return fit.stdErr <= 0.5 * Math.abs(growth) && fit.perTask > -NEGATIVE_SHARE_ERRORS * fit.stdErr && !this.measuredDisagrees(trend);
        });
      this.trendCache = overall !== undefined && overall.names.length > 1 && !precise ? [overall] : perName;
    }
    return this.trendCache;
  }

  /** A single name's tasks measured one by one give a verdict and a figure far from its trend's share. */
  private measuredDisagrees(trend: TaskTrend): boolean {
    if (trend.names.length !== 1) return false;
    const measured = this.seriesSummary(trend.names[0]);
    if (measured.verdict.kind === 'inconclusive' || measured.growthStdErr === undefined) return false;
    return !measuredAgrees({ perRun: measured.bytesPerRun, stdErr: measured.growthStdErr }, trend.later ?? trend.whole);
  }

  /** "Suspected after 400 tasks, confirmed after 2,000": when the trend first cleared 95% and 99%. */
  private noteFirming(trend: TaskTrend): void {
    const current = trend.later ?? trend.whole;
    const confidence = growthConfidence(current, this.trendFloor);
    for (const name of trend.names) {
      const state = this.firming.get(name) ?? {};
      if (confidence >= 0.95 && state.suspectedAt === undefined) state.suspectedAt = this.finishedCount;
      if (judgeTrend(trend, this.trendFloor).verdict.kind === 'leak' && state.confirmedAt === undefined) state.confirmedAt = this.finishedCount;
      this.firming.set(name, state);
    }
  }

  get finished(): number {
    return this.finishedCount;
  }
  get started(): number {
    return this.startedCount;
  }

  noteStarted(): void {
    this.startedCount++;
  }

  /**
   * Harness: one read run with the retained heap after it; `runNumber` where not every run is read
   * (the runs in between count as finished through addUnmeasured). `counted`: the run was already
   * counted as finished (a reading taken at stop of a run that ran unread).
   */
  addHarnessRun(name: string, run: Omit<TaskRun, 'index'>, runNumber?: number, counted = false): TaskSummary {
    if (!counted) this.finishedCount++;
    this.harnessNames.add(name);
    const list = this.list(name);
    list.push({ ...run, index: runNumber ?? list.length });
    return this.summary(name);
  }

  /**
   * Worker mode: a finished task. `retainedAfterGc` is present when the task was measured; unmeasured
   * tasks only count (their growth lands on the next measured task of that target).
   */
  addWorkerTask(name: string, targetId: string, retainedAfterGc: number | undefined, durationMs: number, rssBytes?: number): TaskSummary | undefined {
    this.finishedCount++;
    if (retainedAfterGc === undefined || !Number.isFinite(retainedAfterGc)) return undefined;
    const previous = this.lastRetained.get(targetId);
    this.lastRetained.set(targetId, retainedAfterGc);
    // The first measurement in a target is its baseline: it includes start-up, not this task.
    if (previous === undefined) return undefined;
    const kept = retainedAfterGc - previous;
    const total = (this.charged.get(name) ?? 0) + kept;
    this.charged.set(name, total);
    const list = this.list(name);
    list.push({ index: list.length, retainedBytes: total, keptByRun: kept, durationMs, rssBytes, targetId });
    return this.summary(name);
  }

  /**
   * Python worker mode: a sampled task reports what it kept itself (traced allocations still alive
   * after the task and gc.collect()); the series is the running total per task name.
   */
  addKeptTask(name: string, targetId: string, kept: number | undefined, durationMs: number, rssBytes?: number, persistence?: TaskRun['persistence']): boolean {
    this.finishedCount++;
    if (kept === undefined || !Number.isFinite(kept)) return false;
    this.keptSeries.add(name);
    const list = this.list(name);
    list.push({ index: list.length, retainedBytes: 0, keptByRun: kept, durationMs, rssBytes, targetId, ...(persistence?.length ? { persistence } : {}) });
    // No summary here: a refit per task stalled busy workers' sessions; the views ask at their pace.
    return true;
  }

  /** Tasks that ended without being measured: they count (for --max-tasks), they have no figures. */
  addUnmeasured(count: number): void {
    this.finishedCount += count;
  }

  /** What keeps a task's memory, once a session asked (harness). */
  setWhy(name: string, why: WhyRetained): void {
    this.whyByName.set(name, why);
  }

  summary(name: string): TaskSummary {
    const why = this.whyByName.get(name);
    const found = this.summaryWithoutWhy(name);
    return why ? { ...found, why } : found;
  }

  private summaryWithoutWhy(name: string): TaskSummary {
    const group = this.unresolvedGroups().find((trend) => groupName(trend.names) === name);
    if (group) return this.groupSummary(group);
    const fromTrend = this.trendSummary(name);
    if (fromTrend) return fromTrend;
    return this.seriesSummary(name);
  }

  /** The verdict from the worker's trend, with the measured runs as supporting evidence. */
  private trendSummary(name: string): TaskSummary | undefined {
    const trend = this.trends().find((t) => t.names.includes(name));
    if (!trend) return undefined;
    const measured = this.seriesSummary(name);
    // A short worker that measured most of its tasks one by one knows a name's growth better than
    // the few checkpoints between them: the more precise of the two figures decides.
    const trendFit = trend.later ?? trend.whole;
    const trendErr = trendFit.stdErr;
    // Tasks measured inside a worker read a steady offset low (a GC inside a task misses what it
    // cannot free yet) and can be far tighter than the trend; compared with themselves they would
    // always decide, and called a 2 KiB leak "-1 KiB per task, no leak" (CI, a paced worker sharing the
    // machine with VS Code). In a group they do not decide on their own either: a dozen heavy-tailed
    // readings cannot carry a whole group's growth (a clean BullMQ job took it); they split it
    // (splitGroup) with their errors counted, or the group's row says it cannot tell.
    // That offset is the method's, common to every name of the worker (measured: +350-500 B on a clean
    // BullMQ job and on the other job alike, tight at ±60-85 B, so the clean one read a leak 1 session
    // in 8). Where other names measured one by one stand beside their own trends, their offset is taken
    // out first. The series' verdict stands on its own error, so the offset's may not exceed it: an
    // offset known to ±600 B (the other name's loose trend) left a clean job's +360 B ± 5 B a leak.
    // (Only asked where the series is tighter than the trend: an offset's error only widens it.) Where
    // other names ran too but no offset can be had (their series say nothing yet, or they were not
    // measured), it is unknown and the series does not decide either.
    const inTask = trend.names.length === 1 && this.measuredInTask(name);
    const tighter = inTask && measured.growthStdErr !== undefined && measured.growthStdErr < trendErr;
    const othersRan = inTask && this.trends().some((other) => other.names.some((member) => member !== name));
    const offset = tighter && othersRan ? this.measuredOffset(name) : undefined;
    const offsetKnown = !othersRan || (offset !== undefined && offset.stdErr <= (measured.growthStdErr ?? 0));
    const seriesErr = measured.growthStdErr;
    const figure =
      seriesErr === undefined ? undefined : { perRun: measured.bytesPerRun - (offset?.perRun ?? 0), stdErr: Math.hypot(seriesErr, offset?.stdErr ?? 0) };
    if (trend.names.length === 1 && measured.verdict.kind !== 'inconclusive' && figure && offsetKnown && measuredSeriesDecides(figure, trendFit)) {
      const decided = offset ? this.seriesSummary(name, offset.perRun) : measured;
      decided.verdict.evidence.push(
        `${measured.runs} task(s) measured one by one decide (±${formatBytes(figure.stdErr)} per task); the trend of ${trend.checkpoints} checkpoints says ${formatBytesPerRun(trendFit.perTask, 'task')} ± ${formatBytes(trendErr)}`,
        ...(offset
          ? [
              `less the offset every name's tasks measured one by one read against its own trend: ${formatBytesPerRun(offset.perRun, 'task')} ± ${formatBytes(offset.stdErr)} (from ${offset.names.join(', ')})`,
            ]
          : []),
      );
      return { ...decided, runs: this.tasksOf(trend, name), sampledRuns: measured.runs, growthStdErr: figure.stdErr };
    }
    let judged = trend;
    let sharedWith = trend.names.filter((other) => other !== name);
    let note: string | undefined;
    if (sharedWith.length && judgeTrend(trend, this.trendFloor).verdict.kind === 'leak') {
      const holder = this.holderOf(trend);
      const share = holder === undefined ? this.splitGroup(trend)?.get(name) : undefined;
      if (holder === name) {
        // The group's growth per task of any of its names, charged to the one whose sites hold it.
        const own = this.tasksOf(trend, name);
        const factor = own > 0 ? trend.tasks / own : 1;
        judged = scaleTrend(trend, factor);
        note = `judged together with ${sharedWith.join(', ')}; its own function is on the stacks of the growing sites, so the worker's growth is charged to it`;
        sharedWith = [];
      } else if (share) {
        judged = share;
        note = `judged together with ${sharedWith.join(', ')}, whose counts move with its own: its share is the worker's growth split by the differences between the names' tasks measured one by one (their common offset cancels)`;
        sharedWith = [];
      } else {
        // Nothing tells which name keeps it (no holder), or another name holds it.
        const verdict = holder === undefined ? undecidedMemberVerdict(trend.names, name) : notTheHolderVerdict(trend.names, name, holder);
        return { ...measured, runs: this.tasksOf(trend, name), sampledRuns: measured.runs, bytesPerRun: 0, growthStdErr: undefined, verdict };
      }
    }
    const { verdict, perTask } = judgeTrend(judged, this.trendFloor, sharedWith);
    if (note) verdict.evidence.push(note);
    const firming = this.firming.get(name);
    if (firming?.suspectedAt !== undefined && verdict.kind === 'leak') {
      verdict.evidence.unshift(
        `leak suspected after ${firming.suspectedAt.toLocaleString('en-US')} tasks` +
          (firming.confirmedAt !== undefined ? `, confirmed after ${firming.confirmedAt.toLocaleString('en-US')}` : ''),
      );
    }
    if (measured.runs > 0)
      verdict.evidence.push(`${measured.runs} task(s) measured one by one: ${formatBytesPerRun(measured.bytesPerRun, 'task')} (supporting)`);
    // The error is the trend's, as the figure is: the measured series' would claim its precision.
    const growthStdErr = (judged.later ?? judged.whole).stdErr;
    return { ...measured, runs: this.tasksOf(trend, name), sampledRuns: measured.runs, bytesPerRun: perTask, growthStdErr, verdict };
  }

  private tasksOf(trend: TaskTrend, name: string): number {
    let total = 0;
    for (const list of this.checkpoints.values()) total += list[list.length - 1]?.counts[name] ?? 0;
    return trend.names.length === 1 ? trend.tasks : total;
  }

  /**
   * What the other names' tasks measured one by one read above their own trends (each alone in its
   * trend, with a series that speaks): the in-task offset, inverse-variance weighted, with its error.
   */
  private measuredOffset(name: string): { perRun: number; stdErr: number; names: string[] } | undefined {
    let weights = 0;
    let weighted = 0;
    const names: string[] = [];
    for (const trend of this.trends()) {
      const [other] = trend.names;
      if (trend.names.length !== 1 || other === name || !this.measuredInTask(other)) continue;
      const measured = this.seriesSummary(other);
      const fit = trend.later ?? trend.whole;
      const variance = (measured.growthStdErr ?? Number.NaN) ** 2 + fit.stdErr ** 2;
      if (measured.verdict.kind === 'inconclusive' || !(variance > 0) || !Number.isFinite(variance)) continue;
      weights += 1 / variance;
      weighted += (measured.bytesPerRun - fit.perTask) / variance;
      names.push(other);
    }
    return weights > 0 ? { perRun: weighted / weights, stdErr: 1 / Math.sqrt(weights), names } : undefined;
  }

  /**
   * Whether a name's figures are tasks measured between two full GCs inside a Node worker, whose
   * offset is the method's and the same for every name. A Python worker's traced figures have no
   * such offset: what one name keeps at its settle and frees later (a value replaced in place) is
   * its own, not another name's.
   */
  private measuredInTask(name: string): boolean {
    const runs = this.runs.get(name) ?? [];
    return this.keptSeries.has(name) && runs.length > 0 && runs.every((run) => !run.targetId?.startsWith('python:'));
  }

  /** `offset`: the in-task offset taken out of every measured task first (worker mode). */
  private seriesSummary(name: string, offset = 0): TaskSummary {
    // Not this.list(): asking about a name (a group row that no longer stands) must not add a task.
    const stored = this.runs.get(name) ?? [];
    const runs = offset ? stored.map((run) => ({ ...run, keptByRun: (run.keptByRun ?? 0) - offset })) : stored;
    if (this.keptSeries.has(name)) return summarizeKeptSeries(name, runs, this.verdictOptions);
    return summarizeTask(name, runs, this.harnessNames.has(name) ? { ...this.verdictOptions, separateReadings: true } : this.verdictOptions);
  }

  summaries(): TaskSummary[] {
    const groups = this.unresolvedGroups().map((trend) => this.groupSummary(trend));
    return [...groups, ...[...this.runs.keys()].map((name) => this.summary(name))];
  }

  /** What the group rules (./taskGroups) read of this tracker. */
  private get groupContext(): GroupContext {
    return {
      keptFigure: (name) => keptFigure((this.runs.get(name) ?? []).flatMap((run) => (run.keptByRun === undefined ? [] : [run.keptByRun]))),
      tasksOf: (trend, name) => this.tasksOf(trend, name),
      sites: this.sites,
      handlers: (name) => this.handlers.get(name) ?? [],
    };
  }

  private holderOf(trend: TaskTrend): string | undefined {
    return holderOf(trend, this.groupContext);
  }

  private splitGroup(trend: TaskTrend): Map<string, TaskTrend> | undefined {
    const split = splitGroup(trend, this.groupContext);
    if (!split) return undefined;
    // A split that cannot tell a name holding all of the group's growth from one holding none says
    // nothing: with a random mix of overlapping HTTP requests it called every route "no leak"
    // (±12 KiB) or a clean one a 34 KiB leak, and under CPU load a clean BullMQ job a 5.8 KB leak
    // (the leaking one -1.3 KB). The group's row says the worker leaks instead. Each share must be
    // that precise at the level the negative shares are judged (99% one-sided).
    const groupFit = trend.later ?? trend.whole;
    for (const [name, share] of split) {
      const own = this.tasksOf(trend, name);
      if (own > 0 && NEGATIVE_SHARE_ERRORS * (share.later ?? share.whole).stdErr > (groupFit.perTask * trend.tasks) / own) return undefined;
    }
    if (![...split.values()].some((share) => judgeTrend(share, this.trendFloor).verdict.kind === 'leak')) return undefined;
    return split;
  }

  private groupSummary(trend: TaskTrend): TaskSummary {
    return groupSummary(trend, this.trendFloor);
  }

  /** Groups of names whose worker grows while neither the checkpoints, the sites nor the measured tasks name one of them. */
  private unresolvedGroups(): TaskTrend[] {
    return this.trends().filter(
      (trend) =>
        trend.names.length > 1 &&
        judgeTrend(trend, this.trendFloor).verdict.kind === 'leak' &&
        this.holderOf(trend) === undefined &&
        this.splitGroup(trend) === undefined,
    );
  }

  /** The checkpoints per target, for the panel's picture of the trend (read-only; the fit is here). */
  checkpointsByTarget(): ReadonlyMap<string, readonly Checkpoint[]> {
    return this.checkpoints;
  }

  hasTasks(): boolean {
    return this.runs.size > 0;
  }

  private list(name: string): TaskRun[] {
    let list = this.runs.get(name);
    if (!list) this.runs.set(name, (list = []));
    return list;
  }
}

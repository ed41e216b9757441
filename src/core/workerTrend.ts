/**
 * Worker verdicts from the process's own trend. One task between two full GCs is noisy in V8
 * (±200 KiB), but every full GC the worker runs is a checkpoint: the retained heap after it and how
 * many tasks of each name had finished by then. Regressing the heap on those cumulative counts
 * gives each task name's growth per task, exact over thousands of tasks at no extra cost. Names
 * whose counts move together (tasks that always run in turn) cannot be told apart by the mix: they
 * form one group, and the sites decide which of them holds the memory.
 */
import { formatBytes, formatBytesPerRun, formatPercent, formatProjection } from './format';
import type { RetainedSite, Verdict } from './model';
import { oneSided } from './robust';
import { collinearGroups, robustFit, type RegressionFit } from './regression';

export { collinearGroups, multipleRegression } from './regression';
import { ADVICE, LEAK_CONFIDENCE, PLATEAU_CONFIDENCE } from './assess';

export interface Checkpoint {
  heap: number;
  /** Tasks finished per name since the process started. */
  counts: Readonly<Record<string, number>>;
  /**
   * 'end': taken by the GC at the end of a measured task. Those read a few KiB below the others
   * (measured: about 3 KiB in a Node worker, whatever the task), so the fit gives them an offset of
   * their own instead of charging it to the tasks measured one by one.
   */
  phase?: 'start' | 'end' | 'capture';
}

/** Growth per task of a group of task names in one fit. */
export interface GroupFit {
  perTask: number;
  stdErr: number;
  df: number;
}

/** The trend of one group of task names (one name unless their counts move together). */
export interface TaskTrend {
  names: string[];
  whole: GroupFit;
  early?: GroupFit;
  later?: GroupFit;
  /** Tasks of these names seen at the last checkpoint, over all targets. */
  tasks: number;
  checkpoints: number;
  /** Checkpoints left out as far off the fit (V8 accounting steps). */
  outliers: number;
  /** Checkpoints read off and back at the next, taken as one step from their neighbours. */
  misread: number;
}

/** Standard errors apart at which one group's growth per task differs from the others' (the overall trend's model). */
const GROUPS_DIFFER_ERRORS = 3;

/** Rows a half of the checkpoints needs before it is judged on its own. */
const MIN_HALF_ROWS = 8;

interface TargetFit {
  groups: string[][];
  whole: GroupFit[];
  early: Array<GroupFit | undefined>;
  later: Array<GroupFit | undefined>;
  /** All names together (fitOverallTrend). */
  overall: { whole: GroupFit | undefined; early: GroupFit | undefined; later: GroupFit | undefined };
  tasks: number[];
  checkpoints: number;
  outliers: number;
  misread: number;
}

/**
 * One process: the change of the retained heap between consecutive checkpoints against the tasks of
 * each name finished in between, through the origin. A measured task gives a row with one task of
 * one name; the stretches between measured tasks give rows with many tasks in the worker's mix.
 * Rows of single tasks tell the names apart even when the mix never changes.
 */
function fitTarget(points: readonly Checkpoint[]): TargetFit | undefined {
  const names = [...new Set(points.flatMap((p) => Object.keys(p.counts)))].filter((name) => {
    const values = points.map((p) => p.counts[name] ?? 0);
    return Math.max(...values) > Math.min(...values);
  });
  if (names.length === 0 || points.length < 3) return undefined;
  const steps: Checkpoint[] = [];
  /** Per step: +1 into an end-of-task checkpoint, -1 out of one (the offset's column). */
  const endShift: number[] = [];
  const isEnd = (p: Checkpoint) => (p.phase === 'end' ? 1 : 0);
  for (let i = 1; i < points.length; i++) {
    const counts: Record<string, number> = {};
    for (const name of names) counts[name] = (points[i].counts[name] ?? 0) - (points[i - 1].counts[name] ?? 0);
    steps.push({ heap: points[i].heap - points[i - 1].heap, counts });
    endShift.push(isEnd(points[i]) - isEnd(points[i - 1]));
  }
  const groups = collinearGroups(steps, names);
  const column = (subset: readonly Checkpoint[], group: readonly string[]) => subset.map((p) => group.reduce((s, name) => s + (p.counts[name] ?? 0), 0));
  const fitColumns = (subset: readonly Checkpoint[], from: number, columns: number[][]) => {
    const shift = endShift.slice(from, from + subset.length);
    const withOffset = shift.some((v) => v !== 0);
    if (subset.length <= columns.length + (withOffset ? 1 : 0)) return undefined;
    return robustFit(
      [...columns, ...(withOffset ? [shift] : [])],
      subset.map((p) => p.heap),
    );
  };
  const fitOn = (
    subset: readonly Checkpoint[],
    from = 0,
  ): { fits: GroupFit[]; overall: GroupFit | undefined; outliers: number; misread: number } | undefined => {
    const columns = groups.map((group) => column(subset, group));
    const fitted = fitColumns(subset, from, columns);
    if (!fitted) return undefined;
    const fits = groups.map((_, i) => ({ perTask: fitted.fit.coef[i], stdErr: fitted.fit.stdErr[i], df: fitted.fit.df }));
    return { fits, overall: overallFit(subset, from, columns, fitted.fit), outliers: fitted.outliers, misread: fitted.misread };
  };
  /**
   * Growth per task of any name. One fit on the total count assumes every name keeps alike; where
   * the groups' own growths clearly differ it is the wrong model: with rows of one measured task
   * each, a leaking name's and a clean one's read +28 KiB and 0 alternately, and the robust refit
   * threw one kind away as outliers (a 28 KiB/task leak read "+100 B/task, levelled off"). Then the
   * groups' growths weighted by their share of the tasks stand instead. Where they do not clearly
   * differ, the total count's fit stands: with names that run in a steady mix the groups' fit trades
   * growth between them and absorbed a misread level the total count's fit repairs.
   */
  const overallFit = (subset: readonly Checkpoint[], from: number, columns: number[][], fit: RegressionFit): GroupFit | undefined => {
    const tasks = columns.map((col) => col.reduce((sum, v) => sum + v, 0));
    const total = tasks.reduce((sum, v) => sum + v, 0);
    if (!(total > 0)) return undefined;
    const weights = tasks.map((n) => n / total);
    const perTask = weights.reduce((sum, w, i) => sum + w * fit.coef[i], 0);
    const differs = columns.some((_, g) => {
      const apart = weights.map((w, h) => (h === g ? 1 : 0) - w);
      return Math.abs(fit.coef[g] - perTask) > GROUPS_DIFFER_ERRORS * fit.sumStdErr(apart);
    });
    return differs ? { perTask, stdErr: fit.sumStdErr(weights), df: fit.df } : totalFit(subset, from);
  };
  const totalFit = (subset: readonly Checkpoint[], from: number): GroupFit | undefined => {
    const fitted = fitColumns(subset, from, [column(subset, names)]);
    return fitted && { perTask: fitted.fit.coef[0], stdErr: fitted.fit.stdErr[0], df: fitted.fit.df };
  };
  const whole = fitOn(steps);
  if (!whole) return undefined;
  // Halves by tasks, not by checkpoints: checkpoints come thick in the first tasks (geometric
  // counts), where warm-up (module loading, compiling) dominates. The first 5% of the tasks are
  // warm-up and left out of the early half, so warm-up does not look like growth that stopped.
  const total = names.reduce((sum, name) => sum + (points[points.length - 1].counts[name] ?? 0) - (points[0].counts[name] ?? 0), 0);
  let done = 0;
  const before: number[] = steps.map((step) => {
    const at = done;
    done += names.reduce((sum, name) => sum + (step.counts[name] ?? 0), 0);
    return at;
  });
  const warm = Math.max(
    0,
    before.findIndex((at) => at >= 0.05 * total),
  );
  let middle = before.findIndex((at) => at >= 0.5 * total);
  // A half needs rows enough to judge its own noise; where the checkpoints after half the tasks are
  // too few (a short run measures few tasks late), the rows after the warm-up are halved by count.
  if (middle < 0 || steps.length - middle < MIN_HALF_ROWS || middle - warm < MIN_HALF_ROWS) middle = warm + Math.floor((steps.length - warm) / 2);
  const judgeable = (fit: ReturnType<typeof fitOn>) => (fit && fit.fits.every((f) => f.df >= MIN_TREND_DF) ? fit : undefined);
  const earlyRows = middle - warm >= MIN_HALF_ROWS ? steps.slice(warm, middle) : undefined;
  const laterRows = steps.length - middle >= MIN_HALF_ROWS ? steps.slice(middle) : undefined;
  const early = earlyRows && judgeable(fitOn(earlyRows, warm));
  const later = laterRows && judgeable(fitOn(laterRows, middle));
  const judgeableTotal = (fit: GroupFit | undefined) => (fit && fit.df >= MIN_TREND_DF ? fit : undefined);
  const last = points[points.length - 1];
  return {
    groups,
    whole: whole.fits,
    early: groups.map((_, i) => early?.fits[i]),
    later: groups.map((_, i) => later?.fits[i]),
    overall: {
      whole: whole.overall ?? totalFit(steps, 0),
      early: earlyRows && judgeableTotal(early?.overall ?? totalFit(earlyRows, warm)),
      later: laterRows && judgeableTotal(later?.overall ?? totalFit(laterRows, middle)),
    },
    tasks: groups.map((group) => group.reduce((s, name) => s + (last.counts[name] ?? 0), 0)),
    checkpoints: points.length,
    outliers: whole.outliers,
    misread: whole.misread,
  };
}

/** Inverse-variance weighted combination of the same group's fits in several processes. */
function combine(fits: ReadonlyArray<GroupFit | undefined>): GroupFit | undefined {
  const present = fits.filter((f): f is GroupFit => f !== undefined && Number.isFinite(f.perTask));
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  // An exact fit (stdErr 0) would take infinite weight; give it the smallest non-zero error seen.
  const smallest = Math.min(...present.map((f) => f.stdErr).filter((e) => e > 0), Infinity);
  const floorErr = Number.isFinite(smallest) ? smallest / 10 : 1;
  let weights = 0;
  let sum = 0;
  for (const fit of present) {
    const w = 1 / Math.max(fit.stdErr, floorErr) ** 2;
    weights += w;
    sum += w * fit.perTask;
  }
  return { perTask: sum / weights, stdErr: Math.sqrt(1 / weights), df: present.reduce((s, f) => s + f.df, 0) };
}

/**
 * The trend of all task names together: growth per task of any name. It stands when the split
 * between names is too uncertain to say which one grows.
 */
export function fitOverallTrend(checkpointsByTarget: ReadonlyArray<readonly Checkpoint[]>): TaskTrend | undefined {
  const fits = checkpointsByTarget.map(fitTarget).filter((fit): fit is TargetFit => fit !== undefined);
  const whole = combine(fits.map((fit) => fit.overall.whole));
  if (!whole) return undefined;
  const early = combine(fits.map((fit) => fit.overall.early));
  const later = combine(fits.map((fit) => fit.overall.later));
  const names = [...new Set(checkpointsByTarget.flatMap((points) => points.flatMap((p) => Object.keys(p.counts))))].sort();
  return {
    names,
    whole,
    ...(early ? { early } : {}),
    ...(later ? { later } : {}),
    tasks: fits.reduce((sum, fit) => sum + fit.tasks.reduce((a, b) => a + b, 0), 0),
    checkpoints: fits.reduce((sum, fit) => sum + fit.checkpoints, 0),
    outliers: fits.reduce((sum, fit) => sum + fit.outliers, 0),
    misread: fits.reduce((sum, fit) => sum + fit.misread, 0),
  };
}

/** Trends per group of task names over all processes' checkpoints. */
export function fitWorkerTrends(checkpointsByTarget: ReadonlyArray<readonly Checkpoint[]>): TaskTrend[] {
  const byKey = new Map<
    string,
    {
      names: string[];
      whole: GroupFit[];
      early: Array<GroupFit | undefined>;
      later: Array<GroupFit | undefined>;
      tasks: number;
      checkpoints: number;
      outliers: number;
      misread: number;
    }
  >();
  for (const points of checkpointsByTarget) {
    const fit = fitTarget(points);
    if (!fit) continue;
    fit.groups.forEach((names, i) => {
      const key = names.join('\u0000');
      const entry = byKey.get(key) ?? { names, whole: [], early: [], later: [], tasks: 0, checkpoints: 0, outliers: 0, misread: 0 };
      entry.whole.push(fit.whole[i]);
      entry.early.push(fit.early[i]);
      entry.later.push(fit.later[i]);
      entry.tasks += fit.tasks[i];
      entry.checkpoints += fit.checkpoints;
      entry.outliers += fit.outliers;
      entry.misread += fit.misread;
      byKey.set(key, entry);
    });
  }
  const trends: TaskTrend[] = [];
  for (const entry of byKey.values()) {
    const whole = combine(entry.whole);
    if (!whole) continue;
    const early = combine(entry.early);
    const later = combine(entry.later);
    trends.push({
      names: entry.names,
      whole,
      ...(early ? { early } : {}),
      ...(later ? { later } : {}),
      tasks: entry.tasks,
      checkpoints: entry.checkpoints,
      outliers: entry.outliers,
      misread: entry.misread,
    });
  }
  return trends;
}

/** A fit with fewer degrees of freedom than this does not call growth: a handful of checkpoints cannot measure their own noise. */
export const MIN_TREND_DF = 6;

export function growthConfidence(fit: GroupFit, floor: number): number {
  return fit.perTask > floor && fit.df >= MIN_TREND_DF ? oneSided(fit.perTask - floor, fit.stdErr, fit.df) : 0;
}

/** Two figures further apart than this many combined standard errors measure different things. */
const DISAGREEMENT_ERRORS = 2.58;

/**
 * Whether a name's tasks measured one by one may decide instead of the worker's trend: only when they
 * are more precise and agree with it. A GC run inside a task cannot free everything and misses backing
 * stores that grow in rare steps, so a tight per-task series can be tight around a biased figure; the
 * trend sees every task's effect on the whole heap, and wins when the two disagree.
 */
export function measuredSeriesDecides(measured: { perRun: number; stdErr: number }, trend: GroupFit): boolean {
  return measured.stdErr < trend.stdErr && measuredAgrees(measured, trend);
}

/**
 * A task measured between two GCs run inside the worker reads a steady offset too (measured: -2.3 KiB
 * on every run of a task that keeps nothing, -1 KiB in a burst): figures this close, relative to
 * their size, agree however small their errors.
 */
const AGREEMENT_SHARE = 0.25;

/** Whether a per-task figure and a trend's agree within their combined errors, or within a quarter of their size. */
export function measuredAgrees(measured: { perRun: number; stdErr: number }, trend: GroupFit): boolean {
  if (!Number.isFinite(measured.stdErr) || !Number.isFinite(trend.stdErr)) return false;
  const combined = Math.hypot(measured.stdErr, trend.stdErr);
  const size = Math.max(Math.abs(measured.perRun), Math.abs(trend.perTask));
  return Math.abs(measured.perRun - trend.perTask) <= Math.max(DISAGREEMENT_ERRORS * combined, AGREEMENT_SHARE * size);
}

/** A name's figure from its tasks measured one by one: growth per task, its error and degrees of freedom, and how many tasks of it ran. */
export interface MeasuredFigure {
  perRun: number;
  stdErr: number;
  df: number;
  tasks: number;
}

/**
 * Each name's growth per task inside a group whose counts move together, from the group's trend and
 * the differences between the names' tasks measured one by one. A task measured between two GCs
 * inside the worker reads a steady offset (the GCs miss the same things whatever the task), so its
 * figures are biased alike: their differences are not. With the tasks' shares w, the group grows by
 * G = Σ w·g per task and a name measures m = g + offset, so g = G + m − Σ w·m. Undefined without a
 * figure for every name. The errors add the trend's to the measured differences', and so do their
 * degrees of freedom (Welch–Satterthwaite): a share that rests on a dozen measured tasks is judged
 * as one that does, not as one that rests on the trend's hundreds of checkpoints.
 */
export function splitByMeasuredDifferences(group: GroupFit, names: readonly MeasuredFigure[]): GroupFit[] | undefined {
  const total = names.reduce((sum, name) => sum + name.tasks, 0);
  if (names.length < 2 || total <= 0 || names.some((name) => !Number.isFinite(name.perRun) || !Number.isFinite(name.stdErr) || !(name.df > 0)))
    return undefined;
  const weights = names.map((name) => name.tasks / total);
  const mean = names.reduce((sum, name, i) => sum + weights[i] * name.perRun, 0);
  return names.map((name, i) => {
    // Var(m_i − Σ w_j m_j) = (1 − w_i)² s_i² + Σ_{j≠i} w_j² s_j², the names measured independently.
    const parts = [
      { variance: group.stdErr ** 2, df: group.df },
      ...names.map((other, j) => ({ variance: (j === i ? (1 - weights[i]) ** 2 : weights[j] ** 2) * other.stdErr ** 2, df: other.df })),
    ];
    const variance = parts.reduce((sum, part) => sum + part.variance, 0);
    const spread = parts.reduce((sum, part) => sum + part.variance ** 2 / part.df, 0);
    const df = spread > 0 ? variance ** 2 / spread : group.df;
    return { perTask: group.perTask + name.perRun - mean, stdErr: Math.sqrt(variance), df };
  });
}

export interface TrendJudgement {
  verdict: Verdict;
  /** Growth per task the verdict stands on (later checkpoints when there are enough). */
  perTask: number;
}

/** Leak, plateau or no leak from a group's trend; the same rules as a measured series. */
export function judgeTrend(trend: TaskTrend, floor: number, sharedWith: readonly string[] = []): TrendJudgement {
  const current = trend.later ?? trend.whole;
  const confidence = growthConfidence(current, floor);
  const earlyConfidence = trend.early ? growthConfidence(trend.early, floor) : 0;
  const tasks = `${trend.tasks.toLocaleString('en-US')} tasks`;
  const evidence = [
    `trend of the retained heap after ${trend.checkpoints.toLocaleString('en-US')} full GCs against the tasks finished: ${formatBytesPerRun(current.perTask)} ± ${formatBytes(current.stdErr)} per task (later half)`,
    `whole session ${formatBytesPerRun(trend.whole.perTask)} ± ${formatBytes(trend.whole.stdErr)}${trend.early ? `, first half ${formatBytesPerRun(trend.early.perTask)}` : ''}`,
    `${formatPercent(confidence)} sure the growth is above ${formatBytes(floor)} per task`,
    tasks,
    ...(trend.outliers ? [`${trend.outliers} checkpoint(s) far off the trend (V8 accounting steps) left out`] : []),
    ...(trend.misread ? [`${trend.misread} checkpoint(s) read off and back at the next, each taken as one step from its neighbours`] : []),
    ...(sharedWith.length
      ? [
          `judged together with ${sharedWith.join(', ')}: the checkpoints cannot split the growth between them precisely (tasks that run in step, or a steady mix)`,
        ]
      : []),
  ];
  const perTask = current.perTask;
  const slowing =
    trend.early !== undefined &&
    earlyConfidence >= LEAK_CONFIDENCE &&
    perTask < 0.5 * trend.early.perTask &&
    oneSided(0.5 * trend.early.perTask - perTask, Math.hypot(current.stdErr, trend.early.stdErr / 2), current.df) >= LEAK_CONFIDENCE;
  if (confidence >= LEAK_CONFIDENCE && !slowing) {
    return {
      perTask,
      verdict: {
        kind: 'leak',
        confidence,
        summary: `The worker's retained heap grows by ${formatProjection(perTask, 'task')} (trend over ${tasks}).`,
        advice: ADVICE.leak,
        evidence,
      },
    };
  }
  // A plateau needs a later half that was measured and did not grow; an unmeasured one says nothing.
  if (trend.later !== undefined && earlyConfidence >= LEAK_CONFIDENCE && (slowing || confidence < 0.5)) {
    const rise = trend.early!.perTask;
    return {
      perTask,
      verdict: {
        kind: 'plateau',
        confidence: Math.min(earlyConfidence, 1 - confidence),
        summary: `Retained heap rose with the first tasks (${formatBytesPerRun(rise, 'task')}), then levelled off (${formatBytesPerRun(perTask, 'task')} over the later checkpoints).`,
        advice: ADVICE.plateau,
        evidence,
      },
    };
  }
  // Growth that is probably there (95%) but not sure enough for a leak (99%) is not "no leak".
  if (confidence >= PLATEAU_CONFIDENCE && !slowing) {
    return {
      perTask,
      verdict: {
        kind: 'inconclusive',
        confidence,
        summary: `Probably growing, not yet sure: ${formatBytesPerRun(perTask, 'task')} ± ${formatBytes(current.stdErr)} over ${tasks} (${formatPercent(confidence)} sure, a leak needs ${formatPercent(LEAK_CONFIDENCE)}).`,
        advice: 'Let the worker run longer (more tasks make the trend surer), or profile the task on its own with Profile Task.',
        evidence,
      },
    };
  }
  return {
    perTask,
    verdict: {
      kind: 'no-leak',
      confidence: Math.max(0.5, current.perTask <= floor ? oneSided(floor - current.perTask, current.stdErr, current.df) : 1 - confidence),
      summary: `No steady growth: ${formatBytesPerRun(perTask, 'task')} ± ${formatBytes(current.stdErr)} over ${tasks}.`,
      advice: ADVICE['no-leak'],
      evidence,
    },
  };
}

/** Letters and digits only, lower case: `record-shipment`, `record_shipment` and `recordShipment` meet. */
function comparable(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Function names a task name may be implemented by (compared loosely): `shop.ingest` → ingest. */
export function taskFunctionNames(task: string): string[] {
  const last =
    task
      .split(/[.:#/\\\s]/)
      .filter(Boolean)
      .pop() ?? task;
  return [...new Set([comparable(task), comparable(last)])].filter(Boolean);
}

/**
 * Of names that run in step, the one whose own function (by its name, or one of the `handlers` the
 * process said ran it) is on the stacks of the growing user sites (at least 80% of their bytes);
 * undefined when none or several share them.
 */
export function attributeBySites(
  names: readonly string[],
  sites: readonly RetainedSite[],
  handlers: (name: string) => readonly string[] = () => [],
): string | undefined {
  const growing = sites.filter((site) => site.category === 'user' && (site.bytesPerRun === undefined || site.bytesPerRun > 0));
  const bytes = names.map((name) => {
    // Its name's words, and the functions that handled it (an HTTP route's named handlers).
    const functions = new Set([...taskFunctionNames(name), ...handlers(name).map(comparable).filter(Boolean)]);
    return growing
      .filter(
        (site) =>
          functions.has(comparable(site.function)) || site.stacks.some((stack) => stack.frames.some((frame) => functions.has(comparable(frame.function)))),
      )
      .reduce((sum, site) => sum + site.retainedBytes, 0);
  });
  // The share is of every growing user site, matched or not: a clean task named like a function
  // whose own site grows by noise ("render") must not take the growth of a site no name matches
  // (a BullMQ "send" job keeping memory in recordDelivery was charged to "render"). A site on
  // several names' stacks counts for each of them, so none of them holds 80%.
  const total = Math.max(
    growing.reduce((sum, site) => sum + site.retainedBytes, 0),
    bytes.reduce((a, b) => a + b, 0),
  );
  if (total <= 0 || !bytes.some((b) => b > 0)) return undefined;
  const best = bytes.indexOf(Math.max(...bytes));
  return bytes[best] >= 0.8 * total ? names[best] : undefined;
}

/**
 * Worker task names whose counts move together (a fixed mix, tasks that run in turn) cannot be told
 * apart by the checkpoints: they form a group with one trend. These rules say which of them holds the
 * group's growth (the sites, the tasks measured one by one), split it between them, or give the
 * group a row of its own when nothing can tell.
 */
import type { RetainedSite, TaskSummary, Verdict } from '../core/model';
import { attributeBySites, judgeTrend, splitByMeasuredDifferences, type GroupFit, type MeasuredFigure, type TaskTrend } from '../core/workerTrend';

/** Standard errors below zero at which a name's share of the growth is not believed (99% one-sided). */
export const NEGATIVE_SHARE_ERRORS = 2.58;

/** What the rules read of the task tracker. */
export interface GroupContext {
  /** What a name's typical task kept, measured one by one (core/keptSeries keptFigure); undefined with too few. */
  keptFigure(name: string): Omit<MeasuredFigure, 'tasks'> | undefined;
  /** Tasks of a name in a trend (its own count when the trend is a group's). */
  tasksOf(trend: TaskTrend, name: string): number;
  sites(): readonly RetainedSite[];
  /** Named functions that handled a task name (HTTP route handlers), as the process said. */
  handlers(name: string): readonly string[];
}

/** Name of the row that stands for names judged together when no site says which one grows. */
export function groupName(names: readonly string[]): string {
  return names.join(' + ');
}

function scaleFit(fit: GroupFit, factor: number): GroupFit {
  return { ...fit, perTask: fit.perTask * factor, stdErr: fit.stdErr * factor };
}

export function scaleTrend(trend: TaskTrend, factor: number): TaskTrend {
  return {
    ...trend,
    whole: scaleFit(trend.whole, factor),
    ...(trend.early ? { early: scaleFit(trend.early, factor) } : {}),
    ...(trend.later ? { later: scaleFit(trend.later, factor) } : {}),
  };
}

/**
 * Which name of a growing group holds the growth: the one whose function is on the growing sites'
 * stacks. Tasks measured one by one no longer name a holder on their own verdict: a dozen
 * heavy-tailed readings made a clean job "the only one that leaks" now and then (CI, and 4 in 300
 * simulated BullMQ workers). They split the growth instead (splitGroup), with their errors counted.
 */
export function holderOf(trend: TaskTrend, context: GroupContext): string | undefined {
  return attributeBySites(trend.names, context.sites(), (name) => context.handlers(name));
}

/**
 * A group's growth split between its names by their tasks measured one by one (core:
 * splitByMeasuredDifferences): every name needs a figure from enough measured tasks, and no share may
 * be far below zero (the names' figures would then not be offset alike). Undefined otherwise. The
 * figures are what each name's typical measured task kept over the whole session, not its series'
 * later half: a split rests on the difference between two such figures, and the later half of a
 * dozen heavy-tailed readings put a clean BullMQ job 2.6 KiB per task above the leaking one (1
 * session in 30).
 */
export function splitGroup(trend: TaskTrend, context: GroupContext): Map<string, TaskTrend> | undefined {
  const figures: MeasuredFigure[] = [];
  for (const name of trend.names) {
    const figure = context.keptFigure(name);
    if (!figure) return undefined;
    figures.push({ ...figure, tasks: context.tasksOf(trend, name) });
  }
  const whole = splitByMeasuredDifferences(trend.whole, figures);
  if (!whole) return undefined;
  const early = trend.early && splitByMeasuredDifferences(trend.early, figures);
  const later = trend.later && splitByMeasuredDifferences(trend.later, figures);
  if ((later ?? whole).some((fit) => fit.perTask < -NEGATIVE_SHARE_ERRORS * fit.stdErr)) return undefined;
  return new Map(
    trend.names.map((name, i) => [
      name,
      {
        ...trend,
        names: [name],
        whole: whole[i],
        ...(early ? { early: early[i] } : { early: undefined }),
        ...(later ? { later: later[i] } : { later: undefined }),
        tasks: figures[i].tasks,
      },
    ]),
  );
}

/** The leak of a group, in a row of its own: the worker leaks, and we say we cannot tell which task. */
export function groupSummary(trend: TaskTrend, floor: number): TaskSummary {
  const { verdict, perTask } = judgeTrend(trend, floor);
  verdict.summary += ` It cannot be split between ${trend.names.join(' and ')}: their counts move together and no growing site points at one of them.`;
  verdict.advice =
    'Call each task on its own with `taskmem task` (exact per run), or sample finer (--sampling-interval 32768) so the retained sites show which task allocates what is kept. ' +
    verdict.advice;
  return { name: groupName(trend.names), runs: trend.tasks, bytesPerRun: perTask, fit: undefined, verdict, series: [] };
}

/** A name in a growing group when nothing tells whether it or the others keep the growth. */
export function undecidedMemberVerdict(names: readonly string[], name: string): Verdict {
  const others = names.filter((other) => other !== name).join(', ');
  return {
    kind: 'inconclusive',
    confidence: 0,
    summary: `The worker grows (see "${groupName(names)}"), but nothing tells whether this task or ${others} keeps it.`,
    advice: 'Call this task on its own with `taskmem task`, or sample finer (--sampling-interval 32768) so the sites can tell.',
    evidence: [`judged together with ${others}: the checkpoints cannot split the growth between them precisely, and no growing site is on one task's stacks`],
  };
}

/** A name in a growing group whose growth another name holds (its function is on the growing sites' stacks). */
export function notTheHolderVerdict(names: readonly string[], name: string, holder: string): Verdict {
  return {
    kind: 'no-leak',
    confidence: 0.5,
    summary: `The worker grows, and the growth is ${holder}'s (its function is on the growing sites' stacks): nothing points at this task.`,
    advice: `Nothing to do for this task; see ${holder}.`,
    evidence: [
      `judged together with ${names.filter((other) => other !== name).join(', ')}: the checkpoints cannot split the growth between them precisely (tasks that run in step, or a steady mix)`,
      `the growth is ${holder}'s: its function is on the growing sites' stacks`,
    ],
  };
}

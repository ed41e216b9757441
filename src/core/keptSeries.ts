/**
 * Worker-mode series are built from what each sampled task kept. A GC from inside a task cannot
 * always free what V8 keeps in new large-object space, so single runs can be off by ±200 KiB while
 * most runs are exact. A run far from the median of its neighbours (two on each side) is replaced
 * by that median before the running total is formed; the report says how many. Neighbours, not
 * the whole series: a cache that fills in its first runs is a real change, not an outlier.
 */

import { formatBytes, plural } from './format';
import type { TaskRun, TaskSummary, Verdict } from './model';
import { median, trimmedMeanTest } from './robust';
import { describePersistence, FREED_SHARE, freedLaterSummary, persistenceOf, type Persistence } from './persistence';
import { DEFAULT_FLOOR_BYTES, summarizeTask, type VerdictOptions } from './verdict';
import type { MeasuredFigure } from './workerTrend';

/**
 * The smallest growth per task a Python worker's traced figure stands behind. A traced task can
 * carry what Celery's own frames still hold when it is settled (measured: +653 B on every run
 * before the agent settled later, 104-120 B on one run in eight after, a 54 B block in one session
 * of 14 once free lists and the dispatch in flight were accounted for): under 1 KiB per task, a
 * Python worker figure is the method's, not the task's.
 */
export const PYTHON_WORKER_FLOOR_BYTES = 1024;

export interface RobustTotals {
  /** Running totals after outliers were replaced. */
  totals: number[];
  /** How many runs were replaced. */
  replaced: number;
}

/** `minSpread` keeps small, honest variation (a few KiB) from being called an outlier. */
export function robustRunningTotals(kept: readonly number[], minSpread = 8 * 1024): RobustTotals {
  if (kept.length < 4) {
    let total = 0;
    return { totals: kept.map((value) => (total += value)), replaced: 0 };
  }
  const center = median(kept);
  const spread = Math.max(minSpread, 4 * median(kept.map((value) => Math.abs(value - center))));
  let total = 0;
  let replaced = 0;
  const totals = kept.map((value, index) => {
    const local = median(kept.slice(Math.max(0, index - 2), index + 3));
    const outlier = Math.abs(value - local) > spread;
    if (outlier) replaced++;
    return (total += outlier ? local : value);
  });
  return { totals, replaced };
}

/**
 * The verdict of a task name whose runs report what each kept (worker mode): judged on the running
 * total of those figures, far-off runs replaced by their neighbours' median.
 */
export function summarizeKeptSeries(name: string, runs: readonly TaskRun[], options: VerdictOptions = {}): TaskSummary {
  const floor = options.floorBytes ?? DEFAULT_FLOOR_BYTES;
  const kept = runs.map((run) => run.keptByRun ?? 0);
  const { totals, replaced } = robustRunningTotals(kept);
  const python = runs.length > 0 && runs.every((run) => run.targetId?.startsWith('python:'));
  const floorBytes = python ? Math.max(PYTHON_WORKER_FLOOR_BYTES, floor) : floor;
  // RSS is the whole process's: next to a running total of one task's kept bytes it says nothing
  // about allocator high water, so it is left out of this judgement.
  const summary = summarizeTask(
    name,
    runs.map((run, index) => ({ ...run, retainedBytes: totals[index] ?? 0, rssBytes: undefined })),
    { ...options, floorBytes, noise: 'increment' },
  );
  if (replaced)
    summary.verdict.evidence.push(
      `${replaced} of ${runs.length} runs were far off their neighbours (V8 large-object accounting) and count as their neighbours' median`,
    );
  // Under the floor is not "nothing": a task whose typical traced run keeps memory is undecided, not
  // clean (a 649 B-per-task leak read "no-leak" with 181 of 181 runs growing), and says how to tell.
  // The agent's persistence probes tell the servers' leftovers (freed later) from what stays referenced.
  if (python && summary.verdict.kind === 'no-leak' && floorBytes > floor) {
    const later = kept.slice(Math.floor(kept.length / 2));
    const typical = median(later);
    if (typical > floor) {
      const found = persistenceOf(runs.flatMap((run) => run.persistence ?? []));
      if (found && found.share <= FREED_SHARE) {
        summary.verdict = {
          ...summary.verdict,
          summary: freedLaterSummary(typical, found),
          evidence: [...summary.verdict.evidence, describePersistence(found)],
        };
        // What stays is the share still referenced, not what the run held when it was settled.
        summary.bytesPerRun = typical * found.share;
        delete summary.growthStdErr;
      } else summary.verdict = underPythonFloor(summary.verdict, typical, floorBytes, later, found);
    }
  }
  return summary;
}

/**
 * The verdict of a Python worker task whose typical traced run keeps more than the floor but less
 * than what a Python worker figure stands behind. Threaded servers keep some of their own on every
 * traced request (Flask 454 B, Django 240 B, RQ 73 B per run, freed later), so a leak this small
 * cannot be told from that residue here; the harness runs the function alone and is exact.
 */
function underPythonFloor(verdict: Verdict, typical: number, floorBytes: number, later: readonly number[], found: Persistence | undefined): Verdict {
  const kept = later.filter((value) => value > 0).length;
  // Still referenced later is a leak's sign, and an update in place's or a bounded cache's too (the
  // traces cannot see the old value or the evicted entry freed): said, not judged.
  const probes = found
    ? ` Persistence probes found ${Math.round(found.share * 100)}% of it (median of ${plural(found.probes, 'probe')}) still referenced some tasks later: a leak, a value it replaces in place (a balance, a counter: tracemalloc cannot see the old one freed), or a cache that holds more than those tasks.`
    : '';
  return {
    kind: 'inconclusive',
    confidence: 0,
    summary:
      `Its typical traced run keeps +${formatBytes(typical)} (${kept} of the later ${later.length} runs kept memory), under the ` +
      `${formatBytes(floorBytes)} per task a Python worker's figure stands behind: servers and workers keep some of their own on every request or task and free it later, so a leak this small cannot be told from that here.${probes}`,
    advice: 'To tell whether the function keeps it, call it alone with Profile Task (the harness is exact to the byte).',
    evidence: [
      ...verdict.evidence,
      ...(found ? [describePersistence(found)] : []),
      `its typical run keeps +${formatBytes(typical)}, under the ${formatBytes(floorBytes)} per task a Python worker's figure stands behind (servers keep some of their own on every request, freed later): to tell whether the function keeps it, call it alone with Profile Task (exact to the byte)`,
    ],
  };
}

/**
 * Share of each end left out of what a name's tasks measured one by one kept, before their figure
 * is taken. Those figures are heavy-tailed: most BullMQ jobs read within ±9 KiB of the truth, one in
 * six ±45-275 KiB (V8 large-object accounting), too few to trim at 10% and too many for the running
 * total's repair to catch. A 20% trimmed mean stands up to that, and its error (from the winsorized
 * spread) says how far it can be trusted.
 */
const KEPT_FIGURE_TRIM = 0.2;

/**
 * What a name's typical task kept, from all its tasks measured one by one: a trimmed mean, its error
 * and degrees of freedom (few tasks give few, and a share that rests on them is judged with them).
 */
export function keptFigure(kept: readonly number[]): Omit<MeasuredFigure, 'tasks'> | undefined {
  const test = trimmedMeanTest(
    kept.filter((value) => Number.isFinite(value)),
    KEPT_FIGURE_TRIM,
  );
  if (!test) return undefined;
  return { perRun: test.estimate, stdErr: test.stdErr, df: test.df };
}

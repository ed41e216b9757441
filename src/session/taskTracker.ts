/**
 * Per-task series. In the harness every run is measured directly (retained heap after a full GC).
 * In worker mode tasks interleave with other tasks in one heap, so each measured task is charged
 * with the change of the retained heap since the previous measurement in the same target: a clean
 * task next to a leaky one stays flat, and the series of what each task name kept is cumulative.
 */
import type { TaskRun, TaskSummary } from '../core/model';
import { robustRunningTotals } from '../core/keptSeries';
import { summarizeTask, type VerdictOptions } from '../core/verdict';

export class TaskTracker {
  private readonly runs = new Map<string, TaskRun[]>();
  /** Cumulative bytes charged to each task name (worker mode). */
  private readonly charged = new Map<string, number>();
  /** Last retained measurement per target (worker mode). */
  private readonly lastRetained = new Map<string, number>();
  /** Task names whose runs report what each run kept (worker mode), not the heap level. */
  private readonly keptSeries = new Set<string>();
  private finishedCount = 0;
  private startedCount = 0;

  constructor(private readonly verdictOptions: VerdictOptions = {}) {}

  get finished(): number {
    return this.finishedCount;
  }
  get started(): number {
    return this.startedCount;
  }

  noteStarted(): void {
    this.startedCount++;
  }

  /** Harness: one measured run with the retained heap after it. */
  addHarnessRun(name: string, run: Omit<TaskRun, 'index'>): TaskSummary {
    this.finishedCount++;
    const list = this.list(name);
    list.push({ ...run, index: list.length });
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
  addKeptTask(name: string, targetId: string, kept: number | undefined, durationMs: number, rssBytes?: number): TaskSummary | undefined {
    this.finishedCount++;
    if (kept === undefined || !Number.isFinite(kept)) return undefined;
    this.keptSeries.add(name);
    const list = this.list(name);
    list.push({ index: list.length, retainedBytes: 0, keptByRun: kept, durationMs, rssBytes, targetId });
    return this.summary(name);
  }

  /** Tasks that ended without being measured: they count (for --max-tasks), they have no figures. */
  addUnmeasured(count: number): void {
    this.finishedCount += count;
  }

  summary(name: string): TaskSummary {
    const runs = this.list(name);
    if (!this.keptSeries.has(name)) return summarizeTask(name, runs, this.verdictOptions);
    const { totals, replaced } = robustRunningTotals(runs.map((run) => run.keptByRun ?? 0));
    // RSS is the whole process's: next to a running total of one task's kept bytes it says nothing
    // about allocator high water, so it is left out of this judgement.
    const summary = summarizeTask(name, runs.map((run, index) => ({ ...run, retainedBytes: totals[index] ?? 0, rssBytes: undefined })), this.verdictOptions);
    if (replaced) summary.verdict.evidence.push(`${replaced} of ${runs.length} runs were far off their neighbours (V8 large-object accounting) and count as their neighbours' median`);
    return summary;
  }

  summaries(): TaskSummary[] {
    return [...this.runs.keys()].map((name) => this.summary(name));
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

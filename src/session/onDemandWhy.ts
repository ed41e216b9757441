/**
 * "Why is it kept" in a worker or attach session, on demand: the first request reads the heap of the
 * process (a baseline), the next one reads it again and explains what the tasks finished in between
 * kept. Both pause the process (a heap snapshot), so nothing here runs unasked: the command, the
 * panel's button, or `taskmem run --why` (a baseline after the first task, the explanation at the end).
 */
import type { SiteAggregation } from '../core/sites';
import type { SessionWhy } from '../core/why/model';
import type { Target } from './target';
import { explainRetained } from './whyRetained';

export type WhyStep =
  | { step: 'baseline'; pid: number; pauseMs: number }
  /** The explanation; the next request starts a new baseline. */
  | { step: 'explained'; why: SessionWhy };

export interface OnDemandWhyHost {
  liveTargetList(): Target[];
  /** Tasks finished so far in the session. */
  finishedTasks(): number;
  currentSites(): SiteAggregation | undefined;
  /** The script the worker command runs, when it names one. */
  scriptFile(): string | undefined;
}

export class OnDemandWhy {
  private baseline: { target: Target; tasks: number } | undefined;
  private running: Promise<WhyStep> | undefined;
  /** The latest explanation, for the report. */
  latest: SessionWhy | undefined;

  constructor(private readonly host: OnDemandWhyHost) {}

  get hasBaseline(): boolean {
    return this.baseline !== undefined && this.baseline.target.alive;
  }

  /** One request: a baseline, or the explanation since it. Requests made while one runs share it. */
  step(progress: (message: string) => void = () => undefined): Promise<WhyStep> {
    this.running ??= this.run(progress).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(progress: (message: string) => void): Promise<WhyStep> {
    const baseline = this.baseline;
    if (baseline && baseline.target.alive) {
      const tasks = this.host.finishedTasks() - baseline.tasks;
      if (tasks < 1) throw new Error('no task finished since the heap was read: let the worker run some tasks, then ask again');
      this.baseline = undefined;
      const why = await explainRetained(baseline.target, tasks, this.host.scriptFile(), this.host.currentSites(), (done, total) =>
        progress(`Reading the heap of pid ${baseline.target.info.pid}: ${Math.round((100 * done) / Math.max(1, total))}%`),
      );
      // The process's own count when it has one (why.runs): the session's lags by the counts still batched there.
      this.latest = { ...why, tasks: why.runs, pid: baseline.target.info.pid };
      return { step: 'explained', why: this.latest };
    }
    const target = this.host.liveTargetList()[0];
    if (!target) throw new Error('no process of the session is running: there is no heap to read');
    progress(`Reading the heap of pid ${target.info.pid} (a baseline)…`);
    const started = performance.now();
    await target.whyBaseline();
    this.baseline = { target, tasks: this.host.finishedTasks() };
    return { step: 'baseline', pid: target.info.pid, pauseMs: performance.now() - started };
  }
}

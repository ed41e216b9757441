/**
 * What the editor views (annotations, code lenses) need from the active session: its retained sites
 * (updated on every capture, or taken from the report when the session already ran) and its task
 * summaries. Follows `registry.active`; everything is cleared when the session is closed.
 */
import type { ProgressUnit } from '../../core/format';
import { progressUnit } from '../../core/reportRender';
import * as vscode from 'vscode';
import { sitesFromReport } from '../../core/annotations';
import type { RetainedSite, TaskSummary, VerdictKind } from '../../core/model';
import type { ReportTask } from '../../core/report';
import type { WhyRetained } from '../../core/why/model';
import { holderMarks, type HolderMark } from '../../core/holderAnnotations';
import type { ProfilingSessionApi } from '../../session/api';
import type { SessionRegistry } from '../sessionRegistry';

export interface TaskFigure {
  name: string;
  bytesPerRun: number;
  verdict: string;
  runs: number;
}

export class ActiveSessionData implements vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<'sites' | 'tasks' | 'session'>();
  /** What changed: new sites, new task figures, or another (or no) session. */
  readonly onDidChange = this.changeEmitter.event;
  private session: ProfilingSessionApi | undefined;
  private sessionListeners: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private currentSites: readonly RetainedSite[] = [];
  private readonly taskFigures = new Map<string, TaskFigure>();
  /** Why retained, per task, as its summaries and the report say. */
  private readonly whyByTask = new Map<string, { name: string; verdict: VerdictKind; why: WhyRetained }>();

  constructor(registry: SessionRegistry) {
    this.disposables.push(
      this.changeEmitter,
      registry.onDidChangeActive((session) => this.follow(session)),
    );
    this.follow(registry.active);
  }

  get sessionId(): string | undefined {
    return this.session?.id;
  }
  get activeSession(): ProfilingSessionApi | undefined {
    return this.session;
  }
  get sites(): readonly RetainedSite[] {
    return this.currentSites;
  }
  get tasks(): readonly TaskFigure[] {
    return [...this.taskFigures.values()];
  }
  /** The lines that hold kept memory (why retained). */
  get holders(): HolderMark[] {
    return holderMarks([...this.whyByTask.values()]);
  }
  /** What growth is counted per: a harness run, or a worker's task. */
  get unit(): ProgressUnit {
    return progressUnit(this.session?.options.mode ?? 'harness');
  }

  private follow(session: ProfilingSessionApi | undefined): void {
    if (session === this.session) return;
    for (const d of this.sessionListeners) d.dispose();
    this.sessionListeners = [];
    this.session = session;
    this.currentSites = [];
    this.taskFigures.clear();
    this.whyByTask.clear();
    if (session) {
      this.sessionListeners.push(
        session.onCapture((aggregation) => {
          this.currentSites = aggregation.sites;
          this.changeEmitter.fire('sites');
        }),
        session.onTask((summary) => this.setTask(summary)),
        session.onTaskRemoved((name) => {
          if (this.taskFigures.delete(name)) this.changeEmitter.fire('tasks');
        }),
        session.onEnded((report) => {
          // the final report holds the last capture; keep live sites when they are richer
          if (this.currentSites.length === 0) this.currentSites = sitesFromReport(report.sites);
          for (const t of report.tasks) this.setReportTask(t);
          this.changeEmitter.fire('sites');
          this.changeEmitter.fire('tasks');
        }),
      );
      try {
        const report = session.report();
        this.currentSites = sitesFromReport(report.sites);
        for (const t of report.tasks) this.setReportTask(t);
      } catch {
        // a session that cannot report yet has nothing to show
      }
    }
    this.changeEmitter.fire('session');
  }

  private setReportTask(t: ReportTask): void {
    this.taskFigures.set(t.name, { name: t.name, bytesPerRun: t.bytesPerRun, verdict: t.verdict, runs: t.runs });
    if (t.why) this.whyByTask.set(t.name, { name: t.name, verdict: t.verdict, why: t.why });
  }

  private setTask(summary: TaskSummary): void {
    this.taskFigures.set(summary.name, { name: summary.name, bytesPerRun: summary.bytesPerRun, verdict: summary.verdict.kind, runs: summary.runs });
    // Why retained arrives once, after the measured runs: the holding lines change only then.
    if (summary.why && this.whyByTask.get(summary.name)?.why !== summary.why) {
      this.whyByTask.set(summary.name, { name: summary.name, verdict: summary.verdict.kind, why: summary.why });
      this.changeEmitter.fire('sites');
    }
    this.changeEmitter.fire('tasks');
  }

  dispose(): void {
    for (const d of this.sessionListeners) d.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

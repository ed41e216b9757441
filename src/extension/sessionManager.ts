/**
 * Owns the extension's profiling sessions: starts a `ProfilingSession` for a choice, gives each one
 * a memory panel and forwards the session's events to it, routes the target's output to the
 * "Task Memory" channel, reports failures, and stops everything on deactivate.
 */
import * as vscode from 'vscode';
import { describeCommandFailure, describeFailure, unprintedProgramError } from '../core/failure';
import type { RetainedSite } from '../core/model';
import type { TaskmemReport } from '../core/report';
import type { SiteAggregation } from '../core/sites';
import type { ProfilingSessionApi, SessionState } from '../session/api';
import { ProfilingSession } from '../session/session';
import { choiceTitle, sessionOptionsFor, type ProfileChoice, type RunSettings } from './choices';
import { showError, type TaskMemoryOutput } from './output';
import { WorkerTerminal } from './workerTerminal';
import type { PanelFailure } from '../shared/protocol';
import { MemoryPanel, type PanelActions } from './panel/memoryPanel';
import { showSessionProgress } from './progress';
import type { SessionEnded, SessionRegistry } from './sessionRegistry';

const VERDICT_THROTTLE_MS = 300;
const STOP_ALL_TIMEOUT_MS = 8_000;
/**
 * Ended sessions kept after their panel is closed (their results, annotations and export stay);
 * beyond this many the oldest ended one is forgotten. A session holds its stats and sites: a few MB.
 */
export const RECENT_SESSIONS = 10;

export interface ManagedSession {
  readonly session: ProfilingSessionApi;
  readonly title: string;
  readonly startedAt: number;
  panel: MemoryPanel | undefined;
  lastSites: SiteAggregation | undefined;
  verdictTimer: NodeJS.Timeout | undefined;
  /** An error message was already shown for this session. */
  errorShown: boolean;
  /** Workers: the terminal that shows what the program prints. */
  terminal?: WorkerTerminal;
  readonly subscriptions: Array<{ dispose(): void }>;
}

/** What the panel's buttons do for a session; supplied by the command layer. */
export type ActionsFactory = (session: ProfilingSessionApi) => PanelActions;

export class SessionManager implements SessionRegistry, vscode.Disposable {
  private readonly startEmitter = new vscode.EventEmitter<ProfilingSessionApi>();
  private readonly endEmitter = new vscode.EventEmitter<SessionEnded>();
  private readonly activeEmitter = new vscode.EventEmitter<ProfilingSessionApi | undefined>();
  readonly onDidStart = this.startEmitter.event;
  readonly onDidEnd = this.endEmitter.event;
  readonly onDidChangeActive = this.activeEmitter.event;

  private readonly sessions: ManagedSession[] = [];
  private actionsFactory: ActionsFactory | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly output: TaskMemoryOutput,
  ) {}

  get active(): ProfilingSessionApi | undefined {
    return this.sessions[this.sessions.length - 1]?.session;
  }

  get all(): readonly ProfilingSessionApi[] {
    return this.sessions.map((m) => m.session);
  }

  get running(): ProfilingSessionApi[] {
    return this.all.filter((s) => s.state === 'starting' || s.state === 'running');
  }

  /** Set once by the command layer: what the panel buttons of every session do. */
  setActionsFactory(factory: ActionsFactory): void {
    this.actionsFactory = factory;
  }

  find(sessionId: string | undefined): ProfilingSessionApi | undefined {
    return sessionId ? this.all.find((s) => s.id === sessionId) : this.active;
  }

  /** The retaining sites of the session's last capture, heaviest first. */
  sitesOf(session: ProfilingSessionApi): RetainedSite[] {
    return [...(this.managed(session)?.lastSites?.sites ?? [])].sort((a, b) => b.retainedBytes - a.retainedBytes);
  }

  titleOf(session: ProfilingSessionApi): string {
    return this.managed(session)?.title ?? session.id;
  }

  /**
   * Starts a session for `choice`. Resolves once it runs (or rejects with the engine's message,
   * already shown to the user); `session.done` resolves when it ends.
   */
  async start(choice: ProfileChoice, settings: RunSettings): Promise<ProfilingSessionApi> {
    const title = choiceTitle(choice);
    const options = sessionOptionsFor(choice, settings);
    let terminal: WorkerTerminal | undefined;
    options.onOutput = (_stream, chunk) => {
      const text = chunk.toString('utf8');
      this.output.target(text);
      terminal?.write(text);
    };
    const session = new ProfilingSession(options);
    if (options.mode === 'worker') {
      terminal = new WorkerTerminal(title, () => {
        if (session.state === 'starting' || session.state === 'running') void session.stop('stopped from its terminal').catch(() => undefined);
      });
    }
    const managed: ManagedSession = {
      session,
      title,
      startedAt: Date.now(),
      panel: undefined,
      lastSites: undefined,
      verdictTimer: undefined,
      errorShown: false,
      terminal,
      subscriptions: terminal ? [terminal] : [],
    };
    // Profile again: the earlier run of the same task gives its tab (and its terminal) to this one (it stays in Recent Sessions).
    for (const earlier of this.sessions) {
      if (earlier.title !== title || earlier.session.state !== 'ended') continue;
      earlier.panel?.dispose();
      earlier.terminal?.dispose();
      earlier.terminal = undefined;
    }
    this.sessions.push(managed);
    this.forgetBeyondRecent();
    this.wire(managed);
    this.output.log(`Launch (${options.mode}): ${describe(choice)}  [cwd ${choice.cwd}]`);
    this.showPanel(session, false);
    this.startEmitter.fire(session);
    this.activeEmitter.fire(session);
    if (options.mode === 'harness') showSessionProgress(session, title);
    try {
      await session.start();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!managed.errorShown) {
        managed.errorShown = true;
        void showError(this.output, `Task Memory could not start ${title}: ${message}`);
      }
      throw error;
    }
    return session;
  }

  /** Opens (or reveals) the panel of `session`; a closed panel is rebuilt from the session's data. */
  showPanel(session: ProfilingSessionApi, reveal = true): MemoryPanel | undefined {
    const m = this.managed(session);
    if (!m) return undefined;
    if (m.panel) {
      if (reveal) m.panel.reveal(false);
      return m.panel;
    }
    const panel = MemoryPanel.show(
      this.extensionUri,
      { id: session.id, title: m.title, startedAt: m.startedAt, mode: session.options.mode },
      this.actionsFactory?.(session),
    );
    m.panel = panel;
    this.replay(m, panel);
    // Closing the tab keeps the session: its results, annotations and export stay, and Show Panel
    // or Recent Sessions rebuilds the panel from them.
    const closed = panel.onDidDispose(() => {
      closed.dispose();
      if (m.panel === panel) m.panel = undefined;
    });
    return panel;
  }

  /** Stops every running session (process trees included); used by deactivate(). */
  async stopAll(reason = 'VS Code closed the extension'): Promise<void> {
    const running = this.running;
    if (!running.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running.map((s) => s.stop(reason))),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_ALL_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  }

  dispose(): void {
    void this.stopAll();
    for (const m of this.sessions) for (const s of m.subscriptions.splice(0)) s.dispose();
    this.startEmitter.dispose();
    this.endEmitter.dispose();
    this.activeEmitter.dispose();
  }

  private managed(session: ProfilingSessionApi): ManagedSession | undefined {
    return this.sessions.find((m) => m.session === session);
  }

  /** Keeps at most RECENT_SESSIONS sessions: the oldest ended ones go first (a running one never). */
  private forgetBeyondRecent(): void {
    while (this.sessions.length > RECENT_SESSIONS) {
      const oldest = this.sessions.find((m) => m.session.state === 'ended' && m !== this.sessions[this.sessions.length - 1]);
      if (!oldest) return;
      oldest.panel?.dispose();
      this.forget(oldest);
    }
  }

  /** Sessions newest first, for Recent Sessions. */
  recent(): Array<{ session: ProfilingSessionApi; title: string; startedAt: number }> {
    return [...this.sessions].reverse().map((m) => ({ session: m.session, title: m.title, startedAt: m.startedAt }));
  }

  private forget(m: ManagedSession): void {
    const index = this.sessions.indexOf(m);
    if (index < 0) return;
    const wasActive = index === this.sessions.length - 1;
    this.sessions.splice(index, 1);
    for (const s of m.subscriptions.splice(0)) s.dispose();
    if (wasActive) this.activeEmitter.fire(this.active);
  }

  /** Brings a new panel up to date (after the user closed the previous one). */
  private replay(m: ManagedSession, panel: MemoryPanel): void {
    const s = m.session;
    for (const target of s.targets) panel.upsertTarget(target);
    for (const point of s.statsPoints()) panel.addStats(point);
    for (const mark of s.marks) panel.addMark(mark);
    const tasks = s.taskSummaries();
    for (const task of tasks) panel.upsertTask(task);
    panel.setCheckpoints(s.checkpointsByTarget());
    if (m.lastSites) panel.setSites(m.lastSites.sites);
    if (tasks.length) {
      const report = s.report();
      panel.setVerdict(report.verdict, report.recycling);
    }
    if (s.state === 'ended') void s.done.then((report) => report.why && panel.setWhy(report.why));
    const failure = panelFailure(s);
    if (failure) panel.setFailure(failure);
    panel.setSessionState(s.state);
  }

  private wire(m: ManagedSession): void {
    const { session } = m;
    const panel = (): MemoryPanel | undefined => m.panel;
    m.subscriptions.push(
      session.onStats((p) => panel()?.addStats(p)),
      session.onMark((mark) => panel()?.addMark(mark)),
      session.onTask((task) => {
        panel()?.upsertTask(task);
        this.scheduleVerdict(m);
      }),
      session.onTaskRemoved((name) => {
        panel()?.removeTask(name);
        this.scheduleVerdict(m);
      }),
      session.onCapture((aggregation) => {
        m.lastSites = aggregation;
        panel()?.setSites(aggregation.sites);
        this.scheduleVerdict(m);
      }),
      session.onTarget((target) => {
        this.output.log(`Target: pid ${target.pid} (${target.runtime}) ${target.title}`);
        panel()?.upsertTarget(target);
      }),
      session.onTargetExit((target) => {
        this.output.log(`Target exited: pid ${target.pid}${target.exitReason ? ` (${target.exitReason})` : ''}`);
        panel()?.upsertTarget(target);
      }),
      session.onStateChange((state: SessionState) => panel()?.setSessionState(state)),
      session.onWarning((message) => {
        this.output.log(`Warning (${m.title}): ${message}`);
        // The reason a session failed leads the panel when it ends (setFailure), in the user's terms.
        if (message !== session.failureReason) panel()?.warn(message);
      }),
      session.onWhy((why) => panel()?.setWhy(why)),
      session.onEnded((report) => this.ended(m, report)),
    );
  }

  private scheduleVerdict(m: ManagedSession): void {
    if (m.verdictTimer || m.session.state === 'ended') return;
    m.verdictTimer = setTimeout(() => {
      m.verdictTimer = undefined;
      if (m.session.state !== 'ended') {
        const report = m.session.report();
        m.panel?.setVerdict(report.verdict, report.recycling);
        m.panel?.setCheckpoints(m.session.checkpointsByTarget());
      }
    }, VERDICT_THROTTLE_MS);
  }

  private ended(m: ManagedSession, report: TaskmemReport): void {
    if (m.verdictTimer) clearTimeout(m.verdictTimer);
    m.verdictTimer = undefined;
    const panel = m.panel;
    const failure = panelFailure(m.session);
    if (panel) {
      for (const target of report.targets) panel.upsertTarget(target);
      // The final rows replace the live ones: a row that stood for tasks judged together while the
      // sites were not known yet is gone once they name the task.
      panel.setTasks(m.session.taskSummaries());
      panel.setCheckpoints(m.session.checkpointsByTarget());
      if (report.tasks.length) panel.setVerdict(report.verdict, report.recycling);
      if (report.why) panel.setWhy(report.why);
      if (failure) panel.setFailure(failure);
      panel.setSessionState('ended');
    }
    const seconds = (report.durationMs / 1000).toFixed(1);
    const unprinted = unprintedProgramError(m.session.lastOutput, m.session.programError);
    if (unprinted) m.terminal?.note(`The program ended with this error (its runtime reported it; the output above lost it):\n${unprinted}`);
    m.terminal?.note(`Session ended after ${seconds} s (${report.endReason}): the verdict is in the panel.`);
    this.output.log(`Ended (${m.title}) after ${seconds} s: ${report.endReason}; verdict ${report.verdict.kind}: ${report.verdict.summary}`);
    // The engine ends a failed session with the failure as reason, and records it as a warning.
    const failed = report.endReason !== 'completed' && report.warnings.includes(report.endReason);
    if (failed && !m.errorShown) {
      m.errorShown = true;
      // The program's own words when it said why (the panel leads with the same summary).
      void showError(this.output, `Task Memory: ${m.title}: ${failure?.summary ?? report.endReason}`);
    }
    this.endEmitter.fire({ session: m.session, report });
  }
}

function describe(choice: ProfileChoice): string {
  switch (choice.kind) {
    case 'harness':
      return `${choice.file}#${choice.exportName} (${choice.runtime} harness)`;
    case 'worker':
      return `${choice.command.join(' ')}${choice.shell ? ' (shell)' : ''}`;
    case 'attach':
      return choice.label;
  }
}

/** Why a session failed, in the user's terms, for its panel (the whole text is in the output channel). */
function panelFailure(session: ProfilingSessionApi): PanelFailure | undefined {
  if (!session.failureReason) return undefined;
  // A command that failed by itself: its own output says why (the engine's reason only says how it ended).
  const command = session.failureReason.startsWith('the command ') && (session.lastOutput.trim() !== '' || session.programError !== undefined);
  const { detail: _detail, ...failure } = command
    ? describeCommandFailure(session.failureReason, session.lastOutput, session.programError)
    : describeFailure(session.failureReason);
  return failure;
}

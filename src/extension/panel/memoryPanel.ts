/**
 * The extension-host side of the memory panel: one `WebviewPanel` per profiling session.
 *
 * It keeps a snapshot of everything the panel shows (so a webview that reloads gets one `init`),
 * posts incremental messages through a `MessageBatcher` (≤ 10 stats messages a second), validates
 * what the webview sends and forwards commands to `PanelActions`. After a window reload VS Code
 * hands the webview's persisted state to `MemoryPanel.revive` (see `registerMemoryPanelSerializer`).
 */
import type { RecyclingAdvice } from '../../core/recyclingAdvisor';
import type { SessionWhy } from '../../core/why/model';
import { inSettingsTerms, recyclingInSettingsTerms, verdictInSettingsTerms } from '../../core/optionTerms';
import * as vscode from 'vscode';
import type { HeapStatsPoint, RetainedSite, SessionMark, TargetInfo, TaskSummary, Verdict } from '../../core/model';
import {
  PANEL_VIEW_TYPE,
  isPersistedState,
  parseWebviewMessage,
  toPanelSite,
  toPanelTask,
  type HostMessage,
  type PanelSessionInfo,
  type PanelSessionState,
  type PanelSite,
  type PanelFailure,
  type PanelSnapshot,
  type PanelTask,
  type PanelWorkerTrend,
  type WebviewMessage,
} from '../../shared/protocol';
import type { Checkpoint } from '../../core/workerTrend';
import { workerTrendPicture } from './workerTrendPicture';
import { MessageBatcher } from './batcher';
import { buildPanelHtml, makeNonce } from './html';
import { HostStatsBuffer } from './statsBuffer';

/** What the panel's buttons and links do; implemented by whoever owns the session. */
export interface PanelActions {
  stop(): unknown;
  captureNow(): unknown;
  collectGarbage(): unknown;
  /** Worker and attach: read the heap (a baseline), or explain what the tasks since kept. */
  whyRetained(): unknown;
  export(): unknown;
  /** `line` is 1-based. The default (no actions) opens the file in an editor. */
  openSite(file: string, line: number): unknown;
}

const MAX_MARKS = 20_000;
const INIT_MAX_ROWS = 12_000;

export class MemoryPanel implements vscode.Disposable {
  static readonly viewType = PANEL_VIEW_TYPE;
  private static readonly panels = new Map<string, MemoryPanel>();

  private readonly disposables: vscode.Disposable[] = [];
  private readonly batcher: MessageBatcher;
  private readonly stats = new HostStatsBuffer();
  private readonly onDidDisposeEmitter = new vscode.EventEmitter<void>();
  /** Fires when the panel is closed (by the user or `dispose`). */
  readonly onDidDispose = this.onDidDisposeEmitter.event;

  private session: PanelSessionInfo;
  private state: PanelSessionState;
  private targets: TargetInfo[] = [];
  private marks: SessionMark[] = [];
  private tasks: PanelTask[] = [];
  private workerTrend: PanelWorkerTrend | undefined;
  private sites: PanelSite[] = [];
  private verdict: Verdict | undefined;
  private recycling: RecyclingAdvice | undefined;
  private why: SessionWhy | undefined;
  private failure: PanelFailure | undefined;
  private warnings: string[] = [];
  private ready = false;
  private disposed = false;
  private pendingReveal: Extract<HostMessage, { type: 'reveal-site' | 'reveal-task' }> | undefined;

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly panel: vscode.WebviewPanel,
    initial: Partial<PanelSnapshot> & { session: PanelSessionInfo; state: PanelSessionState },
    private actions: PanelActions | undefined,
  ) {
    this.session = initial.session;
    this.state = initial.state;
    this.targets = initial.targets ?? [];
    this.marks = initial.marks ?? [];
    this.tasks = initial.tasks ?? [];
    this.workerTrend = initial.workerTrend;
    this.sites = initial.sites ?? [];
    this.verdict = initial.verdict;
    this.recycling = initial.recycling;
    this.why = initial.why;
    this.failure = initial.failure;
    this.warnings = initial.warnings ?? [];
    for (const cols of initial.stats ?? []) {
      for (let i = 0; i < cols.t.length; i++) {
        const p: HeapStatsPoint = { t: cols.t[i], targetId: cols.targetId, heapUsed: NaN, heapTotal: NaN };
        for (const [m, vals] of Object.entries(cols.values)) {
          const v = vals?.[i];
          if (typeof v === 'number') (p as unknown as Record<string, number>)[m] = v;
        }
        this.stats.add(p);
      }
    }

    this.batcher = new MessageBatcher((messages) => this.postAll(messages), 100);
    this.batcher.pause();
    MemoryPanel.panels.set(this.session.id, this);

    panel.title = MemoryPanel.tabTitle(this.session);
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw) => this.onMessage(raw)),
      panel.onDidChangeViewState((e) => {
        // Without retainContextWhenHidden a hidden webview is torn down; it sends `ready` when shown.
        if (!e.webviewPanel.visible) {
          this.ready = false;
          this.batcher.pause();
          this.batcher.discard();
        }
      }),
    );
  }

  /** Opens the panel of `session` or reveals it when it is already open. */
  static show(
    extensionUri: vscode.Uri,
    session: PanelSessionInfo,
    actions: PanelActions | undefined,
    column: vscode.ViewColumn = vscode.ViewColumn.Beside,
  ): MemoryPanel {
    const existing = MemoryPanel.panels.get(session.id);
    if (existing) {
      existing.setActions(actions);
      existing.reveal();
      return existing;
    }
    // Beside the code, in the group of the other memory panels: a panel reopened while one of them
    // is active would otherwise open a third group and leave each a third of the window.
    const sibling = column === vscode.ViewColumn.Beside ? [...MemoryPanel.panels.values()].find((p) => p.panel.viewColumn !== undefined) : undefined;
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      MemoryPanel.tabTitle(session),
      { viewColumn: sibling?.panel.viewColumn ?? column, preserveFocus: true },
      MemoryPanel.webviewOptions(extensionUri),
    );
    return new MemoryPanel(extensionUri, panel, { session, state: 'starting' }, actions);
  }

  /**
   * Rebuilds a panel after a window reload from the state the webview persisted. Without `actions`
   * (the session did not survive the reload) the panel is read-only and shows the last data.
   */
  static revive(extensionUri: vscode.Uri, panel: vscode.WebviewPanel, persisted: unknown, actions?: PanelActions): MemoryPanel {
    panel.webview.options = MemoryPanel.webviewOptions(extensionUri);
    if (isPersistedState(persisted)) {
      const s = persisted.snapshot;
      return new MemoryPanel(extensionUri, panel, { ...s, state: actions ? s.state : s.state === 'ended' ? 'ended' : 'restored' }, actions);
    }
    return new MemoryPanel(extensionUri, panel, { session: { id: `restored-${Date.now()}`, title: 'Memory profile' }, state: 'restored' }, actions);
  }

  static forSession(sessionId: string): MemoryPanel | undefined {
    return MemoryPanel.panels.get(sessionId);
  }

  static all(): MemoryPanel[] {
    return [...MemoryPanel.panels.values()];
  }

  /** Scripts on, everything else narrowed: only dist/ and media/ can be loaded. */
  static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      enableFindWidget: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  private static tabTitle(session: PanelSessionInfo): string {
    return `Memory: ${session.title}`;
  }

  get sessionId(): string {
    return this.session.id;
  }

  get visible(): boolean {
    return this.panel.visible;
  }

  reveal(preserveFocus = true): void {
    this.panel.reveal(undefined, preserveFocus);
  }

  /** Attaches (or detaches) the actions, e.g. when a restored panel's session is started again. */
  setActions(actions: PanelActions | undefined): void {
    this.actions = actions;
  }

  setSessionState(state: PanelSessionState): void {
    this.state = state;
    this.queue({ type: 'state', state });
  }

  setTargets(targets: readonly TargetInfo[]): void {
    this.targets = [...targets];
    this.queue({ type: 'targets', targets: this.targets });
  }

  /** Adds or updates one target (by id). */
  upsertTarget(target: TargetInfo): void {
    const i = this.targets.findIndex((t) => t.id === target.id);
    if (i >= 0) this.targets[i] = target;
    else this.targets.push(target);
    this.queue({ type: 'targets', targets: [...this.targets] });
  }

  addStats(point: HeapStatsPoint): void {
    this.stats.add(point);
    if (this.ready) this.batcher.stats(point);
  }

  addMark(mark: SessionMark): void {
    this.marks.push(mark);
    if (this.marks.length > MAX_MARKS * 1.25) this.marks = this.marks.slice(-MAX_MARKS);
    if (this.ready) this.batcher.mark(mark);
  }

  /** Replaces the task table; accepts core `TaskSummary`s or ready rows. */
  setTasks(tasks: readonly (TaskSummary | PanelTask)[]): void {
    this.tasks = tasks.map((t) => inPanelTerms('series' in t ? toPanelTask(t) : t));
    this.queueTasks();
  }

  /** Adds or replaces one task's row (from `onTask`). */
  upsertTask(task: TaskSummary | PanelTask): void {
    const row = inPanelTerms('series' in task ? toPanelTask(task) : task);
    const i = this.tasks.findIndex((t) => t.name === row.name);
    if (i >= 0) this.tasks[i] = row;
    else this.tasks.push(row);
    this.queueTasks();
  }

  /** Drops a row that no longer stands (`onTaskRemoved`). */
  removeTask(name: string): void {
    const kept = this.tasks.filter((t) => t.name !== name);
    if (kept.length === this.tasks.length) return;
    this.tasks = kept;
    this.queueTasks();
  }

  /** A worker's checkpoints: the picture of its trend, drawn with the rows' growth (call after the rows change). */
  setCheckpoints(checkpoints: ReadonlyMap<string, readonly Checkpoint[]>): void {
    this.workerTrend = workerTrendPicture(checkpoints, this.tasks, this.targets);
    this.queueTasks();
  }

  private queueTasks(): void {
    this.queue({ type: 'tasks', tasks: [...this.tasks], ...(this.workerTrend ? { workerTrend: this.workerTrend } : {}) });
  }

  /** Replaces the retaining sites; accepts core `RetainedSite`s or ready rows. Keeps the top 200. */
  setSites(sites: readonly (RetainedSite | PanelSite)[]): void {
    this.sites = [...sites]
      .sort((a, b) => b.retainedBytes - a.retainedBytes)
      .slice(0, 200)
      .map((s) => ('callers' in s ? toPanelSite(s) : s));
    this.queue({ type: 'sites', sites: this.sites });
  }

  setVerdict(verdict: Verdict | undefined, recycling?: RecyclingAdvice): void {
    verdict = verdict && verdictInSettingsTerms(verdict);
    this.verdict = verdict;
    recycling = recycling && recyclingInSettingsTerms(recycling);
    this.recycling = recycling;
    this.queue({ type: 'verdict', verdict, ...(recycling ? { recycling } : {}) });
  }

  /** The session failed: the panel leads with why, in the user's terms. */
  setWhy(why: SessionWhy): void {
    this.why = why;
    if (this.ready) this.batcher.send({ type: 'why', why });
  }

  setFailure(failure: PanelFailure): void {
    this.failure = failure;
    if (this.ready) this.batcher.send({ type: 'failure', failure });
  }

  warn(message: string): void {
    message = inSettingsTerms(message);
    this.warnings = [...this.warnings, message].slice(-5);
    if (this.ready) this.batcher.send({ type: 'warning', message });
  }

  /** Scrolls to and flashes a site ("Show in panel" from an editor hover); reveals the panel. */
  revealSite(key: string): void {
    this.revealRow({ type: 'reveal-site', key });
  }

  /** Scrolls to and flashes a task's row (the "kept" CodeLens above its function); reveals the panel. */
  revealTask(name: string): void {
    this.revealRow({ type: 'reveal-task', name });
  }

  private revealRow(message: Extract<HostMessage, { type: 'reveal-site' | 'reveal-task' }>): void {
    this.reveal(false);
    if (this.ready) {
      this.batcher.send(message);
      this.batcher.flush();
    } else {
      this.pendingReveal = message;
    }
  }

  /** Everything the panel shows, with statistics thinned to `maxRows` per target. */
  snapshot(maxRows = INIT_MAX_ROWS): PanelSnapshot {
    return {
      session: this.session,
      state: this.state,
      targets: this.targets,
      stats: this.stats.columns(maxRows),
      marks: this.marks.slice(-MAX_MARKS),
      tasks: this.tasks,
      ...(this.workerTrend ? { workerTrend: this.workerTrend } : {}),
      sites: this.sites,
      verdict: this.verdict,
      ...(this.recycling ? { recycling: this.recycling } : {}),
      ...(this.failure ? { failure: this.failure } : {}),
      ...(this.why ? { why: this.why } : {}),
      warnings: this.warnings,
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (MemoryPanel.panels.get(this.session.id) === this) MemoryPanel.panels.delete(this.session.id);
    this.batcher.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.onDidDisposeEmitter.fire();
    this.onDidDisposeEmitter.dispose();
  }

  private queue(message: Extract<HostMessage, { type: 'tasks' | 'sites' | 'verdict' | 'targets' | 'state' }>): void {
    if (this.ready) this.batcher.set(message);
  }

  private postAll(messages: HostMessage[]): void {
    if (this.disposed) return;
    for (const m of messages) void this.panel.webview.postMessage(m);
  }

  private html(): string {
    const w = this.panel.webview;
    const uri = (...p: string[]): string => w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...p)).toString();
    return buildPanelHtml({
      cspSource: w.cspSource,
      nonce: makeNonce(),
      scriptUri: uri('dist', 'webview.js'),
      styleUri: uri('dist', 'webview.css'),
      codiconUri: uri('media', 'codicons', 'codicon.css'),
      title: `Memory: ${this.session.title}`,
    });
  }

  private onMessage(raw: unknown): void {
    const msg: WebviewMessage | undefined = parseWebviewMessage(raw);
    if (!msg) return;
    switch (msg.type) {
      case 'ready': {
        this.ready = true;
        this.batcher.discard();
        void this.panel.webview.postMessage({ type: 'init', ...this.snapshot() } satisfies HostMessage);
        this.batcher.resume();
        if (this.pendingReveal) {
          this.batcher.send(this.pendingReveal);
          this.pendingReveal = undefined;
        }
        return;
      }
      case 'command':
        switch (msg.command) {
          case 'stop':
            return this.run('stop', () => this.actions?.stop());
          case 'capture':
            return this.run('capture', () => this.actions?.captureNow());
          case 'gc':
            return this.run('collect garbage', () => this.actions?.collectGarbage());
          case 'why':
            return this.run('why retained', () => this.actions?.whyRetained());
          case 'export':
            return this.run('export', () => this.actions?.export());
          case 'pause':
          case 'follow':
            return; // view-only; the session keeps collecting
        }
        return;
      case 'open-site':
        return this.openSite(msg.file, msg.line);
    }
  }

  private run(what: string, fn: () => unknown): void {
    if (!this.actions) {
      void vscode.window.showInformationMessage('This profiling session has ended; start a new one to use this action.');
      return;
    }
    Promise.resolve()
      .then(fn)
      .catch((error: unknown) => {
        const message = `Could not ${what}: ${error instanceof Error ? error.message : String(error)}`;
        this.warn(message);
        void vscode.window.showErrorMessage(message);
      });
  }

  /** Only files the panel actually shows can be opened (the webview is not trusted with paths). */
  private knownFile(file: string): boolean {
    if (this.failure?.location?.file === file) return true;
    return this.sites.some((s) => s.file === file || s.stacks.some((st) => st.frames.some((f) => f.file === file)));
  }

  private openSite(file: string, line: number): void {
    if (!this.knownFile(file)) return;
    if (this.actions) {
      this.run('open the file', () => this.actions!.openSite(file, line));
      return;
    }
    const uri = /^[a-z][a-z0-9+.-]+:/i.test(file) && !/^[a-z]:[\\/]/i.test(file) ? vscode.Uri.parse(file) : vscode.Uri.file(file);
    const pos = new vscode.Position(Math.max(0, line - 1), 0);
    void vscode.window
      .showTextDocument(uri, { selection: new vscode.Range(pos, pos), preview: true, viewColumn: vscode.ViewColumn.One })
      .then(undefined, (error: unknown) => {
        void vscode.window.showErrorMessage(`Could not open ${file}: ${error instanceof Error ? error.message : String(error)}`);
      });
  }
}

/**
 * Registers the serializer that brings panels back after a window reload. `actionsFor` may return
 * actions for a session id that is still alive (it normally is not: the extension host restarted).
 * Needs `"onWebviewPanel:taskmem.memoryPanel"` in activationEvents.
 */
export function registerMemoryPanelSerializer(extensionUri: vscode.Uri, actionsFor?: (sessionId: string) => PanelActions | undefined): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
    deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
      const id = isPersistedState(state) ? state.snapshot.session.id : '';
      MemoryPanel.revive(extensionUri, panel, state, id ? actionsFor?.(id) : undefined);
      return Promise.resolve();
    },
  });
}

/** A task row whose verdict names the extension's settings, not the command line's options. */
function inPanelTerms(task: PanelTask): PanelTask {
  return { ...task, verdict: verdictInSettingsTerms(task.verdict) };
}

/**
 * The status bar item while a session runs: the live heap of the profiled task (sum of the latest
 * `heapUsed` of its live targets; RSS for those without a V8 heap, Python); a click shows the panel. Hidden when nothing runs.
 */
import * as vscode from 'vscode';
import { formatBytes } from '../core/format';
import type { ProfilingSessionApi } from '../session/api';
import { Commands, type SessionRegistry } from './sessionRegistry';

const REFRESH_MS = 500;

export class SessionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('taskMemory.session', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private readonly perSession = new Map<
    ProfilingSessionApi,
    { heap: Map<string, number>; rssTargets: Set<string>; subscriptions: Array<{ dispose(): void }> }
  >();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly registry: SessionRegistry) {
    this.item.name = 'Task Memory';
    this.item.command = Commands.ShowPanel;
    this.disposables.push(
      this.item,
      registry.onDidStart((session) => this.follow(session)),
      registry.onDidEnd(({ session }) => this.unfollow(session)),
      registry.onDidChangeActive(() => this.render()),
    );
    for (const session of registry.all) if (session.state === 'starting' || session.state === 'running') this.follow(session);
    this.render();
  }

  private follow(session: ProfilingSessionApi): void {
    if (this.perSession.has(session)) return;
    const heap = new Map<string, number>();
    const rssTargets = new Set<string>();
    const subscriptions = [
      session.onStats((p) => {
        // A runtime without a V8 heap (Python: it traces only the tasks it samples) shows the process's RSS.
        const rss = p.heapUsed === undefined;
        heap.set(p.targetId, p.heapUsed ?? p.rss ?? 0);
        if (rss) rssTargets.add(p.targetId);
        this.schedule();
      }),
      session.onTargetExit((t) => {
        heap.delete(t.id);
        rssTargets.delete(t.id);
        this.schedule();
      }),
      session.onStateChange(() => this.schedule()),
    ];
    this.perSession.set(session, { heap, rssTargets, subscriptions });
    this.render();
  }

  private unfollow(session: ProfilingSessionApi): void {
    const entry = this.perSession.get(session);
    if (!entry) return;
    for (const s of entry.subscriptions) s.dispose();
    this.perSession.delete(session);
    this.render();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, REFRESH_MS);
  }

  /** The running session the item shows: the active one when it runs, else the newest running. */
  private shown(): ProfilingSessionApi | undefined {
    const active = this.registry.active;
    if (active && this.perSession.has(active)) return active;
    return [...this.perSession.keys()].pop();
  }

  private render(): void {
    const session = this.shown();
    if (!session) {
      this.item.hide();
      return;
    }
    const entry = this.perSession.get(session);
    const heap = entry?.heap ?? new Map<string, number>();
    const what = entry && entry.rssTargets.size > 0 ? (entry.rssTargets.size === heap.size ? 'RSS' : 'live heap and RSS (Python)') : 'live heap';
    const total = [...heap.values()].reduce((sum, v) => sum + (Number.isFinite(v) ? v : 0), 0);
    const running = this.perSession.size;
    const figure = heap.size ? formatBytes(total) : session.state === 'starting' ? 'starting…' : '—';
    this.item.text = `$(pulse) ${figure}`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendText(`Task Memory: ${what} of ${describe(session)}${heap.size > 1 ? ` (${heap.size} processes)` : ''}`);
    if (running > 1) tooltip.appendText(`\n\n${running} sessions are running.`);
    tooltip.appendMarkdown('\n\nClick to show the memory panel.');
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: `Task Memory: ${what} ${figure}`, role: 'button' };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const session of [...this.perSession.keys()]) this.unfollow(session);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function describe(session: ProfilingSessionApi): string {
  const o = session.options;
  if (o.mode === 'harness' && o.harness) return `${o.harness.file.split(/[\\/]/).pop()}#${o.harness.exportName}`;
  if (o.mode === 'attach') return 'the attached process';
  return (o.command ?? []).join(' ');
}

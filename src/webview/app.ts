/**
 * The memory panel UI: toolbar, verdict banner, live chart, task table and retaining sites.
 * Receives `HostMessage`s, sends `WebviewMessage`s, persists a thinned snapshot with `setState`.
 * All text from the profiled program goes through `h()` (text nodes), never through innerHTML.
 */
import type { HeapStatsPoint, SessionMark, TargetInfo, Verdict } from '../core/model';
import type { RecyclingAdvice } from '../core/recyclingAdvisor';
import type { SessionWhy } from '../core/why/model';
import {
  PANEL_STATE_VERSION,
  isPersistedState,
  type HostMessage,
  type PanelSessionInfo,
  type PanelSessionState,
  type PanelSite,
  type PanelSnapshot,
  type PanelFailure,
  type PanelTask,
  type PanelWorkerTrend,
  type PersistedWebviewState,
  type WebviewMessage,
} from '../shared/protocol';
import { MemoryChart, type ChartView } from './chart';
import { clear, h, icon } from './dom';
import { formatLocation } from './format';
import { failureBanner } from './failure';
import { recyclingSection } from './recycling';
import { whyContent } from './why';
import { buildPanelLayout, type PanelElements } from './panelLayout';
import { MAX_SITES_SHOWN, sitesTable } from './sitesTable';
import { tasksTable } from './tasksTable';
import { VERDICT_LOOK } from './verdictLook';
import { RetainedChart } from './retainedChart';
import { columnsToPoints, extractTarget } from './series';

export interface HostBridge {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: PersistedWebviewState): void;
}

const STATE_LABEL: Record<PanelSessionState, string> = {
  starting: 'Starting',
  running: 'Running',
  stopping: 'Stopping',
  ended: 'Ended',
  restored: 'Restored',
};

const PERSIST_DELAY_MS = 2000;
const PERSIST_BUCKETS = 1500;
const PERSIST_MARKS = 4000;

export class PanelApp {
  private session: PanelSessionInfo = { id: '', title: 'Memory profile' };
  private state: PanelSessionState = 'starting';
  private targets: TargetInfo[] = [];
  private tasks: PanelTask[] = [];
  private workerTrend: PanelWorkerTrend | undefined;
  private sites: PanelSite[] = [];
  private verdict: Verdict | undefined;
  private recycling: RecyclingAdvice | undefined;
  private sessionWhy: SessionWhy | undefined;
  private failure: PanelFailure | undefined;
  private warnings: string[] = [];
  private marks: SessionMark[] = [];
  private expanded = new Set<string>();
  private siteRows = new Map<string, HTMLTableRowElement>();
  private taskRows = new Map<string, HTMLTableRowElement>();
  private persistTimer: ReturnType<typeof setTimeout> | undefined;
  private windowMinutes = 5;

  readonly chart: MemoryChart;
  private readonly retainedChart: RetainedChart;
  private readonly el: PanelElements;

  constructor(
    root: HTMLElement,
    private readonly host: HostBridge,
  ) {
    const layout = buildPanelLayout(root, this.windowMinutes, {
      command: (command) => this.send({ type: 'command', command }),
      togglePause: () => {
        const paused = !this.chart.getView().paused;
        this.chart.setPaused(paused);
        this.send({ type: 'command', command: paused ? 'pause' : 'follow' });
      },
      follow: () => {
        this.chart.follow();
        this.send({ type: 'command', command: 'follow' });
      },
      windowChanged: (minutes) => {
        this.windowMinutes = minutes;
        this.chart.setWindow(minutes * 60);
        this.schedulePersist();
      },
    });
    const { chartBox, legend, retainedCard, retainedBox, retainedLegend } = layout;
    this.el = layout.el;

    this.retainedChart = new RetainedChart(retainedCard, retainedBox, retainedLegend);
    this.chart = new MemoryChart(chartBox, legend, {
      windowSec: this.windowMinutes * 60,
      onViewChange: (v) => {
        this.renderView(v);
        this.schedulePersist();
      },
      onHiddenChange: () => this.schedulePersist(),
    });
    this.renderAll();
  }

  /** Restores what `setState` saved before a reload; returns whether there was anything. */
  restore(raw: unknown): boolean {
    if (!isPersistedState(raw)) return false;
    const { snapshot, view } = raw;
    this.windowMinutes = view.windowMinutes;
    this.el.windowSelect.value = String(view.windowMinutes);
    this.applySnapshot({ ...snapshot, state: snapshot.state === 'ended' ? 'ended' : 'restored' }, view.hidden);
    this.chart.setWindow(view.windowMinutes * 60);
    return true;
  }

  handle(msg: HostMessage): void {
    switch (msg.type) {
      case 'init': {
        const { type: _type, ...snapshot } = msg;
        this.applySnapshot(snapshot, this.chart.getHidden());
        break;
      }
      case 'stats':
        this.chart.append(msg.points);
        if (this.state === 'starting' && msg.points.length) this.setState('running');
        break;
      case 'mark':
        this.marks.push(...msg.marks);
        if (this.marks.length > PERSIST_MARKS * 2) this.marks = this.marks.slice(-PERSIST_MARKS);
        this.chart.addMarks(msg.marks);
        break;
      case 'targets':
        this.targets = msg.targets;
        this.chart.setTargets(msg.targets);
        break;
      case 'tasks':
        this.tasks = msg.tasks;
        this.workerTrend = msg.workerTrend;
        this.renderTasks();
        break;
      case 'sites':
        this.sites = msg.sites;
        this.renderSites();
        break;
      case 'failure':
        this.failure = msg.failure;
        this.renderBanner();
        this.renderTasks();
        break;
      case 'why':
        this.sessionWhy = msg.why;
        this.renderWhy();
        break;
      case 'verdict':
        this.verdict = msg.verdict;
        this.recycling = msg.recycling;
        this.renderBanner();
        break;
      case 'state':
        this.setState(msg.state);
        break;
      case 'warning':
        this.warnings = [...this.warnings, msg.message].slice(-5);
        this.renderWarnings();
        break;
      case 'reveal-site':
        this.revealSite(msg.key);
        return;
      case 'reveal-task':
        this.revealTask(msg.name);
        return;
      default:
        return;
    }
    this.schedulePersist();
  }

  private applySnapshot(s: PanelSnapshot, hidden: string[]): void {
    this.session = s.session;
    this.state = s.state;
    this.targets = s.targets ?? [];
    this.tasks = s.tasks ?? [];
    this.workerTrend = s.workerTrend;
    this.sites = s.sites ?? [];
    this.verdict = s.verdict;
    this.recycling = s.recycling;
    this.sessionWhy = s.why;
    this.failure = s.failure;
    this.warnings = s.warnings ?? [];
    this.marks = s.marks ?? [];
    this.chart.clearData();
    this.chart.setHidden(hidden);
    this.chart.setTargets(this.targets);
    const points: HeapStatsPoint[] = [];
    for (const cols of s.stats ?? []) points.push(...columnsToPoints(cols));
    points.sort((a, b) => a.t - b.t);
    this.chart.append(points);
    this.chart.addMarks(this.marks);
    this.renderAll();
  }

  private setState(state: PanelSessionState): void {
    this.state = state;
    this.renderHeader();
  }

  private send(msg: WebviewMessage): void {
    this.host.postMessage(msg);
  }

  private renderAll(): void {
    this.renderHeader();
    this.renderBanner();
    this.renderWarnings();
    this.renderView(this.chart.getView());
    this.renderTasks();
    this.renderSites();
  }

  private renderHeader(): void {
    const { title, statePill, buttons } = this.el;
    title.textContent = this.session.title || 'Memory profile';
    title.title = this.session.title;
    document.title = `Memory: ${this.session.title}`;
    statePill.textContent = STATE_LABEL[this.state];
    statePill.className = `state-pill state-${this.state}`;
    const live = this.state === 'running' || this.state === 'starting';
    this.chart.setEnded(this.state === 'ended' || this.state === 'restored');
    buttons.stop.disabled = !live;
    buttons.capture.disabled = this.state !== 'running';
    buttons.gc.disabled = this.state !== 'running';
    // The harness explains by itself after its runs; workers and attach ask (each reading pauses the process).
    buttons.why.hidden = this.session.mode === undefined || this.session.mode === 'harness';
    buttons.why.disabled = this.state !== 'running';
    buttons.export.disabled = this.state === 'restored' || this.state === 'starting';
    if (this.state === 'restored') buttons.export.title = 'The session ended with the previous window; export from the saved report';
  }

  private renderView(v: ChartView): void {
    const { pause, viewStatus } = this.el;
    clear(pause);
    pause.append(icon(v.paused ? 'debug-continue' : 'debug-pause'), h('span', null, v.paused ? 'Resume' : 'Pause'));
    pause.setAttribute('aria-pressed', String(v.paused));
    pause.title = v.paused ? 'Resume drawing new data' : 'Freeze the chart (data keeps arriving)';
    viewStatus.textContent = v.paused ? 'Paused' : v.mode === 'zoom' ? 'Zoomed' : '';
    viewStatus.hidden = !viewStatus.textContent;
  }

  private renderBanner(): void {
    const el = this.el.banner;
    clear(el);
    const v = this.verdict;
    if (this.failure && !v) {
      el.append(...failureBanner(el, this.failure, (file, line) => this.openSite(file, line), this.session.mode === 'worker'));
      return;
    }
    if (!v) {
      // Nothing spins on an ended session (a worker whose Node crashed at exit ended with no runs and a spinner).
      const ended = this.state === 'ended' || this.state === 'restored';
      el.className = 'banner banner-pending';
      el.append(
        ended ? icon('info', 'banner-icon') : icon('loading', 'codicon-modifier-spin banner-icon'),
        h(
          'div',
          { class: 'banner-body' },
          h(
            'p',
            { class: 'banner-summary' },
            ended ? 'No verdict: the session ended before enough runs were measured.' : 'Measuring… a verdict appears after a few measured runs.',
          ),
          h('p', { class: 'banner-advice' }, 'Each finished task adds a point; warm-up runs are left out because the first runs also load code.'),
        ),
      );
      return;
    }
    const look = VERDICT_LOOK[v.kind] ?? VERDICT_LOOK.inconclusive;
    el.className = `banner banner-${v.kind}`;
    const body = h(
      'div',
      { class: 'banner-body' },
      h('p', { class: 'banner-title' }, h('strong', null, look.label), h('span', { class: 'confidence' }, ` · ${Math.round(v.confidence * 100)}% confidence`)),
      h('p', { class: 'banner-summary' }, v.summary),
      v.advice ? h('p', { class: 'banner-advice' }, h('strong', null, 'Try next: '), v.advice) : null,
    );
    if (v.evidence?.length) {
      const list = h('ul', { class: 'evidence' });
      for (const e of v.evidence) list.append(h('li', null, e));
      body.append(h('details', { class: 'evidence-details' }, h('summary', null, `Evidence (${v.evidence.length})`), list));
    }
    if (this.recycling) body.append(recyclingSection(this.recycling));
    el.append(icon(look.icon, 'banner-icon'), body);
  }

  private renderWarnings(): void {
    const el = this.el.warnings;
    clear(el);
    for (const w of this.warnings) el.append(h('p', { class: 'warning' }, icon('warning'), h('span', null, w)));
  }

  private renderWhy(): void {
    const unit = this.session.mode !== undefined && this.session.mode !== 'harness' ? 'task' : 'run';
    const content = whyContent(this.tasks, unit, (file, line, label) => this.locationLink(file, line, label), this.sessionWhy);
    clear(this.el.whyBody);
    if (content) this.el.whyBody.append(content);
    this.el.whyCard.hidden = !content;
  }

  private renderTasks(): void {
    this.renderWhy();
    this.retainedChart.setTasks(this.tasks, this.workerTrend);
    const el = this.el.tasks;
    clear(el);
    this.el.taskCount.textContent = this.tasks.length ? `(${this.tasks.length})` : '';
    if (!this.tasks.length) {
      el.append(
        this.failure
          ? h('p', { class: 'empty' }, icon('error'), ' No task ran: the session failed (see above).')
          : h('p', { class: 'empty' }, icon('history'), ' No task has finished yet — each finished run adds a row here.'),
      );
      return;
    }
    const { table, rows } = tasksTable(this.tasks, this.session.mode !== undefined && this.session.mode !== 'harness' ? 'task' : 'run');
    this.taskRows = rows;
    el.append(table);
  }

  private openSite(file: string, line: number): void {
    if (file) this.send({ type: 'open-site', file, line: Math.max(1, Math.floor(line)) });
  }

  private locationLink(file: string, line: number, label?: string): HTMLElement {
    if (!file) return h('span', { class: 'muted' }, '(native)');
    const a = h('button', { type: 'button', class: 'link', title: `Open ${file}:${line}` }, label ?? formatLocation(file, line));
    a.addEventListener('click', () => this.openSite(file, line));
    return a;
  }

  private renderSites(): void {
    const el = this.el.sites;
    clear(el);
    this.siteRows.clear();
    this.el.siteCount.textContent = this.sites.length ? `(${this.sites.length})` : '';
    if (!this.sites.length) {
      // A harness captures after its runs; a worker or an attached process now and then, or on demand.
      const when = this.session.mode === 'harness' ? 'a capture runs after each run' : 'captures run as the worker goes, or use Capture Retained Now';
      el.append(h('p', { class: 'empty' }, icon('search'), ` No retained sites yet — ${when}.`));
      return;
    }
    const { table, rows } = sitesTable(this.sites, {
      perTask: this.session.mode !== undefined && this.session.mode !== 'harness',
      expanded: this.expanded,
      locationLink: (file, line) => this.locationLink(file, line),
    });
    this.siteRows = rows;
    el.append(table);
    if (this.sites.length > MAX_SITES_SHOWN) el.append(h('p', { class: 'hint' }, `Showing the top ${MAX_SITES_SHOWN} of ${this.sites.length} sites.`));
  }

  revealSite(key: string): void {
    this.flashRow(this.siteRows.get(key));
  }

  revealTask(name: string): void {
    this.flashRow(this.taskRows.get(name));
  }

  private flashRow(row: HTMLTableRowElement | undefined): void {
    if (!row) return;
    row.scrollIntoView({ block: 'center', behavior: 'smooth' });
    row.classList.remove('flash');
    void row.offsetWidth; // restart the animation
    row.classList.add('flash');
    row.querySelector<HTMLElement>('button.link')?.focus({ preventScroll: true });
  }

  private schedulePersist(): void {
    if (this.persistTimer) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      this.persistNow();
    }, PERSIST_DELAY_MS);
  }

  /** Saves a thinned copy of everything for `getState` after a reload. */
  persistNow(): void {
    const store = this.chart.store;
    const targetIds = [...new Set(store.keys.map((k) => k.targetId))];
    const stats = targetIds.map((targetId) => ({ targetId, ...extractTarget(store, targetId, PERSIST_BUCKETS) }));
    const view = this.chart.getView();
    this.host.setState({
      version: PANEL_STATE_VERSION,
      snapshot: {
        session: this.session,
        state: this.state,
        targets: this.targets,
        stats,
        marks: this.marks.slice(-PERSIST_MARKS),
        tasks: this.tasks,
        ...(this.workerTrend ? { workerTrend: this.workerTrend } : {}),
        sites: this.sites,
        verdict: this.verdict,
        ...(this.recycling ? { recycling: this.recycling } : {}),
        ...(this.sessionWhy ? { why: this.sessionWhy } : {}),
        ...(this.failure ? { failure: this.failure } : {}),
        warnings: this.warnings,
      },
      view: { follow: view.mode === 'follow', paused: view.paused, windowMinutes: this.windowMinutes, hidden: this.chart.getHidden() },
    });
  }
}

/**
 * The memory panel UI: toolbar, verdict banner, live chart, task table and retaining sites.
 * Receives `HostMessage`s, sends `WebviewMessage`s, persists a thinned snapshot with `setState`.
 * All text from the profiled program goes through `h()` (text nodes), never through innerHTML.
 */
import type { HeapStatsPoint, SessionMark, TargetInfo, Verdict, VerdictKind } from '../core/model';
import type { RecyclingAdvice } from '../core/recyclingAdvisor';
import type { SessionWhy } from '../core/why/model';
import {
  PANEL_STATE_VERSION,
  isPersistedState,
  type HostMessage,
  type PanelCommand,
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
import { displayFunction, formatBytes, formatBytesPerRun, formatLocation, formatShare, shortPath, truncate } from './format';
import { failureBanner } from './failure';
import { recyclingSection } from './recycling';
import { whyContent } from './why';
import { RetainedChart } from './retainedChart';
import { columnsToPoints, extractTarget } from './series';

export interface HostBridge {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: PersistedWebviewState): void;
}

interface VerdictLook {
  label: string;
  icon: string;
}

export const VERDICT_LOOK: Record<VerdictKind, VerdictLook> = {
  leak: { label: 'Leak', icon: 'error' },
  plateau: { label: 'Plateau', icon: 'warning' },
  'no-leak': { label: 'No leak', icon: 'pass' },
  'allocator-high-water': { label: 'Allocator high water', icon: 'info' },
  inconclusive: { label: 'Inconclusive', icon: 'question' },
};

const STATE_LABEL: Record<PanelSessionState, string> = {
  starting: 'Starting',
  running: 'Running',
  stopping: 'Stopping',
  ended: 'Ended',
  restored: 'Restored',
};

const MAX_SITES_SHOWN = 50;
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
  private readonly el: {
    title: HTMLElement;
    statePill: HTMLElement;
    buttons: Record<'stop' | 'capture' | 'gc' | 'why' | 'export', HTMLButtonElement>;
    banner: HTMLElement;
    warnings: HTMLElement;
    pause: HTMLButtonElement;
    follow: HTMLButtonElement;
    windowSelect: HTMLSelectElement;
    viewStatus: HTMLElement;
    tasks: HTMLElement;
    taskCount: HTMLElement;
    sites: HTMLElement;
    siteCount: HTMLElement;
    whyCard: HTMLElement;
    whyBody: HTMLElement;
  };

  constructor(
    root: HTMLElement,
    private readonly host: HostBridge,
  ) {
    const button = (command: PanelCommand, codicon: string, label: string, title: string, primary = false): HTMLButtonElement => {
      const b = h('button', { type: 'button', class: primary ? 'btn btn-primary' : 'btn', title }, icon(codicon), h('span', null, label));
      b.addEventListener('click', () => this.send({ type: 'command', command }));
      return b;
    };
    const buttons = {
      stop: button('stop', 'debug-stop', 'Stop', 'Stop profiling and end the launched processes'),
      capture: button('capture', 'record', 'Capture Retained Now', 'Collect garbage and capture what is still retained', true),
      gc: button('gc', 'trash', 'Collect Garbage', 'Run a full garbage collection in every target'),
      why: button(
        'why',
        'references',
        'Why Is It Kept?',
        'First press: read the heap. Next press: explain what the tasks since kept and the lines that hold it. Each reading pauses the process.',
      ),
      export: button('export', 'export', 'Export', 'Save the report and the retained heap profile'),
    };
    const title = h('h1', { class: 'session-title' });
    const statePill = h('span', { class: 'state-pill', role: 'status' });
    const banner = h('section', { class: 'banner', 'aria-live': 'polite', 'aria-label': 'Verdict' });
    const warnings = h('div', { class: 'warnings', 'aria-live': 'polite' });

    const pause = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false' });
    pause.addEventListener('click', () => {
      const paused = !this.chart.getView().paused;
      this.chart.setPaused(paused);
      this.send({ type: 'command', command: paused ? 'pause' : 'follow' });
    });
    const follow = h(
      'button',
      { type: 'button', class: 'btn btn-small', title: 'Follow the newest data (double-click the chart does the same)' },
      icon('pinned'),
      h('span', null, 'Follow'),
    );
    follow.addEventListener('click', () => {
      this.chart.follow();
      this.send({ type: 'command', command: 'follow' });
    });
    const windowSelect = h('select', { class: 'select', 'aria-label': 'Time window while following' });
    for (const [v, text] of [
      ['1', 'Last 1 min'],
      ['5', 'Last 5 min'],
      ['15', 'Last 15 min'],
      ['60', 'Last hour'],
      ['0', 'Everything'],
    ] as const) {
      windowSelect.append(h('option', { value: v }, text));
    }
    windowSelect.value = String(this.windowMinutes);
    windowSelect.addEventListener('change', () => {
      this.windowMinutes = Number(windowSelect.value);
      this.chart.setWindow(this.windowMinutes * 60);
      this.schedulePersist();
    });
    const viewStatus = h('span', { class: 'view-status', role: 'status' });

    const chartBox = h('div', { class: 'chart' });
    const retainedBox = h('div', { class: 'retained-chart' });
    const retainedLegend = h('div', { class: 'legend retained-legend', role: 'group', 'aria-label': 'Tasks drawn' });
    const retainedCard = h(
      'section',
      { class: 'card retained-card', 'aria-labelledby': 'retained-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'retained-heading' }, 'Kept after each run')),
      retainedLegend,
      retainedBox,
      h('p', { class: 'hint retained-hint' }),
    );
    retainedCard.hidden = true;
    const whyBody = h('div', { class: 'why-wrap' });
    const whyCard = h(
      'section',
      { class: 'card why-card', 'aria-labelledby': 'why-heading' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', { id: 'why-heading' }, 'Why it is kept'),
        h('span', { class: 'card-note' }, 'the references that hold what the runs kept'),
      ),
      whyBody,
    );
    whyCard.hidden = true;
    const legend = h('div', { class: 'legend', role: 'group', 'aria-label': 'Series (click to hide or show)' });
    const tasks = h('div', { class: 'table-wrap' });
    const sites = h('div', { class: 'table-wrap' });
    const taskCount = h('span', { class: 'count' });
    const siteCount = h('span', { class: 'count' });

    root.append(
      h(
        'header',
        { class: 'toolbar' },
        h('div', { class: 'toolbar-title' }, icon('pulse'), title, statePill),
        h(
          'div',
          { class: 'toolbar-actions', role: 'toolbar', 'aria-label': 'Session actions' },
          buttons.stop,
          buttons.capture,
          buttons.gc,
          buttons.why,
          buttons.export,
        ),
      ),
      banner,
      warnings,
      retainedCard,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'chart-heading' },
        h(
          'div',
          { class: 'card-head' },
          h('h2', { id: 'chart-heading' }, 'Memory over time'),
          h('div', { class: 'chart-controls' }, viewStatus, windowSelect, pause, follow),
        ),
        legend,
        chartBox,
        h('p', { class: 'hint' }, 'Drag across the chart to zoom, double-click to follow again. Vertical lines mark GC, task start/end and captures.'),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'tasks-heading' },
        h('div', { class: 'card-head' }, h('h2', { id: 'tasks-heading' }, 'Tasks ', taskCount)),
        tasks,
      ),
      whyCard,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'sites-heading' },
        h(
          'div',
          { class: 'card-head' },
          h('h2', { id: 'sites-heading' }, 'Top retaining sites ', siteCount),
          h('span', { class: 'card-note' }, 'still reachable after a full GC'),
        ),
        sites,
      ),
    );
    this.el = { title, statePill, buttons, banner, warnings, pause, follow, windowSelect, viewStatus, tasks, taskCount, sites, siteCount, whyCard, whyBody };

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

  private badge(v: Verdict): HTMLElement {
    const look = VERDICT_LOOK[v.kind] ?? VERDICT_LOOK.inconclusive;
    return h(
      'span',
      { class: `badge badge-${v.kind}`, title: `${v.summary} (${Math.round(v.confidence * 100)}% confidence)` },
      icon(look.icon),
      h('span', null, look.label),
    );
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
    const table = h('table', { class: 'data' }, h('caption', { class: 'visually-hidden' }, 'Tasks: runs, bytes kept per run, growth and verdict'));
    table.append(
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Task'),
          h('th', { scope: 'col', class: 'num' }, 'Runs'),
          h(
            'th',
            {
              scope: 'col',
              class: 'num',
              title:
                'Median bytes a measured run allocated and still kept after a full GC (Python workers: traced tasks; Node workers: —, since a task measured inside the worker reads a steady offset, and Growth decides)',
            },
            'Kept / run',
          ),
          h(
            'th',
            {
              scope: 'col',
              class: 'num',
              title:
                'Growth of retained memory per run: over the later runs (harness), or from the trend of the retained heap after each full GC against the tasks finished (workers)',
            },
            'Growth',
          ),
          h('th', { scope: 'col' }, 'Verdict'),
        ),
      ),
    );
    const body = h('tbody');
    const sorted = [...this.tasks].sort((a, b) => b.bytesPerRun - a.bytesPerRun);
    this.taskRows.clear();
    for (const t of sorted) {
      const runs =
        t.sampledRuns !== undefined && t.sampledRuns !== t.runs
          ? `${t.runs.toLocaleString('en-US')} (${t.sampledRuns} measured)`
          : t.runs.toLocaleString('en-US');
      const row = body.appendChild(
        h(
          'tr',
          null,
          h('td', { class: 'name', title: t.name }, truncate(t.name, 80)),
          h('td', { class: 'num' }, runs),
          h('td', { class: 'num' }, t.keptPerRun === undefined ? '—' : formatBytes(t.keptPerRun)),
          h(
            'td',
            { class: 'num', title: t.rSquared !== undefined ? `R² = ${t.rSquared.toFixed(2)}` : undefined },
            formatBytesPerRun(t.bytesPerRun, this.session.mode !== undefined && this.session.mode !== 'harness' ? 'task' : 'run'),
          ),
          h('td', null, this.badge(t.verdict)),
        ),
      );
      this.taskRows.set(t.name, row);
    }
    table.append(body);
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
    const table = h('table', { class: 'data sites' }, h('caption', { class: 'visually-hidden' }, 'Top retaining sites'));
    // A worker's sites grow per task of any name (captures know only the tasks finished), not per run of one task.
    const perTask = this.session.mode !== undefined && this.session.mode !== 'harness';
    table.append(
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col', class: 'expander' }, h('span', { class: 'visually-hidden' }, 'Stack')),
          h('th', { scope: 'col' }, 'Function'),
          h('th', { scope: 'col' }, 'Location'),
          h('th', { scope: 'col', class: 'num' }, 'Retained'),
          h('th', { scope: 'col', class: 'share-col' }, 'Share'),
          perTask
            ? h(
                'th',
                {
                  scope: 'col',
                  class: 'num',
                  title: "Growth of this site per task finished, of any name: the sites together grow about as fast as the worker's heap",
                },
                'Per task',
              )
            : h('th', { scope: 'col', class: 'num', title: 'Growth of this site per measured run' }, 'Per run'),
        ),
      ),
    );
    const body = h('tbody');
    const sorted = [...this.sites].sort((a, b) => b.retainedBytes - a.retainedBytes).slice(0, MAX_SITES_SHOWN);
    sorted.forEach((s, i) => {
      const detailId = `site-detail-${i}`;
      const open = this.expanded.has(s.key);
      const toggle = h(
        'button',
        { type: 'button', class: 'icon-btn', 'aria-expanded': String(open), 'aria-controls': detailId, title: 'Show the allocation stack' },
        icon(open ? 'chevron-down' : 'chevron-right'),
        h('span', { class: 'visually-hidden' }, `Allocation stack of ${displayFunction(s.function)}`),
      );
      const fn = displayFunction(s.function);
      const shareBar = h('span', { class: 'share-bar', 'aria-hidden': 'true' }, h('span', { class: 'share-fill' }));
      (shareBar.firstChild as HTMLElement).style.width = `${Math.max(1, Math.min(100, s.share * 100)).toFixed(1)}%`;
      const row = h(
        'tr',
        { class: 'site-row' },
        h('td', { class: 'expander' }, toggle),
        h(
          'td',
          { class: 'name', title: fn },
          h('code', null, truncate(fn, 60)),
          s.category !== 'user' ? h('span', { class: `chip chip-${s.category}` }, s.category) : null,
          s.precision === 'function'
            ? h('span', { class: 'chip chip-precision', title: 'Node attributes allocations per function: the line is where the function starts' }, 'fn')
            : null,
        ),
        h('td', { class: 'loc' }, this.locationLink(s.file, s.line)),
        h('td', { class: 'num' }, formatBytes(s.retainedBytes)),
        h('td', { class: 'share-col' }, shareBar, h('span', { class: 'share-text' }, formatShare(s.share))),
        h('td', { class: 'num' }, s.bytesPerRun === undefined ? '—' : formatBytesPerRun(s.bytesPerRun, perTask ? 'task' : 'run')),
      );
      this.siteRows.set(s.key, row);
      const detail = h('tr', { class: 'site-detail', id: detailId }, h('td', { colspan: 6 }, this.stackView(s)));
      detail.hidden = !open;
      toggle.addEventListener('click', () => {
        const nowOpen = detail.hidden;
        detail.hidden = !nowOpen;
        toggle.setAttribute('aria-expanded', String(nowOpen));
        clear(toggle);
        toggle.append(icon(nowOpen ? 'chevron-down' : 'chevron-right'), h('span', { class: 'visually-hidden' }, `Allocation stack of ${fn}`));
        if (nowOpen) this.expanded.add(s.key);
        else this.expanded.delete(s.key);
      });
      body.append(row, detail);
    });
    table.append(body);
    el.append(table);
    if (this.sites.length > MAX_SITES_SHOWN) el.append(h('p', { class: 'hint' }, `Showing the top ${MAX_SITES_SHOWN} of ${this.sites.length} sites.`));
  }

  private stackView(s: PanelSite): HTMLElement {
    const box = h('div', { class: 'stacks' });
    if (!s.stacks.length) {
      box.append(h('p', { class: 'muted' }, 'No stack recorded for this site.'));
      return box;
    }
    s.stacks.forEach((st, i) => {
      const ol = h('ol', { class: 'stack' });
      for (const f of st.frames) {
        ol.append(
          h(
            'li',
            { class: `frame frame-${f.category}` },
            h('code', { class: 'frame-fn', title: displayFunction(f.function) }, truncate(displayFunction(f.function), 70)),
            ' ',
            f.file ? this.locationLink(f.file, f.line) : h('span', { class: 'muted' }, '(native)'),
          ),
        );
      }
      box.append(h('div', { class: 'stack-head' }, `Stack ${i + 1} · ${formatBytes(st.bytes)}`, h('span', { class: 'muted' }, ' · innermost first')), ol);
    });
    box.append(h('p', { class: 'muted small', title: s.file }, shortPath(s.file) === s.file ? '' : s.file));
    return box;
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

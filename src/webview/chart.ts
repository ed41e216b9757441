/**
 * The live statistics chart: uPlot over a columnar `SeriesStore`, min/max decimated to the plot
 * width, marks (GC, task start/end, captures) drawn by a plugin, a keyboard-reachable legend that
 * hides series and shows hover values, follow / pause / drag-zoom / double-click reset.
 *
 * `setData` runs at most once per animation frame (`schedule`); `renderNow` is synchronous (bench).
 */
import uPlot from 'uplot';
import type { SessionMark, SessionMarkKind, TargetInfo } from '../core/model';
import type { StatsMetric } from '../shared/protocol';
import { clear, h } from './dom';
import { formatBytes, formatBytesAxis, formatCount, formatElapsed, formatElapsedTicks } from './format';
import { decimate, lowerBound, paddedRange, SeriesStore, seriesId, type SeriesKey } from './series';

export type ChartMode = 'follow' | 'zoom';

export interface ChartView {
  mode: ChartMode;
  paused: boolean;
  windowSec: number;
}

export interface ChartOptions {
  windowSec?: number;
  /** Called when the user changes the view (pause, zoom, reset) so the app can update its buttons. */
  onViewChange?: (view: ChartView) => void;
  /** Called when a series or mark kind is hidden/shown (persisted). */
  onHiddenChange?: (hidden: string[]) => void;
  hidden?: string[];
  /** Fixed size for benchmarks; otherwise the container's size is used. */
  width?: number;
  height?: number;
}

interface MetricStyle {
  label: string;
  color: string;
  fallback: string;
  count?: boolean;
}

const METRIC_STYLE: Record<StatsMetric, MetricStyle> = {
  heapUsed: { label: 'Heap used', color: '--vscode-charts-blue', fallback: '#3794ff' },
  heapTotal: { label: 'Heap total', color: '--vscode-charts-purple', fallback: '#b180d7' },
  rss: { label: 'RSS', color: '--vscode-charts-orange', fallback: '#d18616' },
  external: { label: 'External', color: '--vscode-charts-yellow', fallback: '#cca700' },
  arrayBuffers: { label: 'Array buffers', color: '--vscode-charts-red', fallback: '#f14c4c' },
  tracedBytes: { label: 'Traced memory', color: '--vscode-charts-blue', fallback: '#3794ff' },
  allocatedBlocks: { label: 'Allocated blocks', color: '--vscode-charts-purple', fallback: '#b180d7', count: true },
  gcCollections: { label: 'GC collections', color: '--vscode-charts-green', fallback: '#89d185', count: true },
};

/** Metrics a Python target does not get as series (heapUsed/heapTotal duplicate traced bytes and RSS). */
const PYTHON_SKIP: ReadonlySet<StatsMetric> = new Set(['heapUsed', 'heapTotal']);

const MARK_KINDS: { kind: SessionMarkKind; label: string }[] = [
  { kind: 'gc', label: 'GC' },
  { kind: 'task-start', label: 'Task start' },
  { kind: 'task-end', label: 'Task end' },
  { kind: 'capture', label: 'Capture' },
];

const TARGET_DASHES: number[][] = [[], [6, 3], [2, 3], [10, 3, 2, 3]];

/** Byte-friendly tick increments: 1, 2, 5 ×10ⁿ of each binary unit. */
const BYTE_INCRS: number[] = (() => {
  const out: number[] = [];
  for (let k = 0; k <= 4; k++) for (const m of [1, 2, 5, 10, 20, 50, 100, 200, 500]) out.push(m * 1024 ** k);
  return out;
})();

interface ChartMark {
  x: number;
  kind: SessionMarkKind;
}

export function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** "#rrggbb" + alpha → "#rrggbbaa"; other colour syntaxes are returned as they are. */
export function withAlpha(color: string, alpha: number): string {
  const a = Math.round(Math.max(0, Math.min(1, alpha)) * 255)
    .toString(16)
    .padStart(2, '0');
  if (/^#[0-9a-f]{6}$/i.test(color)) return color + a;
  if (/^#[0-9a-f]{3}$/i.test(color)) return '#' + [...color.slice(1)].map((c) => c + c).join('') + a;
  return color;
}

export class MemoryChart {
  readonly store: SeriesStore;
  private marks: ChartMark[] = [];
  private u: uPlot | undefined;
  private builtLayout = -1;
  private targets = new Map<string, TargetInfo>();
  private targetOrder: string[] = [];
  private hidden: Set<string>;
  private view: ChartView;
  private zoomRange: [number, number] | undefined;
  private frame = 0;
  private settingScale = false;
  private legendValues: HTMLElement[] = [];
  private legendTime: HTMLElement | undefined;
  private cursorIdx: number | null = null;
  private resizeObserver: ResizeObserver | undefined;
  private themeObserver: MutationObserver | undefined;
  private colors = { fg: '', grid: '', muted: '' };
  private readonly plotEl: HTMLElement;
  private readonly emptyEl: HTMLElement;
  /** The session ended: the empty chart says so instead of waiting. */
  private ended = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly legendEl: HTMLElement,
    private readonly opts: ChartOptions = {},
  ) {
    this.store = new SeriesStore(0.05, 4096, (targetId, metric) => {
      const t = this.targets.get(targetId);
      return !(t?.runtime === 'python' && PYTHON_SKIP.has(metric));
    });
    this.hidden = new Set(opts.hidden ?? []);
    this.view = { mode: 'follow', paused: false, windowSec: opts.windowSec ?? 300 };
    this.plotEl = h('div', { class: 'chart-plot' });
    this.emptyEl = h(
      'div',
      { class: 'empty chart-empty', role: 'status' },
      h('span', { class: 'codicon codicon-loading codicon-modifier-spin', 'aria-hidden': 'true' }),
      ' Waiting for the first statistics…',
    );
    root.append(this.plotEl, this.emptyEl);
    if (typeof ResizeObserver !== 'undefined' && opts.width === undefined) {
      this.resizeObserver = new ResizeObserver(() => this.resize());
      this.resizeObserver.observe(root);
    }
    if (typeof MutationObserver !== 'undefined') {
      // VS Code swaps the body class and the --vscode-* variables on a theme change.
      this.themeObserver = new MutationObserver(() => {
        // A rebuilt plot starts empty: draw the data again (an ended session gets no new points).
        this.rebuild();
        this.renderNow();
      });
      this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
      this.themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
    }
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.resizeObserver?.disconnect();
    this.themeObserver?.disconnect();
    this.u?.destroy();
    this.u = undefined;
  }

  getView(): ChartView {
    return { ...this.view };
  }

  setHidden(ids: readonly string[]): void {
    this.hidden = new Set(ids);
    this.builtLayout = -1;
    this.schedule();
  }

  getHidden(): string[] {
    return [...this.hidden];
  }

  setTargets(targets: readonly TargetInfo[]): void {
    let changed = false;
    for (const t of targets) {
      const old = this.targets.get(t.id);
      if (!old || old.title !== t.title || old.pid !== t.pid) changed = true;
      this.targets.set(t.id, t);
      if (!this.targetOrder.includes(t.id)) this.targetOrder.push(t.id);
    }
    if (changed) {
      this.builtLayout = -1;
      this.schedule();
    }
  }

  append(points: readonly import('../core/model').HeapStatsPoint[]): void {
    if (!points.length) return;
    for (const p of points) if (!this.targetOrder.includes(p.targetId)) this.targetOrder.push(p.targetId);
    this.store.appendMany(points);
    this.schedule();
  }

  addMarks(marks: readonly SessionMark[]): void {
    if (!marks.length) return;
    let sorted = true;
    for (const m of marks) {
      const x = m.t / 1000;
      if (this.marks.length && x < this.marks[this.marks.length - 1].x) sorted = false;
      this.marks.push({ x, kind: m.kind });
    }
    if (!sorted) this.marks.sort((a, b) => a.x - b.x);
    this.schedule();
  }

  clearData(): void {
    this.store.clear();
    this.marks = [];
    this.zoomRange = undefined;
    this.builtLayout = -1;
    this.schedule();
  }

  /** Everything the chart knows about marks (for persisting). */
  markCount(): number {
    return this.marks.length;
  }

  setPaused(paused: boolean): void {
    if (this.view.paused === paused) return;
    this.view.paused = paused;
    if (!paused) this.schedule();
    this.emitView();
  }

  /** Back to following the newest data (also un-pauses). */
  follow(): void {
    this.view.mode = 'follow';
    this.view.paused = false;
    this.zoomRange = undefined;
    this.schedule();
    this.emitView();
  }

  setWindow(sec: number): void {
    this.view.windowSec = sec;
    this.follow();
  }

  /** Requests a redraw on the next animation frame (coalesced). */
  schedule(): void {
    if (this.frame || this.view.paused) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderNow();
    });
  }

  /** The visible x range for the current mode, seconds. */
  visibleRange(): [number, number] | undefined {
    const s = this.store;
    if (!s.length) return undefined;
    let x0: number;
    let x1: number;
    if (this.view.mode === 'zoom' && this.zoomRange) {
      [x0, x1] = this.zoomRange;
    } else {
      x1 = s.lastX;
      x0 = this.view.windowSec > 0 ? Math.max(s.firstX, x1 - this.view.windowSec) : s.firstX;
    }
    if (!(x1 > x0)) x1 = x0 + 1;
    return [x0, x1];
  }

  /** No reading will come (the session ended): the empty chart says so instead of spinning. */
  setEnded(ended: boolean): void {
    if (ended === this.ended) return;
    this.ended = ended;
    this.emptyEl.replaceChildren(
      ...(ended
        ? [h('span', { class: 'codicon codicon-circle-slash', 'aria-hidden': 'true' }), ' No statistics: the session ended before the first reading.']
        : [h('span', { class: 'codicon codicon-loading codicon-modifier-spin', 'aria-hidden': 'true' }), ' Waiting for the first statistics…']),
    );
  }

  /** Synchronously decimates, sets data and draws. */
  renderNow(): void {
    const s = this.store;
    this.emptyEl.hidden = s.length > 0;
    this.plotEl.hidden = s.length === 0;
    if (!s.length) return;
    if (!this.u || this.builtLayout !== s.layoutVersion) this.rebuild();
    const u = this.u;
    if (!u) return;
    const range = this.visibleRange()!;
    const include = s.keys.map((k) => !this.hidden.has(seriesId(k)));
    const buckets = Math.max(50, Math.floor(u.bbox.width / (window.devicePixelRatio || 1)) || 600);
    const data = decimate(s, range[0], range[1], buckets, include);
    this.settingScale = true;
    try {
      u.batch(() => {
        u.setData(data, false);
        u.setScale('x', { min: range[0], max: range[1] });
      });
    } finally {
      this.settingScale = false;
    }
    this.updateLegendValues();
  }

  private size(): { width: number; height: number } {
    const width = this.opts.width ?? Math.max(200, this.root.clientWidth || 600);
    const height = this.opts.height ?? Math.max(160, Math.min(360, Math.round(width * 0.32)));
    return { width, height };
  }

  private resize(): void {
    if (!this.u) return;
    const { width, height } = this.size();
    if (Math.abs(this.u.width - width) > 1 || Math.abs(this.u.height - height) > 1) {
      this.u.setSize({ width, height });
      this.schedule();
    }
  }

  private label(key: SeriesKey): string {
    return METRIC_STYLE[key.metric].label;
  }

  private targetLabel(targetId: string): string {
    const t = this.targets.get(targetId);
    if (!t) return targetId;
    return `${t.title || t.argv?.[0] || 'process'} (pid ${t.pid})`;
  }

  private seriesColor(key: SeriesKey): string {
    const st = METRIC_STYLE[key.metric];
    return cssVar(st.color, st.fallback);
  }

  private dash(key: SeriesKey): number[] {
    const i = Math.max(0, this.targetOrder.indexOf(key.targetId));
    return TARGET_DASHES[i % TARGET_DASHES.length];
  }

  /** (Re)creates the uPlot instance: series set changed, targets renamed or the theme changed. */
  rebuild(): void {
    const s = this.store;
    this.u?.destroy();
    this.u = undefined;
    clear(this.plotEl);
    this.builtLayout = s.layoutVersion;
    if (!s.keys.length) {
      this.buildLegend();
      return;
    }
    this.colors = {
      fg: cssVar('--vscode-descriptionForeground', cssVar('--vscode-foreground', '#888')),
      grid: withAlpha(cssVar('--vscode-foreground', '#888888'), 0.12),
      muted: cssVar('--vscode-descriptionForeground', '#888888'),
    };
    const font = `11px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    const hasCount = s.keys.some((k) => METRIC_STYLE[k.metric].count);
    const hasBytes = s.keys.some((k) => !METRIC_STYLE[k.metric].count);
    const series: uPlot.Series[] = [{ label: 'Time', value: (_u, v) => (v == null ? '' : formatElapsed(v)) }];
    for (const key of s.keys) {
      const st = METRIC_STYLE[key.metric];
      series.push({
        label: `${this.targetLabel(key.targetId)} ${st.label}`,
        stroke: this.seriesColor(key),
        width: key.metric === 'heapUsed' || key.metric === 'tracedBytes' ? 2 : 1,
        dash: this.dash(key),
        scale: st.count ? 'count' : 'bytes',
        spanGaps: true,
        show: !this.hidden.has(seriesId(key)),
        points: { show: false },
      });
    }
    const axis = (extra: uPlot.Axis): uPlot.Axis => ({
      stroke: this.colors.fg,
      font,
      grid: { stroke: this.colors.grid, width: 1 },
      ticks: { stroke: this.colors.grid, width: 1, size: 4 },
      ...extra,
    });
    const axes: uPlot.Axis[] = [axis({ values: (_u, splits) => formatElapsedTicks(splits), space: 70 })];
    if (hasBytes) axes.push(axis({ scale: 'bytes', values: (_u, splits) => splits.map(formatBytesAxis), size: 72, incrs: BYTE_INCRS, space: 36 }));
    if (hasCount)
      axes.push(
        axis({
          scale: 'count',
          side: 1,
          values: (_u, splits) => splits.map((v) => formatCount(v)),
          size: 56,
          space: 36,
          grid: { show: !hasBytes, stroke: this.colors.grid, width: 1 },
        }),
      );
    const { width, height } = this.size();
    const opts: uPlot.Options = {
      width,
      height,
      series,
      axes,
      legend: { show: false },
      padding: [8, 8, 0, 0],
      scales: {
        x: { time: false },
        bytes: { range: (_u, min, max) => paddedRange(min, max) },
        count: { range: (_u, min, max) => paddedRange(min, max) },
      },
      cursor: {
        drag: { x: true, y: false, setScale: true },
        points: { size: 6 },
        bind: {
          dblclick: () => () => {
            this.follow();
            return null;
          },
        },
      },
      hooks: {
        setScale: [
          (_u, key) => {
            if (key !== 'x' || this.settingScale) return;
            const sc = _u.scales.x;
            if (sc.min != null && sc.max != null) {
              // A drag selection: freeze the range there.
              this.zoomRange = [sc.min, sc.max];
              this.view.mode = 'zoom';
              this.emitView();
              queueMicrotask(() => this.renderNow());
            }
          },
        ],
        setCursor: [
          (_u) => {
            this.cursorIdx = _u.cursor.idx ?? null;
            this.updateLegendValues();
          },
        ],
      },
      plugins: [this.marksPlugin()],
    };
    this.u = new uPlot(opts, [[]] as unknown as uPlot.AlignedData, this.plotEl);
    this.buildLegend();
  }

  private marksPlugin(): uPlot.Plugin {
    return {
      hooks: {
        draw: [(u: uPlot) => this.drawMarks(u)],
      },
    };
  }

  private drawMarks(u: uPlot): void {
    if (!this.marks.length) return;
    const x0 = u.scales.x.min;
    const x1 = u.scales.x.max;
    if (x0 == null || x1 == null) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    // GC: short ticks along the bottom. Task start/end: full-height lines while they are sparse,
    // short ticks along the top once they would crowd the plot. Captures and target events: full lines.
    const styles: Record<SessionMarkKind, { color: string; dash: number[]; w: number; band: 'full' | 'top' | 'bottom' }> = {
      gc: { color: withAlpha(this.colors.muted, 0.7), dash: [], w: 1, band: 'bottom' },
      'task-start': { color: withAlpha(cssVar('--vscode-charts-green', '#89d185'), 0.55), dash: [], w: 1, band: 'full' },
      'task-end': { color: withAlpha(cssVar('--vscode-charts-green', '#89d185'), 0.55), dash: [3, 3], w: 1, band: 'full' },
      capture: { color: cssVar('--vscode-charts-purple', '#b180d7'), dash: [2, 2], w: 2, band: 'full' },
      'target-start': { color: withAlpha(this.colors.fg, 0.6), dash: [4, 4], w: 1, band: 'full' },
      'target-exit': { color: withAlpha(this.colors.fg, 0.6), dash: [4, 4], w: 1, band: 'full' },
    };
    const dpr = window.devicePixelRatio || 1;
    const start = markLowerBound(this.marks, x0);
    let taskMarks = 0;
    for (let i = start; i < this.marks.length && this.marks[i].x <= x1; i++) if (this.marks[i].kind === 'task-start') taskMarks++;
    if (taskMarks > width / (24 * dpr)) {
      styles['task-start'].band = 'top';
      styles['task-end'].band = 'top';
      styles['task-end'].dash = [];
    }
    const tick = 7 * dpr;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const kind of Object.keys(styles) as SessionMarkKind[]) {
      if (this.hidden.has(`mark:${kind}`)) continue;
      const st = styles[kind];
      ctx.strokeStyle = st.color;
      ctx.lineWidth = st.w * dpr;
      ctx.setLineDash(st.dash.map((d) => d * dpr));
      const y0 = st.band === 'bottom' ? top + height - tick : top;
      const y1 = st.band === 'top' ? top + (kind === 'task-end' ? tick / 2 : tick) : top + height;
      ctx.beginPath();
      let lastPx = -Infinity;
      let any = false;
      for (let i = start; i < this.marks.length; i++) {
        const m = this.marks[i];
        if (m.x > x1) break;
        if (m.kind !== kind) continue;
        const px = Math.round(u.valToPos(m.x, 'x', true)) + 0.5;
        if (px - lastPx < 2 * dpr) continue; // at most one line per two device pixels
        lastPx = px;
        ctx.moveTo(px, y0);
        ctx.lineTo(px, y1);
        any = true;
      }
      if (any) ctx.stroke();
    }
    ctx.restore();
  }

  private toggle(id: string, index?: number): void {
    const show = this.hidden.has(id);
    if (show) this.hidden.delete(id);
    else this.hidden.add(id);
    if (index !== undefined && this.u) this.u.setSeries(index + 1, { show });
    this.opts.onHiddenChange?.(this.getHidden());
    this.buildLegend();
    this.renderNow();
  }

  /** A legend of toggle buttons, grouped by target; each shows the value under the cursor (or the latest). */
  private buildLegend(): void {
    const el = this.legendEl;
    clear(el);
    this.legendValues = [];
    const s = this.store;
    const byTarget = new Map<string, number[]>();
    s.keys.forEach((k, i) => {
      const list = byTarget.get(k.targetId) ?? [];
      list.push(i);
      byTarget.set(k.targetId, list);
    });
    this.legendTime = h('span', { class: 'legend-time' });
    el.append(this.legendTime);
    const multi = byTarget.size > 1;
    for (const [targetId, idxs] of byTarget) {
      const group = h('div', { class: 'legend-group', role: 'group', 'aria-label': this.targetLabel(targetId) });
      if (multi) {
        const sw = h('span', { class: 'legend-dash', 'aria-hidden': 'true' });
        const dash = this.dash({ targetId, metric: 'heapUsed' });
        sw.dataset.dash = dash.length ? dash.join('-') : 'solid';
        group.append(h('span', { class: 'legend-target', title: this.targetLabel(targetId) }, sw, this.targetLabel(targetId)));
      }
      for (const i of idxs) {
        const key = s.keys[i];
        const id = seriesId(key);
        const on = !this.hidden.has(id);
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.backgroundColor = this.seriesColor(key);
        const value = h('span', { class: 'legend-value' });
        this.legendValues[i] = value;
        const btn = h(
          'button',
          {
            class: 'legend-item',
            type: 'button',
            'aria-pressed': String(on),
            title: `${on ? 'Hide' : 'Show'} ${this.label(key)}${multi ? ` of ${this.targetLabel(targetId)}` : ''}`,
          },
          swatch,
          h('span', { class: 'legend-label' }, this.label(key)),
          value,
        );
        btn.addEventListener('click', () => this.toggle(id, i));
        group.append(btn);
      }
      el.append(group);
    }
    if (s.keys.length) {
      const marksGroup = h('div', { class: 'legend-group', role: 'group', 'aria-label': 'Marks' });
      for (const mk of MARK_KINDS) {
        const id = `mark:${mk.kind}`;
        const on = !this.hidden.has(id);
        const sw = h('span', { class: `mark-swatch mark-${mk.kind}`, 'aria-hidden': 'true' });
        const btn = h(
          'button',
          { class: 'legend-item legend-mark', type: 'button', 'aria-pressed': String(on), title: `${on ? 'Hide' : 'Show'} ${mk.label} marks` },
          sw,
          h('span', { class: 'legend-label' }, mk.label),
        );
        btn.addEventListener('click', () => this.toggle(id));
        marksGroup.append(btn);
      }
      el.append(marksGroup);
    }
    this.updateLegendValues();
  }

  private updateLegendValues(): void {
    const s = this.store;
    if (!s.length) return;
    const u = this.u;
    let row = -1;
    let x = s.lastX;
    if (u && this.cursorIdx != null && u.data[0] && this.cursorIdx < u.data[0].length) {
      x = u.data[0][this.cursorIdx];
      row = Math.min(s.length - 1, lowerBound(s.x, s.length, x));
    }
    if (this.legendTime) this.legendTime.textContent = row >= 0 ? `at ${formatElapsed(Math.round(x * 10) / 10)}` : 'latest';
    const from = row >= 0 ? row : s.length - 1;
    for (let c = 0; c < s.keys.length; c++) {
      const el = this.legendValues[c];
      if (!el) continue;
      const col = s.cols[c];
      let v = NaN;
      for (let i = from, k = 0; i >= 0 && k < 64; i--, k++) {
        if (col[i] === col[i]) {
          v = col[i];
          break;
        }
      }
      const text = v === v ? (METRIC_STYLE[s.keys[c].metric].count ? formatCount(v) : formatBytes(v)) : '—';
      if (el.textContent !== text) el.textContent = text;
    }
  }

  private emitView(): void {
    this.opts.onViewChange?.(this.getView());
  }
}

function markLowerBound(marks: readonly ChartMark[], x: number): number {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (marks[mid].x < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The live statistics chart: uPlot over a columnar `SeriesStore`, min/max decimated to the plot
 * width, one axis per scale (heaps left, RSS right: ./chartStyle), marks drawn by a plugin
 * (./chartMarks), a keyboard-reachable legend that hides series and shows hover values
 * (./chartLegend), follow / pause / drag-zoom / double-click reset.
 *
 * `setData` runs at most once per animation frame (`schedule`); `renderNow` is synchronous (bench).
 */
import uPlot from 'uplot';
import type { HeapStatsPoint, SessionMark, TargetInfo } from '../core/model';
import { clear, h } from './dom';
import { formatBytesAxis, formatCount, formatElapsed, formatElapsedTicks } from './format';
import { ChartLegend } from './chartLegend';
import { ChartMarks } from './chartMarks';
import { BYTE_INCRS, chartColors, cssVar, METRIC_STYLE, TARGET_DASHES, themedAxis, type ChartColors, type ChartScale } from './chartStyle';
import { decimate, paddedRange, SeriesStore, seriesId, type SeriesKey } from './series';

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

export class MemoryChart {
  readonly store: SeriesStore;
  private readonly marks = new ChartMarks();
  private u: uPlot | undefined;
  private builtLayout = -1;
  private targets = new Map<string, TargetInfo>();
  private targetOrder: string[] = [];
  private hidden: Set<string>;
  private view: ChartView;
  private zoomRange: [number, number] | undefined;
  private frame = 0;
  private settingScale = false;
  private readonly legend: ChartLegend;
  private cursorIdx: number | null = null;
  private resizeObserver: ResizeObserver | undefined;
  private themeObserver: MutationObserver | undefined;
  private colors: ChartColors = { fg: '', grid: '', muted: '', font: '' };
  private readonly plotEl: HTMLElement;
  private readonly emptyEl: HTMLElement;
  /** The session ended: the empty chart says so instead of waiting. */
  private ended = false;

  constructor(
    private readonly root: HTMLElement,
    legendEl: HTMLElement,
    private readonly opts: ChartOptions = {},
  ) {
    // A point carries only what its runtime measures (Python: no V8 heap): every figure becomes a series.
    this.store = new SeriesStore(0.05, 4096);
    this.legend = new ChartLegend(legendEl, {
      store: this.store,
      isHidden: (id) => this.hidden.has(id),
      toggle: (id) => this.toggle(id),
      targetLabel: (id) => this.targetLabel(id),
      seriesColor: (key) => this.seriesColor(key),
      dash: (key) => this.dash(key),
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

  append(points: readonly HeapStatsPoint[]): void {
    if (!points.length) return;
    for (const p of points) if (!this.targetOrder.includes(p.targetId)) this.targetOrder.push(p.targetId);
    this.store.appendMany(points);
    this.schedule();
  }

  addMarks(marks: readonly SessionMark[]): void {
    if (!marks.length) return;
    this.marks.add(marks);
    this.schedule();
  }

  clearData(): void {
    this.store.clear();
    this.marks.clear();
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
    this.updateLegend();
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
      this.legend.build();
      return;
    }
    this.colors = chartColors();
    const series: uPlot.Series[] = [{ label: 'Time', value: (_u, v) => (v == null ? '' : formatElapsed(v)) }];
    for (const key of s.keys) {
      const st = METRIC_STYLE[key.metric];
      series.push({
        label: `${this.targetLabel(key.targetId)} ${st.label}`,
        stroke: this.seriesColor(key),
        width: key.metric === 'heapUsed' || key.metric === 'tracedBytes' ? 2 : 1,
        dash: this.dash(key),
        scale: st.scale,
        spanGaps: true,
        show: !this.hidden.has(seriesId(key)),
        points: { show: false },
      });
    }
    const axes: uPlot.Axis[] = [themedAxis(this.colors, { values: (_u, splits) => formatElapsedTicks(splits), space: 70 }), ...this.yAxes()];
    // uPlot draws axis labels on the canvas: the plot says which axes it has (screen readers, tests).
    const yLabels = axes.slice(1).map((a) => String(a.label ?? 'Count'));
    this.plotEl.dataset.axes = yLabels.join(',');
    this.plotEl.setAttribute('role', 'img');
    this.plotEl.setAttribute('aria-label', `Memory over time; axes: ${yLabels.join(', ')}`);
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
        heap: { range: (_u, min, max) => paddedRange(min, max) },
        rss: { range: (_u, min, max) => paddedRange(min, max) },
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
            this.updateLegend();
          },
        ],
      },
      plugins: [{ hooks: { draw: [(u: uPlot) => this.marks.draw(u, this.colors, this.hidden)] } }],
    };
    this.u = new uPlot(opts, [[]] as unknown as uPlot.AlignedData, this.plotEl);
    this.legend.build();
  }

  /**
   * One axis per scale with a shown series: the heaps (Python: traced memory) on the left, RSS on the
   * right (on the left when no heap is shown), counts on the right. Each reads its own range, so a
   * heap of a few MiB grows visibly under an RSS of tens.
   */
  private yAxes(): uPlot.Axis[] {
    const shown = new Set<ChartScale>();
    for (const key of this.store.keys) if (!this.hidden.has(seriesId(key))) shown.add(METRIC_STYLE[key.metric].scale);
    const heapKeys = this.store.keys.filter((k) => METRIC_STYLE[k.metric].scale === 'heap');
    const traced = heapKeys.length > 0 && heapKeys.every((k) => k.metric === 'tracedBytes');
    const bytes = (scale: ChartScale, label: string, side: number, extra: uPlot.Axis = {}): uPlot.Axis =>
      themedAxis(this.colors, {
        scale,
        side,
        label,
        labelSize: 14,
        values: (_u, splits) => splits.map(formatBytesAxis),
        size: 64,
        incrs: BYTE_INCRS,
        space: 36,
        ...extra,
      });
    const axes: uPlot.Axis[] = [];
    if (shown.has('heap')) axes.push(bytes('heap', traced ? 'Traced' : 'Heap', 3));
    if (shown.has('rss')) {
      const color = cssVar(METRIC_STYLE.rss.color, METRIC_STYLE.rss.fallback);
      // On the right its grid would cross the heap's: only the heap's is drawn.
      axes.push(bytes('rss', 'RSS', shown.has('heap') ? 1 : 3, { stroke: color, grid: { show: !shown.has('heap'), stroke: this.colors.grid, width: 1 } }));
    }
    if (shown.has('count'))
      axes.push(
        themedAxis(this.colors, {
          scale: 'count',
          side: 1,
          values: (_u, splits) => splits.map((v) => formatCount(v)),
          size: 56,
          space: 36,
          grid: { show: !shown.has('heap') && !shown.has('rss'), stroke: this.colors.grid, width: 1 },
        }),
      );
    return axes;
  }

  private toggle(id: string): void {
    if (this.hidden.has(id)) this.hidden.delete(id);
    else this.hidden.add(id);
    this.opts.onHiddenChange?.(this.getHidden());
    // The axes follow the shown series: a series toggled rebuilds the plot, a mark kind only redraws.
    if (!id.startsWith('mark:')) this.builtLayout = -1;
    else this.legend.build();
    this.renderNow();
  }

  private updateLegend(): void {
    const u = this.u;
    const x = u && this.cursorIdx != null && u.data[0] && this.cursorIdx < u.data[0].length ? u.data[0][this.cursorIdx] : undefined;
    this.legend.update(x);
  }

  private emitView(): void {
    this.opts.onViewChange?.(this.getView());
  }
}

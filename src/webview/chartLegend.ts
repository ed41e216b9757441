/**
 * The statistics chart's legend: keyboard-reachable toggle buttons grouped by process, each with the
 * value under the cursor (or the latest), and the mark kinds. Every label is set as text (a process
 * title comes from the profiled program).
 */
import { clear, h } from './dom';
import { formatBytes, formatCount, formatElapsed } from './format';
import { MARK_KINDS } from './chartMarks';
import { isCount, METRIC_STYLE } from './chartStyle';
import { lowerBound, seriesId, type SeriesKey, type SeriesStore } from './series';

export interface LegendHost {
  readonly store: SeriesStore;
  isHidden(id: string): boolean;
  toggle(id: string): void;
  targetLabel(targetId: string): string;
  seriesColor(key: SeriesKey): string;
  dash(key: SeriesKey): number[];
}

export class ChartLegend {
  private values: HTMLElement[] = [];
  private time: HTMLElement | undefined;

  constructor(
    private readonly el: HTMLElement,
    private readonly host: LegendHost,
  ) {}

  /** Rebuilds the buttons; keeps keyboard focus on the button that had it. */
  build(): void {
    const focused = document.activeElement instanceof HTMLElement && this.el.contains(document.activeElement) ? document.activeElement.dataset.id : undefined;
    const el = this.el;
    const host = this.host;
    clear(el);
    this.values = [];
    const s = host.store;
    const byTarget = new Map<string, number[]>();
    s.keys.forEach((k, i) => {
      const list = byTarget.get(k.targetId) ?? [];
      list.push(i);
      byTarget.set(k.targetId, list);
    });
    this.time = h('span', { class: 'legend-time' });
    el.append(this.time);
    const multi = byTarget.size > 1;
    for (const [targetId, idxs] of byTarget) {
      const label = host.targetLabel(targetId);
      const group = h('div', { class: 'legend-group', role: 'group', 'aria-label': label });
      if (multi) {
        const sw = h('span', { class: 'legend-dash', 'aria-hidden': 'true' });
        const dash = host.dash({ targetId, metric: 'heapUsed' });
        sw.dataset.dash = dash.length ? dash.join('-') : 'solid';
        group.append(h('span', { class: 'legend-target', title: label }, sw, label));
      }
      for (const i of idxs) {
        const key = s.keys[i];
        const id = seriesId(key);
        const on = !host.isHidden(id);
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.backgroundColor = host.seriesColor(key);
        const value = h('span', { class: 'legend-value' });
        this.values[i] = value;
        const name = METRIC_STYLE[key.metric].label;
        const btn = h(
          'button',
          { class: 'legend-item', type: 'button', 'aria-pressed': String(on), title: `${on ? 'Hide' : 'Show'} ${name}${multi ? ` of ${label}` : ''}` },
          swatch,
          h('span', { class: 'legend-label' }, name),
          value,
        );
        btn.dataset.id = id;
        btn.addEventListener('click', () => host.toggle(id));
        group.append(btn);
      }
      el.append(group);
    }
    if (s.keys.length) {
      const marksGroup = h('div', { class: 'legend-group', role: 'group', 'aria-label': 'Marks' });
      for (const mk of MARK_KINDS) {
        const id = `mark:${mk.kind}`;
        const on = !host.isHidden(id);
        const btn = h(
          'button',
          { class: 'legend-item legend-mark', type: 'button', 'aria-pressed': String(on), title: `${on ? 'Hide' : 'Show'} ${mk.label} marks` },
          h('span', { class: `mark-swatch mark-${mk.kind}`, 'aria-hidden': 'true' }),
          h('span', { class: 'legend-label' }, mk.label),
        );
        btn.dataset.id = id;
        btn.addEventListener('click', () => host.toggle(id));
        marksGroup.append(btn);
      }
      el.append(marksGroup);
    }
    if (focused)
      Array.from(el.querySelectorAll<HTMLElement>('button'))
        .find((b) => b.dataset.id === focused)
        ?.focus();
  }

  /** The values at `x` (seconds; the cursor) or, without one, the latest. */
  update(x: number | undefined): void {
    const s = this.host.store;
    if (!s.length) return;
    const row = x === undefined ? -1 : Math.min(s.length - 1, lowerBound(s.x, s.length, x));
    if (this.time) this.time.textContent = row >= 0 && x !== undefined ? `at ${formatElapsed(Math.round(x * 10) / 10)}` : 'latest';
    const from = row >= 0 ? row : s.length - 1;
    for (let c = 0; c < s.keys.length; c++) {
      const el = this.values[c];
      if (!el) continue;
      const col = s.cols[c];
      let v = NaN;
      for (let i = from, k = 0; i >= 0 && k < 64; i--, k++) {
        if (col[i] === col[i]) {
          v = col[i];
          break;
        }
      }
      const text = v === v ? (isCount(s.keys[c].metric) ? formatCount(v) : formatBytes(v)) : '—';
      if (el.textContent !== text) el.textContent = text;
    }
  }
}

/**
 * The chart that shows a leak: retained memory after each measured run (and a full GC), per task,
 * relative to its first run, with the growth line the verdict stands on over the later runs. A
 * leak climbs along its line; a cache rises and goes flat; a clean task stays on zero. Its own
 * axis (bytes) and x (run), so it never sits flat under RSS.
 */
import uPlot from 'uplot';
import type { PanelTask } from '../shared/protocol';
import { cssVar, withAlpha } from './chart';
import { clear, h } from './dom';
import { formatBytesAxis, formatBytesPerRun } from './format';

/** Tasks drawn at once: the ones that grow most, so a leak is never crowded out. */
const MAX_TASKS = 6;
const PALETTE: ReadonlyArray<[string, string]> = [
  ['--vscode-charts-red', '#f14c4c'],
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-yellow', '#cca700'],
];
const HEIGHT = 190;

export class RetainedChart {
  private u: uPlot | undefined;
  private shapeKey = '';
  private readonly plotEl: HTMLElement;
  private resizeObserver: ResizeObserver | undefined;

  constructor(
    private readonly card: HTMLElement,
    private readonly root: HTMLElement,
    private readonly legendEl: HTMLElement,
  ) {
    this.plotEl = h('div', { class: 'retained-plot' });
    this.root.append(this.plotEl);
    if (typeof ResizeObserver === 'function') {
      this.resizeObserver = new ResizeObserver(() => this.u?.setSize({ width: this.width(), height: HEIGHT }));
      this.resizeObserver.observe(this.root);
    }
  }

  /** Redraws from the task rows; the card hides while no task has two measured runs. */
  setTasks(tasks: readonly PanelTask[]): void {
    const shown = tasks
      .filter((t) => (t.retained?.x.length ?? 0) >= 2)
      .sort((a, b) => Math.abs(b.bytesPerRun) - Math.abs(a.bytesPerRun))
      .slice(0, MAX_TASKS);
    this.card.hidden = shown.length === 0;
    if (!shown.length) {
      this.destroy();
      return;
    }
    const data = alignedData(shown);
    const key = shown.map((t) => `${t.name}:${t.verdict.kind}:${t.fitLine ? 1 : 0}`).join('|');
    if (this.u && key === this.shapeKey) {
      this.u.setData(data);
    } else {
      this.build(shown, data);
      this.shapeKey = key;
    }
    this.renderLegend(shown);
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
    this.destroy();
  }

  private destroy(): void {
    this.u?.destroy();
    this.u = undefined;
    this.shapeKey = '';
    clear(this.plotEl);
  }

  private width(): number {
    return Math.max(240, Math.floor(this.root.clientWidth || 600));
  }

  private build(tasks: readonly PanelTask[], data: uPlot.AlignedData): void {
    this.destroy();
    const fg = cssVar('--vscode-descriptionForeground', cssVar('--vscode-foreground', '#888'));
    const grid = withAlpha(cssVar('--vscode-foreground', '#888888'), 0.12);
    const font = `11px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    const series: uPlot.Series[] = [{ label: 'Run' }];
    tasks.forEach((task, i) => {
      const color = taskColor(i);
      series.push({ label: task.name, stroke: color, width: 1.5, spanGaps: true, points: { show: true, size: 3, fill: color } });
      if (task.fitLine) series.push({ label: `${task.name} growth`, stroke: color, width: 2, dash: [6, 4], spanGaps: true, points: { show: false } });
    });
    const axis = (extra: uPlot.Axis): uPlot.Axis => ({
      stroke: fg,
      font,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1, size: 4 },
      ...extra,
    });
    this.u = new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        series,
        axes: [
          axis({ values: (_u, splits) => splits.map((v) => `${Math.round(v) + 1}`), space: 50, label: 'run', labelSize: 14, labelFont: font }),
          axis({ values: (_u, splits) => splits.map(formatBytesAxis), size: 72, space: 30 }),
        ],
        legend: { show: false },
        padding: [8, 8, 0, 0],
        scales: { x: { time: false } },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      },
      data,
      this.plotEl,
    );
  }

  private renderLegend(tasks: readonly PanelTask[]): void {
    clear(this.legendEl);
    tasks.forEach((task, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = taskColor(i);
      this.legendEl.append(
        h(
          'span',
          { class: 'legend-item retained-legend-item', title: task.verdict.summary },
          swatch,
          h('span', { class: 'legend-label' }, task.name),
          h('span', { class: 'legend-value' }, `${task.verdict.kind} · ${formatBytesPerRun(task.bytesPerRun)}`),
        ),
      );
    });
  }
}

function taskColor(i: number): string {
  const [name, fallback] = PALETTE[i % PALETTE.length];
  return cssVar(name, fallback);
}

/** One x column (every run index any task has) and, per task, its points and its growth line, null elsewhere. */
function alignedData(tasks: readonly PanelTask[]): uPlot.AlignedData {
  const xs = new Set<number>();
  for (const task of tasks) {
    for (const x of task.retained!.x) xs.add(x);
    if (task.fitLine) for (const x of task.fitLine.x) xs.add(x);
  }
  const x = [...xs].sort((a, b) => a - b);
  const column = new Map(x.map((value, i) => [value, i]));
  const out: Array<Array<number | null>> = [x];
  for (const task of tasks) {
    const ys: Array<number | null> = new Array<number | null>(x.length).fill(null);
    task.retained!.x.forEach((value, i) => (ys[column.get(value)!] = task.retained!.y[i]!));
    out.push(ys);
    if (task.fitLine) {
      const line: Array<number | null> = new Array<number | null>(x.length).fill(null);
      line[column.get(task.fitLine.x[0])!] = task.fitLine.y[0];
      line[column.get(task.fitLine.x[1])!] = task.fitLine.y[1];
      out.push(line);
    }
  }
  return out as uPlot.AlignedData;
}

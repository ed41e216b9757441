/**
 * The chart that shows a leak, on its own axis (bytes) and x, so it never sits flat under RSS:
 * - harness sessions: retained memory after each measured run (and a full GC), per task, relative to
 *   its first run, with the growth line the verdict stands on over the later runs. A leak climbs
 *   along its line; a cache rises and goes flat; a clean task stays on zero.
 * - worker sessions: the retained heap after each full GC against the tasks finished, per process,
 *   with the growth per task the verdict rows stand on (the trend decides there, not the few tasks
 *   measured one by one, whose running total would draw a plateau next to a leak verdict).
 */
import uPlot from 'uplot';
import type { PanelTask, PanelWorkerTrend } from '../shared/protocol';
import { BYTE_INCRS, chartColors, COUNT_INCRS, cssVar, runSplits, themedAxis } from './chartStyle';
import { clear, h } from './dom';
import { formatBytesAxis, formatBytesPerRun, formatCount } from './format';

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
/**
 * Where no line drawn is a leak, the y axis spans at least this much: a clean task's few KiB of
 * warm-up (V8's caches filling) drawn full height would look like a cache filling up.
 */
const QUIET_SPAN_BYTES = 64 * 1024;

/** One line of the chart: its points, its growth line, and what the legend says of it. */
interface Line {
  label: string;
  x: readonly number[];
  y: readonly number[];
  fitLine?: { x: [number, number]; y: [number, number] };
  value: string;
  title: string;
  leak: boolean;
}

const TEXT = {
  runs: {
    heading: 'Kept after each run',
    hint: 'Retained memory after each measured run and a full GC (one run in several on sessions of 60 runs or more), relative to the first run. The dashed line is the growth the verdict stands on: a leak climbs along it, a cache levels off, a clean task stays at zero.',
    axis: 'run',
  },
  worker: {
    heading: 'Kept as tasks finish',
    hint: "The worker's retained heap after each full GC, relative to the first, against the tasks it had finished. The dashed line is the growth per task the verdict stands on: a leak climbs along it, a clean worker stays level.",
    axis: 'tasks finished',
  },
} as const;

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

  /** Redraws from the task rows (or the worker's trend); the card hides while there is nothing to draw. */
  setTasks(tasks: readonly PanelTask[], workerTrend?: PanelWorkerTrend): void {
    const mode = workerTrend?.processes.length ? 'worker' : 'runs';
    const lines = workerTrend?.processes.length ? workerLines(workerTrend) : taskLines(tasks);
    this.card.hidden = lines.length === 0;
    if (!lines.length) {
      this.destroy();
      return;
    }
    const text = TEXT[mode];
    const heading = this.card.querySelector('h2');
    if (heading && heading.textContent !== text.heading) heading.textContent = text.heading;
    const hint = this.card.querySelector('.retained-hint');
    if (hint && hint.textContent !== text.hint) hint.textContent = text.hint;
    const data = alignedData(lines);
    const key = `${mode}|` + lines.map((l) => `${l.label}:${l.fitLine ? 1 : 0}:${l.leak ? 1 : 0}`).join('|');
    if (this.u && key === this.shapeKey) {
      this.u.setData(data);
    } else {
      this.build(lines, data, mode);
      this.shapeKey = key;
    }
    this.renderLegend(lines);
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

  private build(lines: readonly Line[], data: uPlot.AlignedData, mode: keyof typeof TEXT): void {
    this.destroy();
    const colors = chartColors();
    const series: uPlot.Series[] = [{ label: TEXT[mode].axis }];
    lines.forEach((line, i) => {
      const color = lineColor(i);
      // Hundreds of points: dots only while they stay apart.
      series.push({ label: line.label, stroke: color, width: 1.5, spanGaps: true, points: { show: line.x.length <= 120, size: 3, fill: color } });
      if (line.fitLine) series.push({ label: `${line.label} growth`, stroke: color, width: 2, dash: [6, 4], spanGaps: true, points: { show: false } });
    });
    const quiet = !lines.some((l) => l.leak);
    const xValues = mode === 'runs' ? (splits: number[]) => splits.map((v) => `${Math.round(v) + 1}`) : (splits: number[]) => splits.map((v) => formatCount(v));
    this.u = new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        series,
        axes: [
          themedAxis(colors, {
            values: (_u, splits) => xValues(splits),
            space: 50,
            incrs: COUNT_INCRS,
            ...(mode === 'runs' ? { splits: runSplits } : {}),
            label: TEXT[mode].axis,
            labelSize: 14,
          }),
          themedAxis(colors, { values: (_u, splits) => splits.map(formatBytesAxis), size: 64, space: 30, incrs: BYTE_INCRS }),
        ],
        legend: { show: false },
        // Room on the right for half the last tick's label ("300" at the plot's edge was cut).
        padding: [8, 20, 0, 0],
        scales: {
          x: { time: false },
          y: {
            range: (_u, min, max): uPlot.Range.MinMax => {
              const lo = Math.min(0, min ?? 0);
              const hi = Math.max(max ?? 0, quiet ? lo + QUIET_SPAN_BYTES : lo);
              const pad = (hi - lo) * 0.06 || 1;
              return [lo === 0 ? 0 : lo - pad, hi + pad];
            },
          },
        },
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      },
      data,
      this.plotEl,
    );
  }

  private renderLegend(lines: readonly Line[]): void {
    clear(this.legendEl);
    lines.forEach((line, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = lineColor(i);
      this.legendEl.append(
        h(
          'span',
          { class: 'legend-item retained-legend-item', title: line.title },
          swatch,
          h('span', { class: 'legend-label' }, line.label),
          h('span', { class: 'legend-value' }, line.value),
        ),
      );
    });
  }
}

function taskLines(tasks: readonly PanelTask[]): Line[] {
  return tasks
    .filter((t) => (t.retained?.x.length ?? 0) >= 2)
    .sort((a, b) => Math.abs(b.bytesPerRun) - Math.abs(a.bytesPerRun))
    .slice(0, MAX_TASKS)
    .map((t) => ({
      label: t.name,
      x: t.retained!.x,
      y: t.retained!.y,
      fitLine: t.fitLine,
      value: `${t.verdict.kind} · ${formatBytesPerRun(t.bytesPerRun)}`,
      title: t.verdict.summary,
      leak: t.verdict.kind === 'leak',
    }));
}

function workerLines(trend: PanelWorkerTrend): Line[] {
  const one = trend.processes.length === 1;
  return trend.processes.map((p) => ({
    label: one ? `worker (${p.label})` : p.label,
    x: p.x,
    y: p.y,
    fitLine: p.fitLine,
    value: p.perTask !== undefined ? formatBytesPerRun(p.perTask, 'task') : '',
    title: 'Retained heap after each full GC, relative to the first',
    leak: true,
  }));
}

function lineColor(i: number): string {
  const [name, fallback] = PALETTE[i % PALETTE.length];
  return cssVar(name, fallback);
}

/** One x column (every x any line has) and, per line, its points and its growth line, null elsewhere. */
function alignedData(lines: readonly Line[]): uPlot.AlignedData {
  const xs = new Set<number>();
  for (const line of lines) {
    for (const x of line.x) xs.add(x);
    if (line.fitLine) for (const x of line.fitLine.x) xs.add(x);
  }
  const x = [...xs].sort((a, b) => a - b);
  const column = new Map(x.map((value, i) => [value, i]));
  const out: Array<Array<number | null>> = [x];
  for (const line of lines) {
    const ys: Array<number | null> = new Array<number | null>(x.length).fill(null);
    line.x.forEach((value, i) => (ys[column.get(value)!] = line.y[i]!));
    out.push(ys);
    if (line.fitLine) {
      const fit: Array<number | null> = new Array<number | null>(x.length).fill(null);
      fit[column.get(line.fitLine.x[0])!] = line.fitLine.y[0];
      fit[column.get(line.fitLine.x[1])!] = line.fitLine.y[1];
      out.push(fit);
    }
  }
  return out as uPlot.AlignedData;
}

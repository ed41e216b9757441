/**
 * What the statistics chart draws each metric with: colour, label, and the scale it is read on.
 * Series of different sizes get their own axis: the heaps (or Python's traced memory) on the left,
 * RSS on the right (tens of MiB above a heap of a few), counts on a right axis of their own.
 */
import type uPlot from 'uplot';
import type { StatsMetric } from '../shared/protocol';

/** The y scales of the chart; each has its own axis when one of its series is shown. */
export type ChartScale = 'heap' | 'rss' | 'count';

interface MetricStyle {
  label: string;
  color: string;
  fallback: string;
  scale: ChartScale;
}

export const METRIC_STYLE: Record<StatsMetric, MetricStyle> = {
  heapUsed: { label: 'Heap used', color: '--vscode-charts-blue', fallback: '#3794ff', scale: 'heap' },
  heapTotal: { label: 'Heap total', color: '--vscode-charts-purple', fallback: '#b180d7', scale: 'heap' },
  rss: { label: 'RSS', color: '--vscode-charts-orange', fallback: '#d18616', scale: 'rss' },
  external: { label: 'External', color: '--vscode-charts-yellow', fallback: '#cca700', scale: 'heap' },
  arrayBuffers: { label: 'Array buffers', color: '--vscode-charts-red', fallback: '#f14c4c', scale: 'heap' },
  tracedBytes: { label: 'Traced memory', color: '--vscode-charts-blue', fallback: '#3794ff', scale: 'heap' },
  allocatedBlocks: { label: 'Allocated blocks', color: '--vscode-charts-purple', fallback: '#b180d7', scale: 'count' },
  gcCollections: { label: 'GC collections', color: '--vscode-charts-green', fallback: '#89d185', scale: 'count' },
};

export function isCount(metric: StatsMetric): boolean {
  return METRIC_STYLE[metric].scale === 'count';
}

export const TARGET_DASHES: number[][] = [[], [6, 3], [2, 3], [10, 3, 2, 3]];

/**
 * Byte-friendly tick increments: 1, 2, 5, 10, 20, 50, 100 of each binary unit, then 256 and 512 so
 * that ticks reach the next unit evenly (steps of 500 KiB read "1000 KiB", "1.46 MiB").
 */
export const BYTE_INCRS: number[] = (() => {
  const out: number[] = [];
  for (let k = 0; k <= 4; k++) for (const m of [1, 2, 5, 10, 20, 50, 100, 256, 512]) out.push(m * 1024 ** k);
  return out;
})();

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

export interface ChartColors {
  fg: string;
  grid: string;
  muted: string;
  font: string;
}

/** The theme's colours, read again after a theme change. */
export function chartColors(): ChartColors {
  return {
    fg: cssVar('--vscode-descriptionForeground', cssVar('--vscode-foreground', '#888')),
    grid: withAlpha(cssVar('--vscode-foreground', '#888888'), 0.12),
    muted: cssVar('--vscode-descriptionForeground', '#888888'),
    font: `11px ${cssVar('--vscode-font-family', 'sans-serif')}`,
  };
}

/** An axis in the theme's colours; `extra` overrides. */
export function themedAxis(colors: ChartColors, extra: uPlot.Axis): uPlot.Axis {
  return {
    stroke: colors.fg,
    font: colors.font,
    labelFont: colors.font,
    grid: { stroke: colors.grid, width: 1 },
    ticks: { stroke: colors.grid, width: 1, size: 4 },
    ...extra,
  };
}

/** Whole-number steps for run and task axes: fractional ones labelled "1 2 2 3" after rounding. */
export const COUNT_INCRS = Array.from({ length: 10 }, (_, power) => [1, 2, 5].map((step) => step * 10 ** power)).flat();

/** Ticks at run 1 and at whole multiples of the step (x is a run's 0-based index): "1 20 40", not "1 21 41". */
export function runSplits(_u: uPlot, _axis: number, min: number, max: number, step: number): number[] {
  const splits = min <= 0 ? [0] : [];
  for (let run = Math.max(step, Math.ceil((min + 1) / step) * step); run - 1 <= max; run += step) if (run > 1) splits.push(run - 1);
  return splits;
}

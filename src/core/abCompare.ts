/**
 * Side by side: the same worker run as it is (A) and with one thing changed (B: MALLOC_ARENA_MAX=2,
 * jemalloc, PYTHONMALLOC=malloc, a recycling limit), several rounds each, interleaved. This is the
 * experiment users run by hand; the figures are medians with their spread, and a difference counts
 * only when the two variants' ranges do not overlap. Pure.
 */
import { formatBytes, formatDuration } from './format';
import { median } from './robust';

export type Variant = 'A' | 'B';

export interface AbRun {
  variant: Variant;
  round: number;
  /** Resident memory of the worker's processes at the end (their last readings, summed), bytes. */
  finalRssBytes: number;
  /** The highest resident memory of the worker's processes together, bytes. */
  peakRssBytes: number;
  /** Tasks finished (0 when the worker publishes no task marks). */
  tasks: number;
  durationMs: number;
  endReason: string;
}

export interface AbFigure {
  median: number;
  min: number;
  max: number;
}

export interface AbVariantSummary {
  variant: Variant;
  label: string;
  runs: number;
  finalRss: AbFigure;
  peakRss: AbFigure;
  /** Tasks per second, when every run marked tasks (else wall time is the figure to compare). */
  throughput?: AbFigure;
  duration: AbFigure;
}

export interface AbComparison {
  a: AbVariantSummary;
  b: AbVariantSummary;
  /** B's median over A's. */
  finalRssRatio: number;
  peakRssRatio: number;
  throughputRatio?: number;
  durationRatio: number;
  /** One sentence per figure, saying whether the difference is beyond the spread. */
  findings: string[];
}

function figure(values: readonly number[]): AbFigure {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

function summarize(variant: Variant, label: string, runs: readonly AbRun[]): AbVariantSummary {
  const mine = runs.filter((run) => run.variant === variant);
  const marked = mine.every((run) => run.tasks > 0 && run.durationMs > 0);
  return {
    variant,
    label,
    runs: mine.length,
    finalRss: figure(mine.map((run) => run.finalRssBytes)),
    peakRss: figure(mine.map((run) => run.peakRssBytes)),
    ...(marked ? { throughput: figure(mine.map((run) => run.tasks / (run.durationMs / 1000))) } : {}),
    duration: figure(mine.map((run) => run.durationMs)),
  };
}

/** "clearly lower" when B's whole range is below A's, "within the noise" when the ranges overlap. */
function finding(name: string, a: AbFigure, b: AbFigure, format: (value: number) => string, lowerIsBetter: boolean): string {
  const ratio = b.median / a.median;
  const change = `${format(a.median)} → ${format(b.median)} (${ratio.toFixed(2)}×; A ${format(a.min)}–${format(a.max)}, B ${format(b.min)}–${format(b.max)})`;
  if (b.max < a.min) return `${name}: B is clearly lower: ${change}${lowerIsBetter ? '' : ', worse'}.`;
  if (b.min > a.max) return `${name}: B is clearly higher: ${change}${lowerIsBetter ? ', worse' : ''}.`;
  return `${name}: within the noise: ${change}; the ranges overlap, so this run cannot tell them apart.`;
}

export function compareAb(runs: readonly AbRun[], labels: { a: string; b: string }): AbComparison | undefined {
  if (!runs.some((run) => run.variant === 'A') || !runs.some((run) => run.variant === 'B')) return undefined;
  const a = summarize('A', labels.a, runs);
  const b = summarize('B', labels.b, runs);
  const findings = [finding('RSS at the end', a.finalRss, b.finalRss, formatBytes, true), finding('Peak RSS', a.peakRss, b.peakRss, formatBytes, true)];
  if (a.throughput && b.throughput) findings.push(finding('Throughput', a.throughput, b.throughput, (value) => `${value.toFixed(1)} tasks/s`, false));
  else findings.push(finding('Wall time', a.duration, b.duration, formatDuration, true));
  return {
    a,
    b,
    finalRssRatio: b.finalRss.median / a.finalRss.median,
    peakRssRatio: b.peakRss.median / a.peakRss.median,
    ...(a.throughput && b.throughput ? { throughputRatio: b.throughput.median / a.throughput.median } : {}),
    durationRatio: b.duration.median / a.duration.median,
    findings,
  };
}

/** Interleaved order, so that drift of the machine over the experiment falls on both: AB, BA, AB, … */
export function abSchedule(rounds: number): Array<{ variant: Variant; round: number }> {
  const order: Array<{ variant: Variant; round: number }> = [];
  for (let round = 1; round <= rounds; round++) {
    const pair: Variant[] = round % 2 === 1 ? ['A', 'B'] : ['B', 'A'];
    for (const variant of pair) order.push({ variant, round });
  }
  return order;
}

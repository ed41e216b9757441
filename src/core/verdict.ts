/**
 * Verdicts: is a task's retained heap a leak, a cache that plateaus, allocator high water, or nothing?
 * Inputs are the retained bytes after each run and a full GC; all figures are bytes.
 */
import { formatBytes, formatBytesPerRun, formatPercent } from './format';
import { confidenceFromT, fitGrowth, oneSidedConfidence, tStatistic } from './growth';
import type { GrowthFit, TaskRun, TaskSummary, Verdict, VerdictKind } from './model';

export interface VerdictOptions {
  /** Growth per run below this is not a leak (default 16 KiB). */
  noiseFloorBytes?: number;
  /** Fewer measured runs than this give 'inconclusive' (default 4). */
  minRuns?: number;
}

export const DEFAULT_NOISE_FLOOR_BYTES = 16 * 1024;
export const DEFAULT_MIN_RUNS = 4;
const MIB = 1024 * 1024;

const ADVICE: Record<VerdictKind, string> = {
  leak:
    'Look at the top retaining sites below: a cache, map, array or set that is only ever added to, ' +
    'event listeners or timers that are never removed, or closures kept by a long-lived object.',
  plateau:
    'This looks like a bounded cache or pool filling up, not a leak. Check that its maximum size is ' +
    'what you want; run more tasks to confirm it stays flat.',
  'no-leak':
    'Nothing to do for this task. If the process RSS still grows, look at allocator high water ' +
    '(freed memory the allocator keeps) and off-heap memory (Buffers, native modules).',
  'allocator-high-water': '',
  inconclusive:
    'Measure more runs (--runs), skip one-time setup with --warmup, and keep other work out of the ' +
    'process while measuring.',
};

interface Resolved {
  noise: number;
  minRuns: number;
}

function resolve(options?: VerdictOptions): Resolved {
  const noise = options?.noiseFloorBytes;
  const minRuns = options?.minRuns;
  return {
    noise: noise !== undefined && Number.isFinite(noise) && noise >= 0 ? noise : DEFAULT_NOISE_FLOOR_BYTES,
    minRuns: minRuns !== undefined && Number.isFinite(minRuns) ? Math.max(2, Math.floor(minRuns)) : DEFAULT_MIN_RUNS,
  };
}

function sortedRuns(runs: readonly TaskRun[]): TaskRun[] {
  return runs.filter((r) => Number.isFinite(r.retainedBytes)).sort((a, b) => a.index - b.index);
}

function fitRange(xs: readonly number[], ys: readonly number[], from: number, to: number): GrowthFit | undefined {
  return fitGrowth(ys.slice(from, to), xs.slice(from, to));
}

function r2(fit: GrowthFit): string {
  return fit.rSquared.toFixed(2);
}

/** Judge one task from its retained bytes per run. */
export function judgeTask(runs: readonly TaskRun[], options?: VerdictOptions): Verdict {
  const { noise, minRuns } = resolve(options);
  const sorted = sortedRuns(runs);
  const n = sorted.length;
  const ys = sorted.map((r) => r.retainedBytes);
  // Run indices as x: sampled runs may leave gaps, and the slope must stay "per run".
  const xs = sorted.map((r) => r.index);
  const fit = n >= minRuns ? fitGrowth(ys, xs) : undefined;
  if (!fit) {
    return {
      kind: 'inconclusive',
      confidence: 0,
      summary: `Only ${n} run${n === 1 ? '' : 's'} measured; the verdict needs at least ${minRuns} runs.`,
      advice: ADVICE.inconclusive,
      evidence: [`${n} runs`],
    };
  }

  const t = tStatistic(fit);
  const df = n - 2;
  const confidence = confidenceFromT(t, df);
  // Halves overlap by one point when n is odd, so each has at least two points.
  const half = Math.ceil(n / 2);
  const first = fitRange(xs, ys, 0, half);
  const second = fitRange(xs, ys, n - half, n);
  const s1 = first?.slope ?? fit.slope;
  const s2 = second?.slope ?? fit.slope;
  const total = ys[n - 1]! - ys[0]!;

  const evidence = [
    `slope ${formatBytesPerRun(fit.slope)} ± ${formatBytes(fit.slopeStdErr)}`,
    `R² ${r2(fit)}`,
    `first half ${formatBytesPerRun(s1)}, second half ${formatBytesPerRun(s2)}`,
    `${n} runs`,
    `total growth ${formatBytes(total)} (first to last run)`,
    `noise floor ${formatBytes(noise)}/run`,
  ];
  const growthPerRun = formatBytes(fit.slope);

  // Leak: significant growth above the floor that does not slow down.
  const significant = fit.slope > noise && confidence >= 0.95;
  const continues = s2 >= 0.5 * s1 || (fit.rSquared >= 0.97 && s2 > 0.25 * s1);
  if (significant && continues) {
    return {
      kind: 'leak',
      confidence,
      summary: `Retained heap grows by ${growthPerRun} per run over ${n} runs (R² ${r2(fit)}).`,
      advice: ADVICE.leak,
      evidence,
    };
  }

  // Plateau: it rose clearly, then the later half went flat (a bounded cache filling up).
  const secondHalfYs = ys.slice(n - half);
  const laterLevel = secondHalfYs.reduce((a, b) => a + b, 0) / secondHalfYs.length;
  const rise = laterLevel - ys[0]!;
  const laterNoise = second?.residualStdDev ?? 0;
  const secondSignificant =
    second !== undefined && s2 > noise && confidenceFromT(tStatistic(second), second.n - 2) >= 0.95;
  const laterFlat = s2 < 0.25 * s1 || (s2 <= noise && !secondSignificant);
  if (s1 > noise && laterFlat && rise > Math.max(2 * noise, 3 * laterNoise)) {
    const riseT = laterNoise === 0 ? Infinity : rise / (laterNoise / Math.sqrt(half));
    return {
      kind: 'plateau',
      confidence: oneSidedConfidence(riseT, Math.max(1, half - 1)),
      summary:
        `Retained heap rose by ${formatBytes(rise)} over the first runs, then levelled off ` +
        `(${formatBytesPerRun(s2)} over the last ${half} of ${n} runs).`,
      advice: ADVICE.plateau,
      evidence: [...evidence, `rise ${formatBytes(rise)} to the later level`],
    };
  }

  const spreadTooLarge = confidence < 0.95 && fit.residualStdDev > Math.max(Math.abs(fit.slope), noise) * n;
  if (spreadTooLarge) {
    return {
      kind: 'inconclusive',
      confidence: 0,
      summary:
        `Retained heap varies too much to tell: ±${formatBytes(fit.residualStdDev)} around ` +
        `${formatBytesPerRun(fit.slope)} over ${n} runs.`,
      advice: ADVICE.inconclusive,
      evidence: [...evidence, `residual std dev ${formatBytes(fit.residualStdDev)}`],
    };
  }

  if (fit.slope <= noise || !significant) {
    // How sure are we that the true slope stays under the floor (one-sided)?
    const tBelow = fit.slopeStdErr === 0 ? (fit.slope <= noise ? Infinity : -Infinity) : (noise - fit.slope) / fit.slopeStdErr;
    const below = fit.slope <= noise;
    return {
      kind: 'no-leak',
      confidence: df > 0 ? oneSidedConfidence(tBelow, df) : below ? 0.5 : 0,
      summary: below
        ? `Retained heap is flat: ${formatBytesPerRun(fit.slope)} over ${n} runs, within the ${formatBytes(noise)} noise floor.`
        : `Retained heap shows no significant growth: ${formatBytesPerRun(fit.slope)} over ${n} runs ` +
          `is within its noise (confidence ${formatPercent(confidence)}).`,
      advice: ADVICE['no-leak'],
      evidence,
    };
  }

  // Significant growth that is slowing down but not yet flat.
  return {
    kind: 'inconclusive',
    confidence: 0,
    summary:
      `Retained heap grew by ${growthPerRun} per run over ${n} runs, but growth is slowing ` +
      `(${formatBytesPerRun(s1)} then ${formatBytesPerRun(s2)}): it may be about to plateau.`,
    advice: 'Measure more runs to see whether growth stops (a bounded cache) or goes on (a leak).',
    evidence,
  };
}

/**
 * Allocator high water: RSS rose although live memory came back. Undefined when it does not apply.
 * `rss` and `live` are per run, same length.
 */
export function judgeHighWater(rss: readonly number[], live: readonly number[], options?: VerdictOptions): Verdict | undefined {
  const { noise } = resolve(options);
  const n = rss.length;
  if (n < 2 || live.length !== n) return undefined;
  if (![...rss, ...live].every(Number.isFinite)) return undefined;
  const rssStart = rss[0]!;
  const rssPeak = Math.max(...rss);
  const rssEnd = rss[n - 1]!;
  const rssRise = Math.max(rssPeak, rssEnd) - rssStart;
  if (rssRise <= Math.max(4 * MIB, noise)) return undefined;
  const liveDelta = live[n - 1]! - live[0]!;
  const tolerance = Math.max(noise * n, 0.1 * rssRise);
  if (liveDelta > tolerance) return undefined;
  const liveShare = Math.max(0, liveDelta) / rssRise;
  return {
    kind: 'allocator-high-water',
    // The smaller the live change against the RSS rise, the clearer the picture.
    confidence: Math.min(0.99, Math.max(0.5, 1 - liveShare)),
    summary:
      `RSS rose by ${formatBytes(rssRise)} over ${n} runs while live memory changed by ${formatBytes(liveDelta)}: ` +
      'the allocator keeps freed memory (high water), this is not a leak.',
    advice:
      `This is not a leak: RSS rose by ${formatBytes(rssRise)} while live memory changed by ${formatBytes(liveDelta)}, ` +
      'so the memory was freed but the allocator does not return it to the OS. Options: ' +
      'recycle workers (--max-tasks-per-child / --max-memory-per-child); for Python try PYTHONMALLOC=malloc ' +
      'with jemalloc (LD_PRELOAD) or call malloc_trim(0) after large tasks; avoid loading large data per task.',
    evidence: [
      `RSS ${formatBytes(rssStart)} → peak ${formatBytes(rssPeak)}, end ${formatBytes(rssEnd)}`,
      `RSS rise ${formatBytes(rssRise)}`,
      `live ${formatBytes(live[0]!)} → ${formatBytes(live[n - 1]!)} (${formatBytes(liveDelta)})`,
      `${n} runs`,
    ],
  };
}

/** Fit, verdict and figures for one task. */
export function summarizeTask(name: string, runs: readonly TaskRun[], options?: VerdictOptions): TaskSummary {
  const series = sortedRuns(runs);
  const fit = fitGrowth(
    series.map((r) => r.retainedBytes),
    series.map((r) => r.index),
  );
  let verdict = judgeTask(series, options);
  const rss = series.map((r) => r.rssBytes);
  if (series.length > 0 && verdict.kind !== 'leak' && rss.every((v): v is number => v !== undefined && Number.isFinite(v))) {
    const highWater = judgeHighWater(
      rss,
      series.map((r) => r.retainedBytes),
      options,
    );
    if (highWater) verdict = highWater;
  }
  return { name, runs: series.length, bytesPerRun: fit?.slope ?? 0, fit, verdict, series };
}

/** Worst first. */
export const VERDICT_SEVERITY: Record<VerdictKind, number> = {
  leak: 4,
  'allocator-high-water': 3,
  plateau: 2,
  inconclusive: 1,
  'no-leak': 0,
};

function listNames(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** One verdict for the whole session, naming the task(s) behind the worst finding. */
export function judgeOverall(tasks: readonly TaskSummary[]): Verdict {
  if (tasks.length === 0) {
    return {
      kind: 'inconclusive',
      confidence: 0,
      summary: 'No tasks were measured.',
      advice: 'Check that the task ran (harness mode) or that the worker published task marks; try a longer session.',
      evidence: [],
    };
  }
  let worst: VerdictKind = 'no-leak';
  for (const task of tasks) {
    if (VERDICT_SEVERITY[task.verdict.kind] > VERDICT_SEVERITY[worst]) worst = task.verdict.kind;
  }
  const culprits = tasks.filter((t) => t.verdict.kind === worst).sort((a, b) => b.bytesPerRun - a.bytesPerRun);
  const names = culprits.map((t) => t.name);
  const perRun = (t: TaskSummary): string => formatBytesPerRun(t.bytesPerRun).replace('/run', ' per run');
  let summary: string;
  switch (worst) {
    case 'leak':
      summary =
        culprits.length === 1
          ? `${culprits[0]!.name} keeps ${perRun(culprits[0]!)}: a leak.`
          : `${listNames(culprits.map((t) => `${t.name} (${formatBytesPerRun(t.bytesPerRun)})`))} keep memory with every run: leaks.`;
      break;
    case 'allocator-high-water':
      summary = `${listNames(names)}: RSS grows while live memory returns to its start: allocator high water, not a leak.`;
      break;
    case 'plateau':
      summary = `${listNames(names)}: retained memory rises, then levels off: a bounded cache, not a leak.`;
      break;
    case 'inconclusive':
      summary = `Could not tell for ${listNames(names)}: ${culprits[0]!.verdict.summary}`;
      break;
    case 'no-leak':
      summary =
        tasks.length === 1
          ? `${tasks[0]!.name} does not keep memory (${perRun(tasks[0]!)}): no leak.`
          : `None of the ${tasks.length} tasks keeps memory: no leak.`;
      break;
  }
  return {
    kind: worst,
    confidence: Math.max(...culprits.map((t) => t.verdict.confidence)),
    summary,
    advice: culprits[0]!.verdict.advice,
    evidence: tasks.map(
      (t) => `${t.name}: ${t.verdict.kind}, ${formatBytesPerRun(t.bytesPerRun)} over ${t.runs} runs`,
    ),
  };
}

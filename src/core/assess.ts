/**
 * The statistical verdict for one series of retained bytes per run: is it a leak, a cache that
 * plateaus, nothing, or too noisy to tell? Pure; all figures are bytes.
 */
import { formatBytes, formatBytesPerRun, formatPercent, formatProjection, plural } from './format';
import { fitGrowth } from './growth';
import { kendallTrendUp, median, oneSided } from './robust';
import { segmentGrowth } from './segmentGrowth';

export { segmentGrowth, studentQuantile95, type SegmentGrowth } from './segmentGrowth';
import type { GrowthFit, TaskRun, Verdict, VerdictKind } from './model';

export interface VerdictOptions {
  /**
   * The smallest growth per run the measurement method can stand behind (default 8 B: one
   * pointer-sized word; nothing smaller can be kept per run). Not a noise floor: noise is measured.
   */
  floorBytes?: number;
  /** Fewer measured runs than this give 'inconclusive' (default 4). */
  minRuns?: number;
  /**
   * Where a series' noise lives. 'level': each point measures the whole retained heap (harness:
   * heap after a full GC), so noise is on the levels. 'increment': each run measured what it kept
   * itself and the series is their running total (workers), so noise is on the increments and the
   * levels are a random walk that a regression on levels must not be used on.
   */
  noise?: 'level' | 'increment';
  /**
   * Each point is a reading of its own (the harness: the heap after each run's full GC), so a level
   * read off by one run and back at the next can be put between its neighbours. Not a worker's
   * series, whose points are running totals of what each measured task was charged.
   */
  separateReadings?: boolean;
}

export const DEFAULT_FLOOR_BYTES = 8;
export const DEFAULT_MIN_RUNS = 4;
/** A leak is called at this one-sided confidence; 1 in 100 clean tasks would be a false leak at 0.95. */
export const LEAK_CONFIDENCE = 0.99;
/**
 * A rise that then stops is called a plateau (a cache that filled) only above this: the first runs
 * of any task warm V8 up (inline caches, feedback vectors, lazily compiled functions), measured at up
 * to 10 KiB for a no-op and 21 KiB for a task of temporaries only. Smaller one-time rises are no leak.
 */
export const WARM_UP_BYTES = 32 * 1024;
/**
 * Runs over which V8 may still be warming up a task (measured: a task of temporaries settled after
 * ~60 runs). A Node series shorter than this whose whole rise is under WARM_UP_BYTES is not a leak yet.
 */
export const WARM_UP_RUNS = 60;
/**
 * While V8 still compiles a task's code it keeps metadata beside each compiled function on the
 * heap (bytecode, feedback vectors, deoptimization data, source positions). Measured in the harness
 * over 200-300 runs of TypeScript's transpileModule, ESLint's Linter.verify, Prettier's format and
 * acorn's parse: the retained heap grew 0.95-1.3 bytes per byte of compiled code over the later half,
 * and up to 1.9 over single 50-run windows. Later growth up to this many bytes per byte of code can be
 * that metadata, not the program's objects (a 57 B/run leak read 14 B/run of code: 4 bytes per byte).
 */
export const JIT_METADATA_PER_CODE_BYTE = 2;
/** Runs in which compiled code grew for V8 to count as still compiling the task (see compiledCodeGrowth). */
export const COMPILING_RUNS = 10;
/** A plateau (not a leak) is called on the usual 95%: a wrong plateau costs a user less than a wrong leak. */
export const PLATEAU_CONFIDENCE = 0.95;

/** What to do next for each verdict; worded for Node and Python alike (one copy, used by the trend verdicts too). */
export const ADVICE: Record<VerdictKind, string> = {
  leak:
    'Look at the top retaining sites below: a cache, map or dict, list or set that is only ever added to, ' +
    'listeners or callbacks that are never removed, or objects held by a long-lived one (a global, a class attribute, a closure).',
  plateau:
    'This looks like a bounded cache or pool filling up, not a leak. Check that its maximum size is ' +
    'what you want; run more tasks to confirm it stays flat.',
  'no-leak':
    'Nothing to do for this task. If the process RSS still grows, look at allocator high water ' +
    '(freed memory the allocator keeps) and off-heap memory (Buffers, native modules).',
  'allocator-high-water': '',
  inconclusive: 'Measure more runs (--runs), skip one-time setup with more warm-up runs (--warmup), and keep other work out of the process while measuring.',
};

interface Resolved {
  floor: number;
  minRuns: number;
  noise: 'level' | 'increment';
  separateReadings: boolean;
}

export function resolveOptions(options?: VerdictOptions): Resolved {
  const floor = options?.floorBytes;
  const minRuns = options?.minRuns;
  return {
    floor: floor !== undefined && Number.isFinite(floor) && floor >= 0 ? floor : DEFAULT_FLOOR_BYTES,
    minRuns: minRuns !== undefined && Number.isFinite(minRuns) ? Math.max(2, Math.floor(minRuns)) : DEFAULT_MIN_RUNS,
    noise: options?.noise ?? 'level',
    separateReadings: options?.separateReadings === true && (options?.noise ?? 'level') === 'level',
  };
}

export function sortedRuns(runs: readonly TaskRun[]): TaskRun[] {
  return runs.filter((r) => Number.isFinite(r.retainedBytes)).sort((a, b) => a.index - b.index);
}

function r2(fit: GrowthFit): string {
  return fit.rSquared.toFixed(2);
}

/**
 * How fast compiled code grew over these runs (least squares, bytes per run) when V8 kept compiling
 * through them: code grew by more than the floor per run, in at least COMPILING_RUNS of the runs.
 * Else undefined. Code space changes only when V8 compiles or flushes code; a small task's functions
 * are compiled a few times each and then done (the later runs of a 57 B/run leak and of a 100-run
 * array leak: code grew in 0-2 runs, by up to 6 KiB, with no metadata to go with it), while a large
 * library's code is compiled function after function (TypeScript, ESLint, Prettier: in 34-101 of
 * 100-150 later runs).
 */
export function compiledCodeGrowth(runs: readonly TaskRun[], floor: number): number | undefined {
  const code = runs.map((r) => r.compiledCodeBytes);
  if (runs.length < 3 || !code.every((v): v is number => v !== undefined && Number.isFinite(v))) return undefined;
  let grew = 0;
  for (let i = 1; i < code.length; i++) if (code[i] > code[i - 1]) grew++;
  // Where one run in several is read, half of the readings growing says the same as COMPILING_RUNS
  // runs did (a small task: 0-2 runs of 100; a large library: most readings).
  const gaps = runs.some((r, i) => i > 0 && r.index - runs[i - 1].index > 1);
  if (grew < (gaps ? Math.min(COMPILING_RUNS, Math.ceil((code.length - 1) / 2)) : COMPILING_RUNS)) return undefined;
  const fit = fitGrowth(
    code,
    runs.map((r) => r.index),
  );
  return fit && fit.slope > floor ? fit.slope : undefined;
}

/** Judge one task from its retained bytes per run. */
export function judgeTask(runs: readonly TaskRun[], options?: VerdictOptions): Verdict {
  return assessTask(runs, options).verdict;
}

/** "200 runs, 35 of them read (one in 6)" where a long session read one run in several; else "20 runs". */
function runsRead(runs: number, read: number): string {
  if (runs <= read) return plural(read, 'run');
  return `${plural(runs, 'run')}, ${read} of them read${read > 1 ? ` (one in ${Math.round((runs - 1) / (read - 1))})` : ''}`;
}

/** The verdict and the growth per run it stands on (the later runs' Theil-Sen slope). */
export function assessTask(runs: readonly TaskRun[], options?: VerdictOptions): Assessment {
  return assessSorted(sortedRuns(runs), options);
}

/** A verdict with the growth per run it stands on and that figure's standard error, when known. */
export interface Assessment {
  verdict: Verdict;
  perRun: number | undefined;
  stdErr: number | undefined;
}

function assessSorted(sorted: TaskRun[], options?: VerdictOptions): Assessment {
  // The growth's standard error, known once the series is judged; every verdict below carries it.
  const judged: { stdErr: number | undefined } = { stdErr: undefined };
  const verdict = (v: Verdict, perRun?: number): Assessment => ({ verdict: v, perRun, stdErr: judged.stdErr });
  const { floor, minRuns, noise, separateReadings } = resolveOptions(options);
  const n = sorted.length;
  const ys = sorted.map((r) => r.retainedBytes);
  // Run indices as x: sampled runs may leave gaps, and the slope must stay "per run".
  const xs = sorted.map((r) => r.index);
  // Runs, not readings: a long harness session reads one run in several (core/harnessReadings).
  const runs = n > 0 ? xs[n - 1] - xs[0] + 1 : 0;
  const fit = n >= minRuns ? fitGrowth(ys, xs) : undefined;
  if (!fit || n < 3) {
    return verdict({
      kind: 'inconclusive',
      confidence: 0,
      summary:
        runs > n
          ? `Only ${n} of ${plural(runs, 'run')} were read (a long session reads one run in several, and this one ended early); the verdict needs at least ${minRuns} readings.`
          : `Only ${plural(n, 'run')} measured; the verdict needs at least ${minRuns} runs.`,
      advice: ADVICE.inconclusive,
      evidence: [runsRead(runs, n)],
    });
  }

  // The later half decides whether it still grows (warm-up, inline caches and lazily compiled code
  // settle early); the first half tells a cache that filled from a leak that goes on.
  const middle = Math.floor((n - 1) / 2);
  const later = segmentGrowth(xs.slice(middle), ys.slice(middle), floor, noise, separateReadings);
  const early = segmentGrowth(xs.slice(0, middle + 1), ys.slice(0, middle + 1), floor, noise, separateReadings);
  const whole = segmentGrowth(xs, ys, floor, noise, separateReadings)!;
  // A later half of three runs cannot measure its own noise: few runs are judged whole.
  const current = later && later.points >= 4 ? later : whole;
  judged.stdErr = current.stdErr;
  const span = current === whole ? `over all ${plural(runs, 'run')}` : `over the later runs of ${plural(runs, 'run')}`;
  const total = ys[n - 1] - ys[0];
  const evidence = [
    `later half ${formatBytesPerRun(current.slope)} (Theil-Sen), typical run ${formatBytesPerRun(current.typical)}`,
    `${current.up} of the later runs grew, ${current.down} shrank`,
    `growth test: ${current.test}, ${formatPercent(current.confidence)} sure it is above ${formatBytes(floor)}/run`,
    ...(early ? [`first half ${formatBytesPerRun(early.slope)}`] : []),
    `least squares ${formatBytesPerRun(fit.slope)} ± ${formatBytes(fit.slopeStdErr)}, R² ${r2(fit)}`,
    runsRead(runs, n),
    `total growth ${formatBytes(total)} (first to last run)`,
    ...(current.steps ? [`${plural(current.steps, 'step')} in the accounting left out of the trend`] : []),
    ...(current.misread
      ? [`${plural(current.misread, 'run')} read off by a step the next run undid (kept memory counted a run late), taken between its neighbours`]
      : []),
  ];

  const grows = current.confidence >= LEAK_CONFIDENCE && current.slope > floor;
  // The tests above weigh sizes, and a few runs of stepwise noise (Python's allocator moves in steps
  // of ~0.5 and ~1.5 KiB) can line up as a steady rise. The order of the levels must itself be
  // unlikely by chance. Level series only: a running total's levels are a random walk.
  const order = noise === 'level' ? kendallTrendUp(ys.slice(current === whole ? 0 : middle)) : 1;
  if (noise === 'level') evidence.push(`order test (Kendall): ${formatPercent(order)} sure the runs rise`);
  const significant = grows && order >= LEAK_CONFIDENCE;
  const compiling = compiledCodeGrowth(sorted.slice(middle), floor);
  if (compiling !== undefined)
    evidence.push(`compiled code ${formatBytesPerRun(compiling)} over the later runs, V8 still compiling (left out of the retained heap)`);
  // Growth that slowed to under half its early rate is a cache filling up, not yet a leak; unless
  // what the early runs kept beyond the later rate fits in what V8's warm-up adds (Node), as for a
  // plateau below: a task's first runs also keep V8's feedback and optimized code's metadata (a
  // steady 56 B/run read +176 B/run over its first 50 runs, 5.9 KiB more, where V8 optimized it
  // between readings).
  const nodeLevels = noise === 'level' && sorted.every((r) => r.runtime === 'node');
  const earlyExcess = early !== undefined ? (early.slope - current.slope) * (xs[middle] - xs[0]) : 0;
  const slowing =
    early !== undefined &&
    early.steadyConfidence >= LEAK_CONFIDENCE &&
    current.slope < 0.5 * early.slope &&
    current.typical < 0.5 * early.typical &&
    !(nodeLevels && earlyExcess <= WARM_UP_BYTES);
  // Levelled off by an order of magnitude after a clear early rise: a cache that filled. A tiny
  // later growth is reported with it rather than turned into a leak or left undecided.
  const laterLevel = median(ys.slice(middle));
  const rise = laterLevel - ys[0];
  // A cache fills over several runs; one run's step is what V8 adds when it installs a function's
  // optimized code (seen: a clean task of temporaries kept 33 KiB in one run, then ~4 KiB more over
  // the next runs, under CI load). The rise beside the largest step must be more than warm-up.
  const largestEarlyStep = Math.max(0, ...ys.slice(1, middle + 1).map((y, i) => y - ys[i]));
  const earlyRise =
    early !== undefined &&
    early.steadyConfidence >= PLATEAU_CONFIDENCE &&
    early.slope > floor &&
    rise - largestEarlyStep > Math.max(floor * runs, WARM_UP_BYTES) &&
    rise > 3 * current.spread;
  // How sure that the later runs grow at under a quarter of the early rate.
  const plateau = (): Assessment =>
    verdict(
      {
        kind: 'plateau',
        confidence: Math.min(early!.steadyConfidence, oneSided(0.25 * early!.slope - current.slope, current.stdErr, Math.max(1, n - middle - 2))),
        summary:
          `Retained heap rose by ${formatBytes(rise)} over the first runs, then levelled off ` +
          `(${formatBytesPerRun(current.slope)} over the last ${xs[n - 1] - xs[middle] + 1} of ${runs} runs).`,
        advice: ADVICE.plateau,
        evidence: [...evidence, `rise ${formatBytes(rise)} to the later level`],
      },
      current.slope,
    );
  if (earlyRise && current.slope < 0.1 * early.slope) return plateau();

  // V8 keeps warming up for tens of runs (inline caches, feedback, lazily compiled code: ~19 KiB
  // over the first ~60 runs of a task of temporaries). A short Node series whose whole rise fits in
  // that cannot tell a leak from the warm-up: a 10-run task of temporaries read +435 B/run.
  const v8WarmUp = nodeLevels && runs < WARM_UP_RUNS && total <= WARM_UP_BYTES;
  if (grows && !slowing && v8WarmUp) {
    return verdict(
      {
        kind: 'inconclusive',
        confidence: 0,
        summary:
          `Retained heap grew by ${formatBytesPerRun(current.slope)} over ${plural(runs, 'run')}, ${formatBytes(total)} in all: ` +
          `within what V8's warm-up adds over its first ${WARM_UP_RUNS} runs, so it cannot be told from a leak yet.`,
        advice: `Measure at least ${WARM_UP_RUNS} runs (--runs ${WARM_UP_RUNS}): a leak keeps growing after the warm-up, the warm-up stops.`,
        evidence,
      },
      current.slope,
    );
  }

  // Large libraries (TypeScript, ESLint, Prettier) are still being compiled after hundreds of runs,
  // and their heap grows with the compiled code: TypeScript read +900 B/run at 200 runs, and levels
  // off by run 600. Growth the compiler's metadata can explain is not called a leak yet.
  if (grows && !slowing && compiling !== undefined && current.slope <= JIT_METADATA_PER_CODE_BYTE * compiling) {
    return verdict(
      {
        kind: 'inconclusive',
        confidence: 0,
        summary:
          `Retained heap grew by ${formatBytesPerRun(current.slope)} over the later runs while V8 was still compiling the task's code ` +
          `(${formatBytesPerRun(compiling)} of compiled code): V8 keeps about as much metadata beside compiled code, so this cannot be told from a leak yet.`,
        advice: `Measure more runs (--runs ${Math.max(1000, 5 * runs)}): V8's compiling settles and its metadata stops growing, a leak keeps growing.`,
        evidence,
      },
      current.slope,
    );
  }

  if (significant && !slowing) {
    return verdict(
      {
        kind: 'leak',
        confidence: current.confidence,
        summary: `Retained heap grows by ${formatProjection(current.slope)} (over ${plural(runs, 'measured run')}).`,
        advice: ADVICE.leak,
        evidence,
      },
      current.slope,
    );
  }

  if (grows && !slowing) {
    const points = current.points;
    return verdict(
      {
        kind: 'inconclusive',
        confidence: 0,
        summary:
          `Retained heap grew by ${formatBytesPerRun(current.slope)} ${span}, but ${points} runs can rise in that order by chance ` +
          `(${formatPercent(order)} sure from their order; a leak needs ${formatPercent(LEAK_CONFIDENCE)}).`,
        advice: `Measure more runs (--runs ${Math.max(2 * runs, 20)}): a leak keeps rising run after run, noise does not.`,
        evidence,
      },
      current.slope,
    );
  }

  if (grows && slowing) {
    return verdict(
      {
        kind: 'inconclusive',
        confidence: 0,
        summary:
          `Retained heap grew by ${formatBytesPerRun(current.slope)} over the later runs, but growth is slowing ` +
          `(${formatBytesPerRun(early.slope)} then ${formatBytesPerRun(current.slope)}): it may be about to plateau.`,
        advice: 'Measure more runs to see whether growth stops (a bounded cache) or goes on (a leak).',
        evidence,
      },
      current.slope,
    );
  }

  // Plateau: a clear rise over the first runs (most of them kept memory), then flat. A plateau is
  // growth that slowed: six runs of a steady 23.7 KiB/run leak, not quite 99% sure, were called a
  // plateau "with 0.5% confidence" while the later runs grew at the early rate.
  const stillGrowing = current.confidence >= PLATEAU_CONFIDENCE && current.slope > floor;
  if (earlyRise) {
    const levelled = plateau();
    if (current.slope < 0.5 * early.slope || levelled.verdict.confidence >= PLATEAU_CONFIDENCE) return levelled;
    return verdict(
      {
        kind: 'inconclusive',
        confidence: 0,
        summary:
          `Retained heap rose by ${formatBytes(rise)} over the first runs and still grows at ${formatBytesPerRun(current.slope)} ` +
          `(${formatBytesPerRun(early.slope)} at first): too few or too noisy runs to tell a leak from a cache that is filling.`,
        advice: 'Measure more runs (--runs): a leak keeps growing, a cache levels off.',
        evidence,
      },
      current.slope,
    );
  }

  // Growth that is probably there (95%) but short of a leak's 99% is not "no leak".
  if (stillGrowing) {
    return verdict(
      {
        kind: 'inconclusive',
        confidence: current.confidence,
        summary:
          `Retained heap probably grows, not yet sure: ${formatBytesPerRun(current.slope)} ${span} ` +
          `(${formatPercent(current.confidence)} sure; a leak needs ${formatPercent(LEAK_CONFIDENCE)}).`,
        advice: 'Measure more runs (--runs): a few runs cannot make a small or noisy growth sure.',
        evidence,
      },
      current.slope,
    );
  }

  if (!Number.isFinite(current.upper95)) {
    return verdict(
      {
        kind: 'inconclusive',
        confidence: 0,
        summary: `Only ${plural(n, 'measured run')}: too few to tell growth from noise (${formatBytesPerRun(current.slope)} so far).`,
        advice: ADVICE.inconclusive,
        evidence,
      },
      current.slope,
    );
  }

  // No growth to stand behind. Say so only when the measurement rules out a growth that matters:
  // one that could double the process's memory (RSS where known, else the retained heap of a level
  // series) within 100 runs. A series of what each run kept has no level to compare with.
  const rss = sorted.map((r) => r.rssBytes);
  const scale = rss.every((v): v is number => v !== undefined && Number.isFinite(v) && v > 0)
    ? median(rss)
    : noise === 'level'
      ? Math.abs(median(ys))
      : Infinity;
  if (current.flatConfidence < 0.95 && current.upper95 * 100 > scale) {
    return verdict(
      {
        kind: 'inconclusive',
        confidence: 0,
        summary:
          `Retained heap varies too much to tell: ${formatBytesPerRun(current.slope)} ${span}, ` +
          `but it could be as much as ${formatBytesPerRun(current.upper95)} (runs differ by ±${formatBytes(current.spread)}).`,
        advice: ADVICE.inconclusive,
        evidence,
      },
      current.slope,
    );
  }
  const within = current.slope <= floor;
  return verdict(
    {
      kind: 'no-leak',
      confidence: Math.max(current.flatConfidence, 1 - current.confidence),
      summary: within
        ? `Retained heap is flat: ${formatBytesPerRun(current.slope)} ${span}.`
        : `Retained heap shows no steady growth: ${formatBytesPerRun(current.slope)} ${span} ` +
          `is within its noise (at most ${formatBytesPerRun(Math.max(0, current.upper95))} at 95%).`,
      advice: ADVICE['no-leak'],
      evidence,
    },
    current.slope,
  );
}

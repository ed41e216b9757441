/**
 * Verdicts: is a task's retained memory a leak, a cache that plateaus, allocator high water, or
 * nothing? The series test is in assess.ts; this adds what RSS and native memory say, and the
 * session's one verdict. All figures are bytes.
 */
import { PROJECTION_RUNS, formatBytes, formatBytesPerRun, formatGrowthPer, plural, type ProgressUnit } from './format';
import { fitGrowth } from './growth';
import { DEFAULT_FLOOR_BYTES, assessTask, resolveOptions, sortedRuns, type VerdictOptions } from './assess';
import { judgeNativeGrowth, outsideHeapGrowth, trimmedEvidence } from './memoryOutsideHeap';
import type { LeakMemory, TaskRun, TaskSummary, Verdict, VerdictKind } from './model';

export {
  DEFAULT_FLOOR_BYTES,
  DEFAULT_MIN_RUNS,
  LEAK_CONFIDENCE,
  PLATEAU_CONFIDENCE,
  WARM_UP_BYTES,
  assessTask,
  judgeTask,
  segmentGrowth,
  studentQuantile95,
  type Assessment,
  type SegmentGrowth,
  type VerdictOptions,
} from './assess';

const MIB = 1024 * 1024;

/**
 * Allocator high water: RSS rose although live memory came back. Undefined when it does not apply.
 * `rss` and `live` are per run, same length.
 */
export function judgeHighWater(rss: readonly number[], live: readonly number[], options?: VerdictOptions): Verdict | undefined {
  const { floor: noise } = resolveOptions(options);
  const n = rss.length;
  if (n < 2 || live.length !== n) return undefined;
  if (![...rss, ...live].every(Number.isFinite)) return undefined;
  const rssStart = rss[0];
  const rssPeak = Math.max(...rss);
  const rssEnd = rss[n - 1];
  const rssRise = Math.max(rssPeak, rssEnd) - rssStart;
  if (rssRise <= Math.max(4 * MIB, noise)) return undefined;
  const liveDelta = live[n - 1] - live[0];
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
      `live ${formatBytes(live[0])} → ${formatBytes(live[n - 1])} (${formatBytes(liveDelta)})`,
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
  const assessed = assessTask(series, options);
  let verdict = assessed.verdict;
  let bytesPerRun = assessed.perRun ?? fit?.slope ?? 0;
  let growthStdErr = assessed.stdErr;
  if (verdict.kind === 'leak') {
    verdict = withOutsideHeapShare(verdict, series, bytesPerRun);
  } else {
    // Native memory that the traces cannot see: steady growth there is a leak whatever they say.
    const native = judgeNativeGrowth(series, options);
    if (native) {
      verdict = native.verdict;
      bytesPerRun = native.perRun;
      growthStdErr = undefined;
    } else if (verdict.kind === 'no-leak' || verdict.kind === 'inconclusive') {
      // A plateau already explains a rise in RSS; high water speaks only where live memory shows nothing.
      const highWater = highWaterOf(series, options);
      if (highWater) verdict = highWater;
    }
  }
  return {
    name,
    // Harness runs between two readings count too (core/harnessReadings).
    runs: series.length ? series[series.length - 1].index + 1 : 0,
    bytesPerRun,
    fit,
    verdict,
    series,
    ...(growthStdErr !== undefined && Number.isFinite(growthStdErr) ? { growthStdErr } : {}),
  };
}

/** Python only: a Node harness's RSS grows with the inspector and V8's reservations. */
function highWaterOf(series: readonly TaskRun[], options?: VerdictOptions): Verdict | undefined {
  const rss = series.map((r) => r.rssBytes);
  if (series.length === 0 || series.some((r) => r.runtime === 'node') || !rss.every((v): v is number => v !== undefined && Number.isFinite(v)))
    return undefined;
  const highWater = judgeHighWater(
    rss,
    series.map((r) => r.retainedBytes),
    options,
  );
  const trimmed = trimmedEvidence(series);
  if (highWater && trimmed) highWater.evidence.push(trimmed);
  return highWater;
}

/** A leak, with how much of it lives outside the V8 heap when that is most of it (Buffers, ArrayBuffers). */
function withOutsideHeapShare(verdict: Verdict, series: readonly TaskRun[], bytesPerRun: number): Verdict {
  const outside = outsideHeapGrowth(series);
  if (outside === undefined || !(outside >= 0.5 * bytesPerRun)) return { ...verdict, memory: 'heap' };
  return {
    ...verdict,
    memory: 'outside-heap',
    summary: `${verdict.summary} ${formatGrowthPer(outside, 'run')} of it is outside the V8 heap (Buffers, ArrayBuffers).`,
    advice:
      'Most of what is kept is Buffer or ArrayBuffer memory: the sites below allocate the small objects that hold it. ' +
      'Look for Buffers or typed arrays kept in a cache, array or map, chunks collected from streams and never released, or slices (buf.subarray) that keep a large parent alive. ' +
      verdict.advice,
    evidence: [...verdict.evidence, `outside the V8 heap (external memory): ${formatBytesPerRun(outside)} over the later runs`],
  };
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

const WHERE: Record<LeakMemory, string> = {
  heap: '',
  'outside-heap': ' outside the V8 heap (Buffers, ArrayBuffers)',
  native: ' in native memory (outside what tracemalloc traces)',
};

/** One verdict for the whole session, naming the task(s) behind the worst finding. */
/** The session's one verdict; `unit` is what growth is counted per (harness runs, worker tasks). */
export function judgeOverall(tasks: readonly TaskSummary[], unit: ProgressUnit = 'run'): Verdict {
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
  const perRun = (t: TaskSummary): string => formatGrowthPer(t.bytesPerRun, unit);
  const projected = (bytesPerRun: number): string =>
    `${bytesPerRun > 0 ? '+' : ''}${formatBytes(bytesPerRun * PROJECTION_RUNS)} per ${PROJECTION_RUNS.toLocaleString('en-US')} ${unit}s`;
  let summary: string;
  switch (worst) {
    case 'leak':
      summary =
        culprits.length === 1
          ? `${culprits[0].name} keeps ${perRun(culprits[0])}${WHERE[culprits[0].verdict.memory ?? 'heap']} (${projected(culprits[0].bytesPerRun)}): a leak.`
          : `${listNames(culprits.map((t) => `${t.name} (${formatBytesPerRun(t.bytesPerRun, unit)}${WHERE[t.verdict.memory ?? 'heap']})`))} keep memory with every ${unit}: leaks.`;
      break;
    case 'allocator-high-water':
      summary = `${listNames(names)}: RSS grows while live memory returns to its start: allocator high water, not a leak.`;
      break;
    case 'plateau':
      summary = `${listNames(names)}: retained memory rises, then levels off: a bounded cache, not a leak.`;
      break;
    case 'inconclusive':
      summary = `Could not tell for ${listNames(names)}: ${culprits[0].verdict.summary}`;
      break;
    case 'no-leak':
      summary =
        tasks.length === 1
          ? Math.abs(tasks[0].bytesPerRun) <= DEFAULT_FLOOR_BYTES
            ? `${tasks[0].name} does not keep memory (${perRun(tasks[0])}): no leak.`
            : `${tasks[0].name} shows no steady growth (${perRun(tasks[0])} is within the noise between runs): no leak.`
          : `None of the ${tasks.length} tasks keeps memory: no leak.`;
      break;
  }
  return {
    kind: worst,
    confidence: Math.max(...culprits.map((t) => t.verdict.confidence)),
    summary,
    advice: culprits[0].verdict.advice,
    evidence: [
      // The figures the culprits' verdicts stand on (slope and its error, R², the halves, how the
      // verdict firmed up), named when there are several tasks; each other task in one line.
      ...culprits.flatMap((t) => t.verdict.evidence.map((e) => (tasks.length > 1 ? `${t.name}: ${e}` : e))),
      ...tasks
        .filter((t) => !culprits.includes(t))
        .map((t) => `${t.name}: ${t.verdict.kind}, ${formatBytesPerRun(t.bytesPerRun, unit)} over ${plural(t.runs, unit)}`),
    ],
  };
}

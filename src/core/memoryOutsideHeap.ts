/**
 * Memory the heap figures do not show. Node: Buffers and ArrayBuffers (V8's external memory) are in
 * the retained figure already; this says how much of a leak lives there. Python: tracemalloc sees only
 * Python's own allocations, so a C extension (or ctypes) that never frees grows RSS while traced
 * memory stays flat. After each measured run the agent calls `malloc_trim(0)`, which returns the
 * allocator's free pages (high water), and reports what RSS still holds beyond the traces: that
 * series growing run after run is a leak in native memory, never "not a leak".
 */
import { formatBytes, formatBytesPerRun, formatProjection } from './format';
import { median, theilSen } from './robust';
import type { TaskRun, Verdict } from './model';
import { assessTask, type VerdictOptions } from './verdict';

/**
 * RSS moves in pages: native growth under one page per run is below what it can resolve, and the
 * allocator's own bookkeeping drifts by less. Not tuned to a fixture: it is the page size.
 */
export const NATIVE_FLOOR_BYTES = 4096;

/** A native leak's verdict with its growth per run, or undefined when native memory does not grow. */
export interface NativeGrowth {
  verdict: Verdict;
  perRun: number;
}

/**
 * Whether memory outside the traces grows steadily: the same tests as the retained series, on RSS
 * after `malloc_trim` less the traces, with a one-page floor.
 */
export function judgeNativeGrowth(series: readonly TaskRun[], options?: VerdictOptions): NativeGrowth | undefined {
  const untraced = series.filter((run): run is TaskRun & { untracedBytes: number } => run.untracedBytes !== undefined && Number.isFinite(run.untracedBytes));
  if (untraced.length < 4 || untraced.length !== series.length) return undefined;
  const assessed = assessTask(
    untraced.map((run) => ({ index: run.index, retainedBytes: run.untracedBytes, durationMs: run.durationMs })),
    { ...options, floorBytes: Math.max(NATIVE_FLOOR_BYTES, options?.floorBytes ?? 0) },
  );
  if (assessed.verdict.kind !== 'leak' || assessed.perRun === undefined) return undefined;
  const perRun = assessed.perRun;
  const first = untraced[0].untracedBytes;
  const last = untraced[untraced.length - 1].untracedBytes;
  const trimmed = trimmedEvidence(series);
  return {
    perRun,
    verdict: {
      kind: 'leak',
      memory: 'native',
      confidence: assessed.verdict.confidence,
      summary:
        `Native memory grows by ${formatProjection(perRun)}: RSS after malloc_trim keeps rising outside what tracemalloc traces ` +
        `(${formatBytes(first)} → ${formatBytes(last)} over ${series.length} runs), while traced memory does not. A leak in C code.`,
      advice:
        'A C extension, a ctypes/cffi call or a native library allocates on every run and never frees it. ' +
        'The traced stacks show the Python lines that run during the task: look for the call into native code there ' +
        '(an image, XML, crypto or database driver; a handle or buffer that needs an explicit close/free), and upgrade or report the package.',
      evidence: [
        `RSS after malloc_trim less traced memory: ${formatBytesPerRun(perRun)} over the later runs`,
        ...assessed.verdict.evidence.filter((line) => line.includes('runs grew') || line.includes('growth test')),
        ...(trimmed ? [trimmed] : []),
      ],
    },
  };
}

/** "malloc_trim returned a median 8.2 MiB after each run": the allocator's free memory, measured. */
export function trimmedEvidence(series: readonly TaskRun[]): string | undefined {
  const trimmed = series.map((run) => run.trimmedBytes).filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (trimmed.length === 0) return undefined;
  return `malloc_trim(0) returned a median ${formatBytes(median(trimmed))} of RSS after each run (allocator high water, not live memory)`;
}

/** Node: how much of a leak's growth per run is outside the V8 heap (Buffers, ArrayBuffers), from the later half. */
export function outsideHeapGrowth(series: readonly TaskRun[]): number | undefined {
  const known = series.filter(
    (run): run is TaskRun & { outsideHeapBytes: number } => run.outsideHeapBytes !== undefined && Number.isFinite(run.outsideHeapBytes),
  );
  if (known.length < 4 || known.length !== series.length) return undefined;
  const later = known.slice(Math.floor((known.length - 1) / 2));
  return theilSen(
    later.map((run) => run.index),
    later.map((run) => run.outsideHeapBytes),
  );
}

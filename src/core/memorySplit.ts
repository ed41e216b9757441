/**
 * Where a worker's RSS goes, for the report's notes: Node's V8 heap, memory outside it that
 * JavaScript holds (Buffers, external strings), and the rest (code, the runtime, native modules,
 * the allocator's free pages); Python's allocator high water measured by malloc_trim(0). Pure.
 */
import { formatBytes } from './format';
import type { HeapStatsPoint } from './model';

/** "RSS 61.1 MiB: V8 heap 19.0 MiB (12.8 MiB live), outside the heap 1.5 MiB (Buffers 16 KiB), the rest 40.6 MiB …" */
export function rssSplitNote(title: string, point: HeapStatsPoint): string | undefined {
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = point;
  if (rss === undefined || external === undefined || heapTotal === undefined || heapUsed === undefined || !(rss > 0)) return undefined;
  const rest = Math.max(0, rss - heapTotal - external);
  return (
    `${title}: RSS ${formatBytes(rss)} at the last reading: V8 heap ${formatBytes(heapTotal)} (${formatBytes(heapUsed)} live), ` +
    `outside the heap ${formatBytes(external)}${arrayBuffers !== undefined ? ` (Buffers and ArrayBuffers ${formatBytes(arrayBuffers)})` : ''}, ` +
    `the rest ${formatBytes(rest)} (compiled code, Node itself, native modules and the allocator's free pages).`
  );
}

/** The RSS that malloc_trim(0) gave back after the session's full GCs: allocator high water, measured. */
export function mallocTrimNote(title: string, trim: { last: number; total: number; count: number }): string | undefined {
  if (trim.count <= 0) return undefined;
  return (
    `${title}: malloc_trim(0) after ${trim.count} full GC(s) returned ${formatBytes(trim.total)} of RSS in all, ${formatBytes(trim.last)} the last time: ` +
    'memory the allocator kept after it was freed (high water), not live memory. Calling malloc_trim(0) after large tasks (ctypes) gives it back; a leak does not come back this way.'
  );
}

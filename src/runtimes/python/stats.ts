/** `Taskmem.getStats` as the session reads it: traced memory and RSS under their own names, checked. */
import type { StatsReading } from '../adapter';

export interface MallocTrimFigures {
  last: number;
  total: number;
  count: number;
}

export interface PythonStatsReading {
  /** Bytes tracemalloc traces now; undefined while it is not tracing (between sampled tasks). */
  tracedBytes: number | undefined;
  tracedPeak: number | undefined;
  rss: number | undefined;
  allocatedBlocks: number | undefined;
  gcCollections: number | undefined;
  /** With `mallocTrim` configured: RSS malloc_trim(0) returned after the session's full GCs. */
  mallocTrim: MallocTrimFigures | undefined;
  /** The hooks that marked tasks in this process (celery, rq, flask, django). */
  taskSources: string[] | undefined;
}

const count = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined);

/** Reads the agent's reply; a field of the wrong shape is left out, never passed on. */
export function parsePythonStats(raw: unknown): PythonStatsReading {
  const reply = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const tracing = reply.tracing === true;
  const trim = (typeof reply.mallocTrim === 'object' && reply.mallocTrim !== null ? reply.mallocTrim : undefined) as Record<string, unknown> | undefined;
  const trimFigures = trim && { last: count(trim.last), total: count(trim.total), count: count(trim.count) };
  return {
    tracedBytes: tracing ? count(reply.tracedCurrent) : undefined,
    tracedPeak: tracing ? count(reply.tracedPeak) : undefined,
    rss: count(reply.rss),
    allocatedBlocks: count(reply.allocatedBlocks),
    gcCollections: count(reply.gcCollections),
    mallocTrim:
      trimFigures && trimFigures.last !== undefined && trimFigures.total !== undefined && trimFigures.count !== undefined
        ? { last: trimFigures.last, total: trimFigures.total, count: trimFigures.count }
        : undefined,
    taskSources: Array.isArray(reply.taskSources) ? reply.taskSources.filter((source): source is string => typeof source === 'string') : undefined,
  };
}

/** The reading as a stats point: no V8 heap figures, traced memory and RSS as what they are. */
export function pythonStatsPoint(stats: PythonStatsReading): StatsReading {
  return {
    rss: stats.rss,
    tracedBytes: stats.tracedBytes,
    allocatedBlocks: stats.allocatedBlocks,
    gcCollections: stats.gcCollections,
  };
}

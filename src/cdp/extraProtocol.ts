/**
 * Domains the devtools-protocol package does not describe: Node's NodeWorker and NodeRuntime, and
 * our own `Taskmem` domain served by the Python agent (docs/PROTOCOL.md).
 */
import type { RawSamplingProfile } from '../core/model';

export interface WorkerInfo {
  workerId: string;
  type: string;
  title: string;
  url: string;
}

export interface PythonStats {
  rss: number;
  allocatedBlocks: number;
  gcCollections: number;
  gcCounts: number[];
  tracing: boolean;
  tracedCurrent: number;
  tracedPeak: number;
  tasksStarted: number;
  tasksFinished: number;
  recycling?: { maxTasksPerChild?: number | null; maxMemoryPerChild?: number | null };
  /** How tasks are chosen for tracing: a time budget (default) or one run in K. */
  sampling?: 'budget' | 'every';
  budget?: number | null;
  tracedMs?: number;
  /** With `mallocTrim` configured: RSS returned by malloc_trim(0) after the last full GC, in all, and how many times. */
  mallocTrim?: { last: number; total: number; count: number } | null;
  /** The hooks that marked tasks in this process: celery, rq, flask, django. */
  taskSources?: string[];
}

export interface RunTaskResult {
  durationMs: number;
  retainedBytes?: number;
  rss?: number;
  /** RSS after `malloc_trim(0)` less traced memory and tracemalloc's own: what C code holds. */
  untracedBytes?: number;
  /** RSS that `malloc_trim(0)` returned after the run. */
  trimmedBytes?: number;
  allocatedBlocks?: number;
  error?: { message: string; traceback?: string };
}

export interface TaskStartedEvent {
  name: string;
  id?: string | number;
  t?: number;
}

export interface TaskFinishedEvent extends TaskStartedEvent {
  durationMs?: number;
  sampled?: boolean;
  retainedBytes?: number;
  rss?: number;
  allocatedBlocks?: number;
  heapUsed?: number;
  /** Python: persistence probes of this name read since its last traced run (agents/python/taskmem_agent/persist.py), checked by core/persistence.ts validProbes. */
  persistence?: unknown;
}

/**
 * A full GC that the process ran (or the session ran through the inspector): the retained heap after
 * it and how many tasks of each name had finished by then (cumulative since the process started).
 */
export interface CheckpointEvent {
  t?: number;
  /** Retained memory: the V8 heap without compiled code, plus memory outside it held by JS objects (Buffers, ArrayBuffers). */
  heap: number;
  counts: Record<string, number>;
  /** Where the GC ran: at a measured task's start or end, or in a capture of the session's. */
  phase?: 'start' | 'end' | 'capture';
}

/** What the bootloader's `__taskmemCheckpoint()` returns to a capture (after the session's full GC). */
export interface CheckpointReply {
  /** Bytes of compiled code (code spaces): V8's, not the task's, so left out of retained figures. */
  code: number;
  /** Bytes outside the V8 heap held by Buffers and ArrayBuffers (`process.memoryUsage().arrayBuffers`). */
  outsideHeap: number;
}

/** What the harness's `collect()` and the bootloader's `__taskmemCollect()` return: a full GC, the heap right after it, then the checkpoint. */
export interface CollectReply {
  /** V8's used heap size read right after the GC, before anything allocates (what Runtime.getHeapUsage reports). */
  usedHeap: number;
  /** The bootloader's checkpoint reply; absent when the bootloader did not install one. */
  checkpoint?: CheckpointReply;
}

export interface ExtraCommands {
  'NodeWorker.enable': { paramsType: [{ waitForDebuggerOnStart: boolean }]; returnType: Record<string, never> };
  'NodeWorker.disable': { paramsType: []; returnType: Record<string, never> };
  'NodeWorker.sendMessageToWorker': { paramsType: [{ message: string; sessionId: string }]; returnType: Record<string, never> };
  'NodeWorker.detach': { paramsType: [{ sessionId: string }]; returnType: Record<string, never> };
  'Taskmem.getStats': { paramsType: []; returnType: PythonStats };
  'Taskmem.configure': {
    paramsType: [{ sampleEvery?: number; budget?: number; nframe?: number; gcPerTask?: boolean; mallocTrim?: boolean }];
    returnType: Record<string, never>;
  };
  'Taskmem.loadHarness': { paramsType: [{ file: string; exportName: string; args: unknown[] }]; returnType: { ok: boolean } };
  'Taskmem.runTask': { paramsType: [{ index: number; measure: boolean }]; returnType: RunTaskResult };
  'Taskmem.exit': { paramsType: []; returnType: Record<string, never> };
  /** The agent's profile with how many tasks it stands for (`HeapProfiler.getSamplingProfile` has the profile alone). */
  'Taskmem.getSamplingProfile': {
    paramsType: [];
    returnType: { profile: RawSamplingProfile; sampledTasks?: number; totalTasks?: number };
  };
}

export interface ExtraEvents {
  'NodeWorker.attachedToWorker': [{ sessionId: string; workerInfo: WorkerInfo; waitingForDebugger: boolean }];
  'NodeWorker.detachedFromWorker': [{ sessionId: string }];
  'NodeWorker.receivedMessageFromWorker': [{ sessionId: string; message: string }];
  'Taskmem.taskStarted': [TaskStartedEvent];
  'Taskmem.taskFinished': [TaskFinishedEvent];
  'Taskmem.gc': [{ generation: number; collected?: number; durationMs?: number }];
  /** Tasks that ended unmeasured, per name, since the previous event (batched by the bootloader). */
  'Taskmem.taskCounts': [{ counts: Record<string, number> }];
  'Taskmem.checkpoint': [CheckpointEvent];
  /** Where tasks come from (marks, http, bullmq, …): sent once per source, with its first task. */
  'Taskmem.taskSource': [{ source: string }];
  /** The named functions that handled a task name (an HTTP route's handlers), sent once per name. */
  'Taskmem.taskFunctions': [{ name: string; functions: string[] }];
}

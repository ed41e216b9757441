/**
 * Task marks inside a profiled Node process: loaded by the bootloader at start, or injected into a
 * process the session attached to (attachMarks.ts). Keep it dependency-free: it runs in users' processes.
 */
import * as dc from 'node:diagnostics_channel';
import * as v8 from 'node:v8';
import type { CheckpointReply, CollectReply } from '../cdp/extraProtocol';
import { requestTaskName, routeHandlers, type RequestLike } from './httpTasks';
import { hookBullmq } from './jobTasks';
import { compiledCodeBytes, exposeFullGc, isCompiledCodeSpace, settledReading } from './heapSpaces';

declare const globalThis: { __taskmemEmit?: (payload: string) => void; __taskmemCheckpoint?: () => CheckpointReply };

/** The function captures call for a checkpoint and the size of compiled code. */
const CHECKPOINT_GLOBAL = '__taskmemCheckpoint';
/** The function captures call for a full GC of ours and the reading after it (with the checkpoint). */
const COLLECT_GLOBAL = '__taskmemCollect';
/** The tasks finished so far, read with each heap snapshot (src/runtimes/node/heapSnapshot.ts). */
const FINISHED_GLOBAL = '__taskmemTasksFinished';

function emit(message: object): void {
  // The session adds this binding on attach; before that (or unprofiled) marks are dropped.
  const binding = globalThis.__taskmemEmit;
  if (typeof binding === 'function') binding(JSON.stringify(message));
}

/**
 * Task marks. Every full GC the bootloader runs is a checkpoint: the retained heap after it and how
 * many tasks of each name have finished by then. Over a worker's life those checkpoints carry the
 * growth per task of each name (a regression on the counts), however noisy one task's own figure.
 * A sampled task is also measured between two full GCs, one at its start and one at its end, as
 * supporting evidence. Tasks are sampled while the GC time stays within `gcBudget` of the wall time
 * (plus a small start-up allowance). A task is also measured at geometrically spaced task counts
 * (each 1.25 times the last: about 45 for 40,000 tasks), so a burst that ends in a second still has
 * its trend and measured runs of each name, and a worker that runs for hours pays only a
 * logarithmic number of extra GCs.
 * No checkpoint at exit: by then a module's data may already be unreachable (its loop finished).
 */
const START_ALLOWANCE_MS = 20;
/** Fastify 5 publishes each route handler's start here, with its route (fastify.dev: Diagnostics Channel). */
const FASTIFY_HANDLER = 'tracing:fastify.request.handler:start';
const CHECKPOINT_RATIO = 1.25;

/** Where tasks come from besides the program's own marks; each can be turned off (--no-auto-tasks). */
export interface AutoTasks {
  /** HTTP requests (Node's http diagnostics channels; Express and Fastify routes). */
  requests: boolean;
  /** BullMQ jobs (a hook on its Worker). */
  jobs: boolean;
}

/** What the report says tasks were: sent once per source, the first time one of its tasks ends. */
export type TaskSource = 'marks' | 'http' | 'bullmq';

/** Installs the task marks in this process; returns what removes them again (attach: when the session lets go). */
export function installTaskMarks(gcBudget: number, auto: AutoTasks): () => void {
  let collect: (() => void) | undefined;
  if (gcBudget > 0) {
    // Expose gc without touching the command line's flags.
    collect = exposeFullGc();
  }
  // What a task can keep: the V8 heap without compiled code, plus the memory outside the heap that
  // Buffers and ArrayBuffers hold (a 64 KiB Buffer is a 100-byte object on the heap). Node's own
  // count of backing stores is exact right after our full GC (exposeFullGc); V8's external_memory lags one GC behind.
  const outsideHeap = (): number => process.memoryUsage().arrayBuffers;
  const retainedHeap = (): number => {
    let heap = outsideHeap();
    for (const space of v8.getHeapSpaceStatistics()) if (!isCompiledCodeSpace(space.space_name)) heap += space.space_used_size;
    return heap;
  };
  const heapAfterGc = (): { heap: number; ms: number } => {
    const started = performance.now();
    collect?.();
    return { heap: retainedHeap(), ms: performance.now() - started };
  };
  /** Tasks finished per name since the process started, measured or not. */
  const finished = new Map<string, number>();
  const checkpoint = (heap: number, phase: 'start' | 'end' | 'capture'): void => {
    emit({ method: 'Taskmem.checkpoint', params: { t: Date.now(), heap, phase, counts: Object.fromEntries(finished) } });
  };
  // A capture without our GC (at exit, or with the GC budget at 0) runs the inspector's GC, then
  // asks for a checkpoint and for the size of compiled code, which the session takes out of its own
  // (exact) heap figure: JIT code is V8's, not the task's, and it grows for hundreds of runs as V8
  // optimizes.
  const captureCheckpoint = (code: number): CheckpointReply => {
    if (finished.size) checkpoint(retainedHeap(), 'capture');
    return { code, outsideHeap: outsideHeap() };
  };
  Object.defineProperty(globalThis, CHECKPOINT_GLOBAL, { value: () => captureCheckpoint(compiledCodeBytes()), enumerable: false, configurable: true });
  // A capture with our GC: the inspector's is a low-memory notification, several full GCs that also
  // drop what V8 keeps to run code fast (the program ran cold after each), and it compacts: its
  // level read 170-210 KiB off now and then, back at the next checkpoint.
  if (collect) {
    const gc = collect;
    const collectNow = (): CollectReply => {
      const { usedHeap, code } = settledReading(gc);
      return { usedHeap, checkpoint: captureCheckpoint(code) };
    };
    Object.defineProperty(globalThis, COLLECT_GLOBAL, { value: collectNow, enumerable: false, configurable: true });
  }
  const firstTaskAt = performance.now();
  let totalFinished = 0;
  Object.defineProperty(globalThis, FINISHED_GLOBAL, { value: () => totalFinished, enumerable: false, configurable: true });
  let nextCheckpointAt = 0;
  let gcSpentMs = 0;
  let lastPairMs = 0;
  // Per task id (or name when there is none): the heap after the GC at its start.
  const open = new Map<unknown, number>();
  const sourcesSeen = new Set<TaskSource>();
  // A request's name is worked out at its start only when it is measured: naming each request at its
  // start and end (path splitting, id patterns) took ~3% of a busy server's CPU (40,000 requests:
  // collapsePath 157 ms and onRequestStart 128 ms of 9.8 s).
  const onTask = (phase: unknown, taskName: string | (() => string), id: string | number | object | undefined, source: TaskSource): void => {
    const name = (): string => (typeof taskName === 'string' ? taskName : taskName());
    const key = id ?? name();
    // A request object is a key here, never a message: only the program's own ids travel.
    const wireId = typeof id === 'object' ? undefined : id;
    const t = Date.now();
    if (phase === 'start') {
      const scheduled = totalFinished >= nextCheckpointAt;
      const due =
        collect !== undefined && open.size === 0 && (scheduled || gcSpentMs + lastPairMs <= gcBudget * (performance.now() - firstTaskAt) + START_ALLOWANCE_MS);
      if (due) {
        if (scheduled) nextCheckpointAt = Math.ceil(Math.max(totalFinished, 1) * CHECKPOINT_RATIO);
        emit({ method: 'Taskmem.taskStarted', params: { name: name(), id: wireId, t } });
        const before = heapAfterGc();
        gcSpentMs += before.ms;
        open.set(key, before.heap);
        checkpoint(before.heap, 'start');
      }
    } else if (phase === 'end') {
      if (!sourcesSeen.has(source)) {
        sourcesSeen.add(source);
        emit({ method: 'Taskmem.taskSource', params: { source } });
      }
      const ended = name();
      finished.set(ended, (finished.get(ended) ?? 0) + 1);
      totalFinished++;
      const startHeap = open.get(key);
      if (startHeap === undefined) {
        countUnmeasured(ended);
        return;
      }
      open.delete(key);
      const after = heapAfterGc();
      gcSpentMs += after.ms;
      lastPairMs = 2 * after.ms;
      checkpoint(after.heap, 'end');
      emit({
        method: 'Taskmem.taskFinished',
        params: { name: ended, id: wireId, t, sampled: true, retainedBytes: after.heap - startHeap, rss: process.memoryUsage.rss() },
      });
    }
  };
  // The program's own marks win: once it publishes one, requests are no longer marked for it.
  let ownMarks = false;
  const onOwnMark = (raw: unknown): void => {
    if (!ownMarks) {
      ownMarks = true;
      // A request measured as the program's marks began would hold the next measurement off forever.
      for (const key of open.keys()) if (typeof key === 'object') open.delete(key);
    }
    const message = (raw ?? {}) as { phase?: unknown; name?: unknown; id?: unknown };
    const name = typeof message.name === 'string' ? message.name : 'task';
    const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : undefined;
    onTask(message.phase, name, id, 'marks');
  };
  dc.subscribe('taskmem:task', onOwnMark);
  // HTTP servers: every request is a task, from its start to its response's end (src/launch/httpTasks.ts).
  // Requests overlap: a measured one's figure may hold what others allocated meanwhile; the verdict
  // rests on the trend of the checkpoints against the requests finished, which overlap does not bias.
  const started = new WeakSet<object>();
  const onRequestStart = (raw: unknown): void => {
    const { request, response } = (raw ?? {}) as { request?: RequestLike & object; response?: { once?: unknown } };
    if (ownMarks || !request) return;
    started.add(request);
    onTask('start', () => requestTaskName(request), request, 'http');
    // A request whose client went away never finishes: it must not hold the next measurement off.
    if (open.has(request) && typeof response?.once === 'function')
      (response.once as (event: string, listener: () => void) => void).call(response, 'close', () => open.delete(request));
  };
  const onResponseFinish = (raw: unknown): void => {
    const request = (raw as { request?: RequestLike & object } | undefined)?.request;
    if (ownMarks || !request || !started.has(request)) return;
    started.delete(request);
    // By now the framework has routed the request: it counts under its route.
    const name = requestTaskName(request, fastifyRoutes.get(request)?.url);
    tellHandlers(name, request);
    onTask('end', name, request, 'http');
  };
  // A route's named handlers, once per route: the session matches them to the growing sites' stacks.
  const handlersTold = new Set<string>();
  const tellHandlers = (name: string, request: RequestLike & object): void => {
    if (handlersTold.has(name) || handlersTold.size >= 1000) return;
    handlersTold.add(name);
    const functions = routeHandlers(request, fastifyRoutes.get(request)?.handler);
    if (functions.length) emit({ method: 'Taskmem.taskFunctions', params: { name, functions } });
  };
  // Fastify keeps its route on its own request object, not on Node's: its handler channel tells it.
  const fastifyRoutes = new WeakMap<object, { url: string; handler: unknown }>();
  const onFastifyHandler = (raw: unknown): void => {
    const store = raw as { request?: { raw?: unknown; routeOptions?: { handler?: unknown } }; route?: { url?: unknown } } | undefined;
    const request = store?.request?.raw;
    const url = store?.route?.url;
    if (typeof request === 'object' && request !== null && typeof url === 'string')
      fastifyRoutes.set(request, { url, handler: store?.request?.routeOptions?.handler });
  };
  if (auto.requests) {
    dc.subscribe('http.server.request.start', onRequestStart);
    dc.subscribe('http.server.response.finish', onResponseFinish);
    dc.subscribe(FASTIFY_HANDLER, onFastifyHandler);
  }
  // BullMQ jobs: the program's own marks win here too.
  const unhookJobs = auto.jobs
    ? hookBullmq((phase, name, job) => {
        if (!ownMarks) onTask(phase, name, job, 'bullmq');
      })
    : undefined;
  // The last counts must not be lost when the worker ends.
  process.on('exit', flushCounts);
  return () => {
    dc.unsubscribe('taskmem:task', onOwnMark);
    if (auto.requests) {
      dc.unsubscribe('http.server.request.start', onRequestStart);
      dc.unsubscribe('http.server.response.finish', onResponseFinish);
      dc.unsubscribe(FASTIFY_HANDLER, onFastifyHandler);
    }
    unhookJobs?.();
    process.off('exit', flushCounts);
    flushCounts();
    delete (globalThis as Record<string, unknown>)[CHECKPOINT_GLOBAL];
    delete (globalThis as Record<string, unknown>)[COLLECT_GLOBAL];
    delete (globalThis as Record<string, unknown>)[FINISHED_GLOBAL];
  };
}

/** Unmeasured tasks are only counted, and the counts sent at most every 100 ms: one event per task would cost a busy worker a few percent. */
const unmeasured = new Map<string, number>();
let countsTimer: NodeJS.Timeout | undefined;
function countUnmeasured(name: string): void {
  unmeasured.set(name, (unmeasured.get(name) ?? 0) + 1);
  if (countsTimer) return;
  countsTimer = setTimeout(flushCounts, 100);
  countsTimer.unref();
}
function flushCounts(): void {
  countsTimer = undefined;
  if (!unmeasured.size) return;
  emit({ method: 'Taskmem.taskCounts', params: { counts: Object.fromEntries(unmeasured) } });
  unmeasured.clear();
}

/**
 * Loaded with `--require` (through NODE_OPTIONS) into every Node process below a launch. It opens
 * the inspector on 127.0.0.1 with a random port, registers with the profiling session over its
 * private directory (docs/PROTOCOL.md) and waits for the session to attach. Package-manager CLIs
 * are skipped: they only spawn the real program, which gets its own bootloader.
 *
 * Keep this file small and dependency-free: it runs before the user's code in every process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as dc from 'node:diagnostics_channel';
import * as inspector from 'node:inspector';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';
import type { CheckpointReply } from '../cdp/extraProtocol';
import { requestTaskName, type RequestLike } from './httpTasks';

declare const globalThis: { __taskmemEmit?: (payload: string) => void; __taskmemCheckpoint?: () => CheckpointReply };

const PACKAGE_MANAGER = /[\\/](?:npm|npx|yarn|yarnpkg|pnpm|pnpx|corepack)(?:-cli)?(?:\.c?js)?$|[\\/]node_modules[\\/](?:npm|yarn|pnpm|corepack)[\\/]/;

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
const CHECKPOINT_RATIO = 1.25;

function installTaskMarks(gcBudget: number, markRequests: boolean): void {
  let collect: (() => void) | undefined;
  if (gcBudget > 0) {
    // Expose gc without touching the command line's flags.
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  // Compiled code is V8's, not the task's: optimizing and deoptimizing a hot function moves
  // 200+ KiB in and out of code space between two runs.
  const counted = (name: string) => name !== 'code_space' && name !== 'code_large_object_space';
  // What a task can keep: the V8 heap without compiled code, plus the memory outside the heap that
  // Buffers and ArrayBuffers hold (a 64 KiB Buffer is a 100-byte object on the heap). Node's own
  // count of backing stores is exact right after a full GC; V8's external_memory lags one GC behind.
  const outsideHeap = (): number => process.memoryUsage().arrayBuffers;
  const retainedHeap = (): number => {
    let heap = outsideHeap();
    for (const space of v8.getHeapSpaceStatistics()) if (counted(space.space_name)) heap += space.space_used_size;
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
  // The session's own captures run a full GC through the inspector, then ask for a checkpoint and
  // for the size of compiled code, which the session takes out of its own (exact) heap figure: JIT
  // code is V8's, not the task's, and it grows for hundreds of runs as V8 optimizes.
  Object.defineProperty(globalThis, '__taskmemCheckpoint', {
    value: (): CheckpointReply => {
      let code = 0;
      for (const space of v8.getHeapSpaceStatistics()) if (!counted(space.space_name)) code += space.space_used_size;
      if (finished.size) checkpoint(retainedHeap(), 'capture');
      return { code, outsideHeap: outsideHeap() };
    },
    enumerable: false,
    configurable: true,
  });
  const firstTaskAt = performance.now();
  let totalFinished = 0;
  let nextCheckpointAt = 0;
  let gcSpentMs = 0;
  let lastPairMs = 0;
  // Per task id (or name when there is none): the heap after the GC at its start.
  const open = new Map<unknown, number>();
  const onTask = (phase: unknown, name: string, id: string | number | object | undefined): void => {
    const key = id ?? name;
    // A request object is a key here, never a message: only the program's own ids travel.
    const wireId = typeof id === 'object' ? undefined : id;
    const t = Date.now();
    if (phase === 'start') {
      const scheduled = totalFinished >= nextCheckpointAt;
      const due =
        collect !== undefined && open.size === 0 && (scheduled || gcSpentMs + lastPairMs <= gcBudget * (performance.now() - firstTaskAt) + START_ALLOWANCE_MS);
      if (due) {
        if (scheduled) nextCheckpointAt = Math.ceil(Math.max(totalFinished, 1) * CHECKPOINT_RATIO);
        emit({ method: 'Taskmem.taskStarted', params: { name, id: wireId, t } });
        const before = heapAfterGc();
        gcSpentMs += before.ms;
        open.set(key, before.heap);
        checkpoint(before.heap, 'start');
      }
    } else if (phase === 'end') {
      finished.set(name, (finished.get(name) ?? 0) + 1);
      totalFinished++;
      const startHeap = open.get(key);
      if (startHeap === undefined) {
        countUnmeasured(name);
        return;
      }
      open.delete(key);
      const after = heapAfterGc();
      gcSpentMs += after.ms;
      lastPairMs = 2 * after.ms;
      checkpoint(after.heap, 'end');
      emit({
        method: 'Taskmem.taskFinished',
        params: { name, id: wireId, t, sampled: true, retainedBytes: after.heap - startHeap, rss: process.memoryUsage.rss() },
      });
    }
  };
  // The program's own marks win: once it publishes one, requests are no longer marked for it.
  let ownMarks = false;
  dc.subscribe('taskmem:task', (raw) => {
    if (!ownMarks) {
      ownMarks = true;
      // A request measured as the program's marks began would hold the next measurement off forever.
      for (const key of open.keys()) if (typeof key === 'object') open.delete(key);
    }
    const message = (raw ?? {}) as { phase?: unknown; name?: unknown; id?: unknown };
    const name = typeof message.name === 'string' ? message.name : 'task';
    const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : undefined;
    onTask(message.phase, name, id);
  });
  // HTTP servers: every request is a task, from its start to its response's end (src/launch/httpTasks.ts).
  // Requests overlap: a measured one's figure may hold what others allocated meanwhile; the verdict
  // rests on the trend of the checkpoints against the requests finished, which overlap does not bias.
  const started = new WeakSet<object>();
  if (markRequests)
    dc.subscribe('http.server.request.start', (raw) => {
      const { request, response } = (raw ?? {}) as { request?: RequestLike & object; response?: { once?: unknown } };
      if (ownMarks || !request) return;
      started.add(request);
      onTask('start', requestTaskName(request), request);
      // A request whose client went away never finishes: it must not hold the next measurement off.
      if (open.has(request) && typeof response?.once === 'function')
        (response.once as (event: string, listener: () => void) => void).call(response, 'close', () => open.delete(request));
    });
  if (markRequests)
    dc.subscribe('http.server.response.finish', (raw) => {
      const request = (raw as { request?: RequestLike & object } | undefined)?.request;
      if (ownMarks || !request || !started.has(request)) return;
      started.delete(request);
      // By now the framework has routed the request: it counts under its route.
      onTask('end', requestTaskName(request), request);
    });
  // The last counts must not be lost when the worker ends.
  process.on('exit', flushCounts);
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

function register(dir: string, token: string, url: string): void {
  const record = {
    token,
    pid: process.pid,
    ppid: process.ppid,
    runtime: 'node',
    argv: process.argv,
    cwd: process.cwd(),
    title: process.title,
    url,
    isHarness: process.env.TASKMEM_HARNESS !== undefined,
  };
  const name = `${process.pid}-${crypto.randomBytes(4).toString('hex')}.json`;
  const temporary = path.join(dir, `${name}.tmp`);
  // Synchronous on purpose: the process blocks in waitForDebugger right after.
  fs.writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
  fs.renameSync(temporary, path.join(dir, name));
}

function main(): void {
  const dir = process.env.TASKMEM_IPC_DIR;
  const token = process.env.TASKMEM_TOKEN;
  if (!dir || !token) return;
  // Worker threads are reached through their parent's NodeWorker domain.
  if (!isMainThread) return;
  if (PACKAGE_MANAGER.test(process.argv[1] ?? '')) return;

  if (process.env.TASKMEM_PRECISE === '1') {
    // Refused in NODE_OPTIONS, accepted here: allocations are then credited to the function that made them.
    v8.setFlagsFromString('--no-turbo-inlining');
  }
  // Bytecode flushing frees old functions' bytecode during the GCs we force, which shows up as
  // retained heap going down by 100+ KiB at random runs; measurements must not see it.
  v8.setFlagsFromString('--no-flush-bytecode');
  // Buffers freed by a full GC are released on a background thread by default, so right after the GC
  // Node's count of ArrayBuffer memory still held up to ~700 KiB of dead Buffers at random
  // checkpoints. Swept in the GC itself, the count is exact after it.
  v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  if (!inspector.url()) inspector.open(0, '127.0.0.1', false);
  const url = inspector.url();
  if (!url) return;

  // The harness calls one function: requests it serves are not the task (it measures each run itself).
  installTaskMarks(Number(process.env.TASKMEM_GC_BUDGET ?? '0.02'), process.env.TASKMEM_HARNESS === undefined);
  register(dir, token, url);
  inspector.waitForDebugger();
}

try {
  main();
} catch (error) {
  // Never break the user's program: run it unprofiled and say why.
  process.stderr.write(`taskmem: profiling disabled in pid ${process.pid}: ${(error as Error).message}\n`);
}

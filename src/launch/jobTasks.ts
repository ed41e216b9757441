/**
 * BullMQ jobs as tasks without code changes: a hook on `Worker.prototype.callProcessJob`, the one
 * method every in-process job goes through (BullMQ 5 and 6), found when bullmq's worker module is
 * compiled (or, when the session attaches later, in the module cache). Tasks are named
 * `queue:job name`. Sandboxed processors (a file path: the job runs in a child process or worker
 * thread) are left alone: the parent's heap is not where such a job keeps memory.
 * Keep it dependency-free: it runs in users' processes.
 */
import Module from 'node:module';

/** What the hook reports: a job started or ended, keyed by its Job object. */
export type JobListener = (phase: 'start' | 'end', name: string, job: object) => void;

interface WorkerLike {
  name?: unknown;
  childPool?: unknown;
}
type ProcessJob = (this: WorkerLike, job: { name?: unknown }, ...rest: unknown[]) => unknown;
interface WorkerClass {
  prototype: { callProcessJob?: ProcessJob };
}
interface CompilingModule {
  exports: unknown;
  _compile: (this: CompilingModule, content: string, filename: string) => unknown;
}

const BULLMQ_FILE = /[\\/]node_modules[\\/]bullmq[\\/].*\.[cm]?js$/;
const MAX_NAME = 120;

/** `emails:send`: the queue, then the job's name. */
export function jobTaskName(queue: unknown, job: unknown): string {
  const jobName = typeof (job as { name?: unknown } | undefined)?.name === 'string' ? (job as { name: string }).name : 'job';
  const name = `${typeof queue === 'string' ? queue : 'queue'}:${jobName}`;
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name;
}

function workerClassOf(exports: unknown): WorkerClass | undefined {
  try {
    const worker = (exports as { Worker?: unknown } | undefined)?.Worker;
    if (typeof worker !== 'function') return undefined;
    const candidate = worker as unknown as WorkerClass;
    return typeof candidate.prototype?.callProcessJob === 'function' ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/** Hooks BullMQ's Worker, now if it is loaded and when it is; returns what takes the hooks out again. */
export function hookBullmq(listener: JobListener): () => void {
  let active = true;
  const patched: Array<{ proto: WorkerClass['prototype']; original: ProcessJob; wrapper: ProcessJob }> = [];
  const patch = (worker: WorkerClass): void => {
    const proto = worker.prototype;
    const original = proto.callProcessJob as ProcessJob;
    if (patched.some((entry) => entry.proto === proto)) return;
    const wrapper: ProcessJob = function (this: WorkerLike, job, ...rest) {
      // Sandboxed: the job runs in another process or thread.
      if (!active || this.childPool || typeof job !== 'object' || job === null) return original.call(this, job, ...rest);
      const name = jobTaskName(this.name, job);
      listener('start', name, job);
      let result: unknown;
      try {
        result = original.call(this, job, ...rest);
      } catch (error) {
        listener('end', name, job);
        throw error;
      }
      const end = () => listener('end', name, job);
      // The caller awaits the result: a rejection passes on unchanged.
      return Promise.resolve(result).finally(end);
    };
    proto.callProcessJob = wrapper;
    patched.push({ proto, original, wrapper });
  };
  const internals = Module as unknown as { _cache?: Record<string, { exports?: unknown } | undefined>; prototype: CompilingModule };
  const patchCached = (): void => {
    for (const [file, cached] of Object.entries(internals._cache ?? {})) {
      const worker = active && BULLMQ_FILE.test(file) ? workerClassOf(cached?.exports) : undefined;
      if (worker) patch(worker);
    }
  };
  patchCached();
  // A session that attaches while the program is still loading bullmq runs this in the middle of
  // that load (the inspector interrupts running JavaScript): the worker module is already cached
  // with its exports not filled in yet, and past the compile hook below. Loading is synchronous, so
  // it is complete by the next turn of the event loop: look again then (an attached BullMQ worker
  // under CPU load saw no job as a task, 1 session in 2).
  setImmediate(patchCached);
  const proto = internals.prototype;
  const compile = proto._compile;
  const hooked = function (this: CompilingModule, content: string, filename: string): unknown {
    const result = compile.call(this, content, filename);
    if (active && BULLMQ_FILE.test(filename)) {
      const worker = workerClassOf(this.exports);
      if (worker) patch(worker);
    }
    return result;
  };
  proto._compile = hooked;
  return () => {
    active = false;
    // Put the originals back unless someone wrapped them after us (then ours stays, inert).
    if (proto._compile === hooked) proto._compile = compile;
    for (const entry of patched) if (entry.proto.callProcessJob === entry.wrapper) entry.proto.callProcessJob = entry.original;
  };
}

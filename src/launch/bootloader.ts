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

declare const globalThis: { __taskmemEmit?: (payload: string) => void };

const PACKAGE_MANAGER = /[\\/](?:npm|npx|yarn|yarnpkg|pnpm|pnpx|corepack)(?:-cli)?(?:\.c?js)?$|[\\/]node_modules[\\/](?:npm|yarn|pnpm|corepack)[\\/]/;

function emit(message: object): void {
  // The session adds this binding on attach; before that (or unprofiled) marks are dropped.
  const binding = globalThis.__taskmemEmit;
  if (typeof binding === 'function') binding(JSON.stringify(message));
}

function installTaskMarks(measureEvery: number): void {
  const dc: typeof import('node:diagnostics_channel') = require('node:diagnostics_channel');
  let collect: (() => void) | undefined;
  if (measureEvery > 0) {
    // A full GC at a task's end tells what the task kept; expose gc without touching the CLI flags.
    require('node:v8').setFlagsFromString('--expose-gc');
    collect = require('node:vm').runInNewContext('gc') as () => void;
  }
  let finished = 0;
  dc.subscribe('taskmem:task', (raw) => {
    const message = (raw ?? {}) as { phase?: unknown; name?: unknown; id?: unknown };
    const name = typeof message.name === 'string' ? message.name : 'task';
    const id = typeof message.id === 'string' || typeof message.id === 'number' ? message.id : undefined;
    const t = Date.now();
    if (message.phase === 'start') {
      emit({ method: 'Taskmem.taskStarted', params: { name, id, t } });
    } else if (message.phase === 'end') {
      finished++;
      const sampled = collect !== undefined && finished % measureEvery === 0;
      if (sampled) collect?.();
      const usage = process.memoryUsage();
      emit({
        method: 'Taskmem.taskFinished',
        params: { name, id, t, sampled, heapUsed: usage.heapUsed, retainedBytes: sampled ? usage.heapUsed : undefined, rss: usage.rss },
      });
    }
  });
}

function installGcEvents(): void {
  const { PerformanceObserver } = require('node:perf_hooks') as typeof import('node:perf_hooks');
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as unknown as { detail?: { kind?: number } }).detail;
      emit({ method: 'Taskmem.gc', params: { generation: detail?.kind ?? 0, durationMs: entry.duration, t: Date.now() } });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  // Never keep the process alive for this observer.
  (observer as unknown as { unref?: () => void }).unref?.();
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
  const { isMainThread } = require('node:worker_threads') as typeof import('node:worker_threads');
  // Worker threads are reached through their parent's NodeWorker domain.
  if (!isMainThread) return;
  if (PACKAGE_MANAGER.test(process.argv[1] ?? '')) return;

  if (process.env.TASKMEM_PRECISE === '1') {
    // Refused in NODE_OPTIONS, accepted here: allocations are then credited to the function that made them.
    require('node:v8').setFlagsFromString('--no-turbo-inlining');
  }
  // Bytecode flushing frees old functions' bytecode during the GCs we force, which shows up as
  // retained heap going down by 100+ KiB at random runs; measurements must not see it.
  require('node:v8').setFlagsFromString('--no-flush-bytecode');
  const inspector = require('node:inspector') as typeof import('node:inspector');
  if (!inspector.url()) inspector.open(0, '127.0.0.1', false);
  const url = inspector.url();
  if (!url) return;

  installTaskMarks(Number(process.env.TASKMEM_MEASURE_EVERY ?? '1'));
  if (process.env.TASKMEM_GC_EVENTS === '1') installGcEvents();
  register(dir, token, url);
  inspector.waitForDebugger();
}

try {
  main();
} catch (error) {
  // Never break the user's program: run it unprofiled and say why.
  process.stderr.write(`taskmem: profiling disabled in pid ${process.pid}: ${(error as Error).message}\n`);
}

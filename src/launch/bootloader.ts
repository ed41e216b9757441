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
import * as inspector from 'node:inspector';
import * as v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { installTaskMarks } from './taskMarks';

const PACKAGE_MANAGER = /[\\/](?:npm|npx|yarn|yarnpkg|pnpm|pnpx|corepack)(?:-cli)?(?:\.c?js)?$|[\\/]node_modules[\\/](?:npm|yarn|pnpm|corepack)[\\/]/;

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
  const auto = process.env.TASKMEM_HARNESS === undefined && process.env.TASKMEM_AUTO_TASKS !== '0';
  installTaskMarks(Number(process.env.TASKMEM_GC_BUDGET ?? '0.02'), { requests: auto, jobs: auto });
  register(dir, token, url);
  inspector.waitForDebugger();
}

try {
  main();
} catch (error) {
  // Never break the user's program: run it unprofiled and say why.
  process.stderr.write(`taskmem: profiling disabled in pid ${process.pid}: ${(error as Error).message}\n`);
}

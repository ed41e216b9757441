/**
 * `taskmem ab`: runs the same worker as it is (A) and with one change (B), several rounds each,
 * interleaved, and compares RSS and throughput with their spread (core/abCompare.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { abSchedule, compareAb, type AbComparison, type AbRun } from '../core/abCompare';
import { formatBytes, formatDuration } from '../core/format';
import type { SessionOptions } from '../session/api';
import { killTree, spawnTree, treeResidentBytes } from '../launch/processes';
import { parseArgs, UsageError } from './args';

export const AB_USAGE = `taskmem ab --vary <change> [--rounds n] [--json file] [worker options] -- <command...>

Runs the worker as it is (A) and with one change (B), n rounds each (default 3), interleaved
(A B, B A, …), without the profiler (it allocates itself), and compares the process tree's RSS
and wall time with their spread. Changes:
  arena-max=<n>       MALLOC_ARENA_MAX=<n> (glibc arenas)
  jemalloc            LD_PRELOAD of Debian's libjemalloc2
  pymalloc=malloc     PYTHONMALLOC=malloc (Python objects straight from malloc)
  env:NAME=VALUE      any environment variable
  arg:<argument>      one more argument to the command, e.g. arg:--max-tasks-per-child=100
Each run needs an end: --duration <seconds>, or a worker that does a fixed amount of work and exits.`;

export interface AbChange {
  label: string;
  env: Record<string, string>;
  extraArgs: string[];
}

export interface AbPlan {
  session: SessionOptions;
  change: AbChange;
  rounds: number;
  json?: string;
}

const JEMALLOC_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
];

export function parseChange(text: string, exists: (file: string) => boolean = fs.existsSync): AbChange {
  const arena = /^arena-max=(\d+)$/.exec(text);
  if (arena) return { label: `MALLOC_ARENA_MAX=${arena[1]}`, env: { MALLOC_ARENA_MAX: arena[1] }, extraArgs: [] };
  if (text === 'jemalloc') {
    const library = JEMALLOC_PATHS.find(exists);
    if (!library) throw new UsageError('jemalloc is not installed: apt-get install libjemalloc2 (or use env:LD_PRELOAD=/path/to/libjemalloc.so.2)');
    return { label: 'jemalloc (LD_PRELOAD)', env: { LD_PRELOAD: library }, extraArgs: [] };
  }
  if (text === 'pymalloc=malloc') return { label: 'PYTHONMALLOC=malloc', env: { PYTHONMALLOC: 'malloc' }, extraArgs: [] };
  const env = /^env:([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(text);
  if (env) return { label: `${env[1]}=${env[2]}`, env: { [env[1]]: env[2] }, extraArgs: [] };
  if (text.startsWith('arg:') && text.length > 4) return { label: `with ${text.slice(4)}`, env: {}, extraArgs: [text.slice(4)] };
  throw new UsageError(`--vary '${text}' is not a change: use arena-max=<n>, jemalloc, pymalloc=malloc, env:NAME=VALUE or arg:<argument>`);
}

export function parseAbArgs(argv: readonly string[], cwd: string): AbPlan {
  let change: AbChange | undefined;
  let rounds = 3;
  let json: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const next = (): string => {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      return value;
    };
    if (arg === '--vary') change = parseChange(next());
    else if (arg === '--rounds') {
      rounds = Number(next());
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new UsageError('--rounds takes a whole number from 1 to 50');
    } else if (arg === '--json') json = path.resolve(cwd, next());
    else rest.push(arg);
  }
  if (!change) throw new UsageError('taskmem ab needs --vary <change>, e.g. --vary arena-max=2');
  const parsed = parseArgs(['run', ...rest], cwd, false);
  if (parsed.kind !== 'profile') throw new UsageError('taskmem ab needs a command after --');
  return { session: parsed.session, change, rounds, ...(json ? { json } : {}) };
}

const SAMPLE_MS = 100;

/**
 * One run, without the profiler: an allocator experiment must not be measured through tracemalloc
 * or the inspector, which allocate themselves. The process tree's RSS is sampled from /proc.
 */
async function measureRun(
  session: SessionOptions,
  env: Record<string, string>,
  extraArgs: readonly string[],
): Promise<{ finalRssBytes: number; peakRssBytes: number; durationMs: number; endReason: string; tail: string }> {
  const started = Date.now();
  const child = spawnTree({
    command: [...(session.command ?? []), ...extraArgs],
    shell: session.shell ?? false,
    cwd: session.cwd,
    env: { ...process.env, ...session.env, ...env },
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-2000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let endReason = '';
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      endReason ||= signal ? `the command was killed by ${signal}` : `the command exited with code ${code}`;
      resolve();
    });
    child.once('error', (error) => {
      endReason = `the command could not start: ${error.message}`;
      resolve();
    });
  });
  let running = true;
  void exited.then(() => (running = false));
  let final = 0;
  let peak = 0;
  const deadline = session.durationSec !== undefined ? started + session.durationSec * 1000 : Infinity;
  while (running) {
    const total = child.pid !== undefined ? treeResidentBytes(child.pid) : 0;
    if (total > 0) final = total;
    peak = Math.max(peak, total);
    if (Date.now() >= deadline) {
      endReason = `${session.durationSec} s elapsed`;
      await killTree(child.pid);
      break;
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, SAMPLE_MS))]);
  }
  await exited;
  return { finalRssBytes: final, peakRssBytes: peak, durationMs: Date.now() - started, endReason, tail };
}

export async function runAb(plan: AbPlan, log: (line: string) => void): Promise<{ runs: AbRun[]; comparison: AbComparison | undefined }> {
  if (!plan.session.command?.length) throw new UsageError('taskmem ab needs a command after --');
  const runs: AbRun[] = [];
  const schedule = abSchedule(plan.rounds);
  for (const [index, { variant, round }] of schedule.entries()) {
    const label = variant === 'A' ? 'as it is' : plan.change.label;
    log(`taskmem ab: run ${index + 1}/${schedule.length}: round ${round}, ${variant} (${label})…`);
    const measured = variant === 'A' ? await measureRun(plan.session, {}, []) : await measureRun(plan.session, plan.change.env, plan.change.extraArgs);
    if (measured.peakRssBytes <= 0) throw new Error(`run ${index + 1} (${variant}) measured nothing: ${measured.endReason}\n${measured.tail}`);
    const run: AbRun = {
      variant,
      round,
      finalRssBytes: measured.finalRssBytes,
      peakRssBytes: measured.peakRssBytes,
      tasks: 0,
      durationMs: measured.durationMs,
      endReason: measured.endReason,
    };
    log(`  ${run.endReason}; RSS at the end ${formatBytes(run.finalRssBytes)}, peak ${formatBytes(run.peakRssBytes)}, ${formatDuration(run.durationMs)}`);
    runs.push(run);
  }
  return { runs, comparison: compareAb(runs, { a: 'as it is', b: plan.change.label }) };
}

export function renderAb(comparison: AbComparison): string {
  const row = (name: string, a: string, b: string, ratio: string): string => `  ${name.padEnd(16)}${a.padStart(14)}${b.padStart(14)}${ratio.padStart(9)}`;
  const lines = [
    `A: as it is · B: ${comparison.b.label} · ${comparison.a.runs} runs each, medians`,
    row('', 'A', 'B', 'B/A'),
    row('RSS at the end', formatBytes(comparison.a.finalRss.median), formatBytes(comparison.b.finalRss.median), `${comparison.finalRssRatio.toFixed(2)}×`),
    row('Peak RSS', formatBytes(comparison.a.peakRss.median), formatBytes(comparison.b.peakRss.median), `${comparison.peakRssRatio.toFixed(2)}×`),
  ];
  if (comparison.a.throughput && comparison.b.throughput && comparison.throughputRatio !== undefined) {
    lines.push(
      row(
        'Tasks per second',
        comparison.a.throughput.median.toFixed(1),
        comparison.b.throughput.median.toFixed(1),
        `${comparison.throughputRatio.toFixed(2)}×`,
      ),
    );
  }
  lines.push(
    row('Wall time', formatDuration(comparison.a.duration.median), formatDuration(comparison.b.duration.median), `${comparison.durationRatio.toFixed(2)}×`),
    '',
  );
  lines.push(...comparison.findings.map((finding) => `- ${finding}`));
  return lines.join('\n');
}

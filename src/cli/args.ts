/** Command-line parsing for `taskmem`: small, strict, and every mistake says what to type instead. */
import * as path from 'node:path';
import type { RuntimeKind } from '../core/model';
import type { SessionOptions } from '../session/api';
import { DEFAULTS } from '../session/defaults';

export class UsageError extends Error {}

export interface OutputOptions {
  json?: string;
  heapprofile?: string;
  markdown?: string;
  failOnLeak: boolean;
  quiet: boolean;
  /** Print a failure's whole text (the agent's traceback, internal frames included). */
  verbose: boolean;
  color: boolean;
  maxSites: number;
}

export type ParsedCommand = { kind: 'help'; topic?: string } | { kind: 'version' } | { kind: 'profile'; session: SessionOptions; output: OutputOptions };

export const USAGE = `taskmem: find which task keeps memory, which code allocated it, and whether it is a leak.

Usage:
  taskmem task <file>#<export> [options]   call a function N times under the profiler
  taskmem run [options] -- <command...>    profile a whole worker (node, npm, python, celery, a shell line)
  taskmem attach <ws-url | port> [options] attach to a running Node inspector
  taskmem attach --pid <pid>               open a Node process's inspector (SIGUSR1) and attach
  taskmem ab --vary <change> -- <command>  run a worker as it is and with one change (allocator, limit), side by side

Task options:
  --runs <n>              measured runs (default ${DEFAULTS.runs})
  --warmup <n>            warm-up runs, not measured (default ${DEFAULTS.warmup})
  --args <json array>     arguments passed to every call, e.g. --args '[{"id": 1}]'
  --python <path>         interpreter for .py tasks (default python3)

Worker options:
  --duration <seconds>    stop after this long
  --max-tasks <n>         stop after n tasks finished
  --memory-limit <MiB>    memory one worker child may use, for the recycling advice
                          (default: the cgroup limit, else RAM divided among the children)
  --window <seconds>      without task marks, the length of the windows that stand in for tasks (default 10)
  --shell                 run the command through the shell (one string)
  --sample-every <k>      Python workers: trace one run in k of each task (default: within a 10% time budget)
  --malloc-trim           Python workers: call malloc_trim(0) after the session's full GCs and report how much
                          RSS it returns (allocator high water); off by default, since it changes the process
  --gc-budget <percent>   Node workers: measure tasks (a full GC before and after) while GCs take at most
                          this share of the time (default 1; 100 measures every task)
  --no-auto-tasks         Node: do not make HTTP requests (Express, Fastify routes) and BullMQ jobs tasks;
                          only the program's own taskmem:task marks count (else time windows)

Profiler options:
  --interval <ms>         heap statistics interval (default ${DEFAULTS.statsIntervalMs})
  --sampling-interval <bytes>  heap sampling interval (default 8192 for tasks, 262144 for workers)
  --precise / --no-precise     credit allocations to the exact function (--no-turbo-inlining;
                               default on for tasks; in workers a site may hold inlined callees)

Output:
  --json <file>           write the report as JSON (docs/REPORT-SCHEMA.md)
  --heapprofile <file>    write the retained profile (opens in Chrome DevTools, Memory tab)
  --markdown <file>       write a Markdown summary for a pull request
  --fail-on-leak          exit with code 3 when a leak is found (for CI)
  --top <n>               sites listed (default 10)
  --quiet                 only the verdict line
  --verbose               when something fails, print the whole traceback, internal frames included
  --no-color

Exit codes: 0 done, 1 the task or the profiler failed, 2 bad usage, 3 leak found with --fail-on-leak.`;

function takeValue(argv: string[], index: number, flag: string): string {
  const value = argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
  return value;
}

function positiveInteger(text: string, flag: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1))
    throw new UsageError(`${flag} takes a whole number${allowZero ? '' : ' above 0'}, not '${text}'`);
  return value;
}

export function runtimeFor(file: string): RuntimeKind {
  return file.endsWith('.py') ? 'python' : 'node';
}

export function parseTaskSpec(spec: string, cwd: string): { file: string; exportName: string } {
  const hash = spec.lastIndexOf('#');
  if (hash <= 0 || hash === spec.length - 1) throw new UsageError(`'${spec}' is not <file>#<export>: name the function, e.g. src/jobs.js#handleJob`);
  return { file: path.resolve(cwd, spec.slice(0, hash)), exportName: spec.slice(hash + 1) };
}

export function parseArgs(argv: string[], cwd: string, isTty: boolean): ParsedCommand {
  if (!argv.length || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') return { kind: 'help' };
  if (argv[0] === '--version' || argv[0] === '-v') return { kind: 'version' };
  const [verb, ...rest] = argv;
  if (verb !== 'task' && verb !== 'run' && verb !== 'attach') throw new UsageError(`unknown command '${verb}': use task, run or attach`);
  const output: OutputOptions = { failOnLeak: false, quiet: false, verbose: false, color: isTty && !process.env.NO_COLOR, maxSites: 10 };
  const session: SessionOptions = { mode: verb === 'task' ? 'harness' : verb === 'run' ? 'worker' : 'attach', cwd };
  let runs = DEFAULTS.runs;
  let warmup = DEFAULTS.warmup;
  let args: unknown[] = [];
  const positional: string[] = [];
  let command: string[] | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = () => takeValue(rest, i++, arg);
    switch (arg) {
      case '--':
        command = rest.slice(i + 1);
        i = rest.length;
        break;
      case '--runs':
        runs = positiveInteger(value(), arg);
        break;
      case '--warmup':
        warmup = positiveInteger(value(), arg, true);
        break;
      case '--args': {
        const text = value();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new UsageError(`--args is not valid JSON: ${text}`);
        }
        if (!Array.isArray(parsed)) throw new UsageError(`--args takes a JSON array of arguments, e.g. '[1, "a"]'`);
        args = parsed;
        break;
      }
      case '--python':
        session.pythonPath = value();
        break;
      case '--duration':
        session.durationSec = positiveInteger(value(), arg);
        break;
      case '--max-tasks':
        session.maxTasks = positiveInteger(value(), arg);
        break;
      case '--memory-limit':
        session.memoryLimitBytes = positiveInteger(value(), arg) * 1024 * 1024;
        break;
      case '--window':
        session.windowMs = positiveInteger(value(), arg) * 1000;
        break;
      case '--shell':
        session.shell = true;
        break;
      case '--sample-every':
        session.pythonSampleEvery = positiveInteger(value(), arg);
        break;
      case '--malloc-trim':
        session.pythonMallocTrim = true;
        break;
      case '--gc-budget': {
        const percent = Number(value());
        if (!(percent > 0 && percent <= 100)) throw new UsageError(`--gc-budget takes a percentage above 0 and up to 100`);
        session.taskGcBudget = percent / 100;
        break;
      }
      case '--no-auto-tasks':
        session.autoTasks = false;
        break;
      case '--interval':
        session.statsIntervalMs = positiveInteger(value(), arg);
        break;
      case '--sampling-interval':
        session.samplingIntervalBytes = positiveInteger(value(), arg);
        break;
      case '--precise':
        session.preciseAttribution = true;
        break;
      case '--no-precise':
        session.preciseAttribution = false;
        break;
      case '--json':
        output.json = path.resolve(cwd, value());
        break;
      case '--heapprofile':
        output.heapprofile = path.resolve(cwd, value());
        break;
      case '--markdown':
        output.markdown = path.resolve(cwd, value());
        break;
      case '--fail-on-leak':
        output.failOnLeak = true;
        break;
      case '--quiet':
        output.quiet = true;
        break;
      case '--verbose':
        output.verbose = true;
        break;
      case '--no-color':
        output.color = false;
        break;
      case '--top':
        output.maxSites = positiveInteger(value(), arg);
        break;
      case '--pid':
        session.attach = { pid: positiveInteger(value(), arg) };
        break;
      default:
        if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg} (taskmem --help lists them)`);
        positional.push(arg);
    }
  }
  if (verb === 'task') {
    if (positional.length !== 1) throw new UsageError('taskmem task takes one <file>#<export>');
    const { file, exportName } = parseTaskSpec(positional[0], cwd);
    session.harness = { file, exportName, runs, warmup, args, runtime: runtimeFor(file) };
  } else if (verb === 'run') {
    const line = command ?? positional;
    if (!line.length) throw new UsageError('taskmem run needs a command after --, e.g. taskmem run -- node worker.js');
    session.command = line;
  } else if (!session.attach) {
    const target = positional[0];
    if (!target) throw new UsageError('taskmem attach needs a ws:// URL, a port or --pid <pid>');
    session.attach = /^\d+$/.test(target) ? { port: Number(target) } : { url: target };
  }
  return { kind: 'profile', session, output };
}

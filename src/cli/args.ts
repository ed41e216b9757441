/** Command-line parsing for `taskmem`: small, strict, and every mistake says what to type instead. */
import * as path from 'node:path';
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
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

export type ParsedCommand =
  { kind: 'help'; topic?: string } | { kind: 'version' } | { kind: 'env' } | { kind: 'profile'; session: SessionOptions; output: OutputOptions };

export const USAGE = `taskmem: find which task keeps memory, which code allocated it, and whether it is a leak.

Usage:
  taskmem task <file>#<export> [options]   call a function N times under the profiler
  taskmem run [options] -- <command...>    profile a whole worker (node, npm, python, celery, a shell line)
  taskmem attach <ws-url | port> [options] attach to a running Node inspector
  taskmem attach --pid <pid>               open a Node process's inspector (SIGUSR1) and attach, or
                                           connect to a Python process started with taskmem env's variables
  taskmem env                              print the variables (eval "$(taskmem env)") that make the Python
                                           processes started with them attachable later
  taskmem ab --vary <change> -- <command>  run a worker as it is and with one change (allocator, limit), side by side

Task options:
  --runs <n>              measured runs (default ${DEFAULTS.runs})
  --warmup <n>            warm-up runs, not measured (default ${DEFAULTS.warmup})
  --args <json array>     arguments passed to every call, e.g. --args '[{"id": 1}]'
  --python <path>         interpreter for .py tasks (default python3)
  --why / --no-why        find what keeps the kept memory, or not (Node: two heap snapshots, which pause the
                          process ~1 s per 10 MB of heap; Python: a walk of the objects' referrers). Default:
                          on unless the heap after the warm-up is above 128 MiB. With run and attach (Node):
                          read the heap after the first task and again at the end, and explain what the
                          tasks in between kept

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
  --no-auto-tasks         do not find tasks by themselves: HTTP requests (Express, Fastify, Flask, Django),
                          BullMQ and RQ jobs, Celery tasks; only the program's own taskmem:task marks count
                          (else time windows)

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

/** Our options; everything after `--` is the profiled command's. */
const OPTIONS = {
  runs: { type: 'string' },
  warmup: { type: 'string' },
  args: { type: 'string' },
  python: { type: 'string' },
  duration: { type: 'string' },
  'max-tasks': { type: 'string' },
  'memory-limit': { type: 'string' },
  window: { type: 'string' },
  shell: { type: 'boolean' },
  'sample-every': { type: 'string' },
  'malloc-trim': { type: 'boolean' },
  'gc-budget': { type: 'string' },
  'no-auto-tasks': { type: 'boolean' },
  why: { type: 'boolean' },
  'no-why': { type: 'boolean' },
  interval: { type: 'string' },
  'sampling-interval': { type: 'string' },
  precise: { type: 'boolean' },
  'no-precise': { type: 'boolean' },
  json: { type: 'string' },
  heapprofile: { type: 'string' },
  markdown: { type: 'string' },
  'fail-on-leak': { type: 'boolean' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  top: { type: 'string' },
  pid: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

type OptionValues = ReturnType<typeof parseOptions>['values'];

function parseOptions(argv: string[]) {
  try {
    return nodeParseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  } catch (error) {
    throw new UsageError(usageMessage(error));
  }
}

/** node:util's messages, in ours: what is wrong and what to type instead. */
function usageMessage(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `unknown option ${flag} (taskmem --help lists them${flag.startsWith('--') ? '' : "; a worker's own options go after --"})`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // A value option at the end, or followed by another option; or a value given to a switch.
    return OPTIONS[flag.replace(/^--/, '') as keyof typeof OPTIONS]?.type === 'boolean' ? `${flag} takes no value` : `${flag} needs a value`;
  }
  return message;
}

function positiveInteger(text: string, flag: string, allowZero = false): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(value) || value < (allowZero ? 0 : 1))
    throw new UsageError(`${flag} takes a whole number${allowZero ? '' : ' above 0'}, not '${text}'`);
  return value;
}

function jsonArray(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--args is not valid JSON: ${text}`);
  }
  if (!Array.isArray(parsed)) throw new UsageError(`--args takes a JSON array of arguments, e.g. '[1, "a"]'`);
  return parsed;
}

function gcBudget(text: string): number {
  const percent = Number(text);
  if (!(percent > 0 && percent <= 100)) throw new UsageError(`--gc-budget takes a percentage above 0 and up to 100`);
  return percent / 100;
}

/** The session's options from ours (set only when given, so the defaults stay in one place). */
function sessionOptions(values: OptionValues, session: SessionOptions): void {
  const int = (name: keyof typeof OPTIONS, allowZero = false): number | undefined => {
    const text = values[name];
    return typeof text === 'string' ? positiveInteger(text, `--${name}`, allowZero) : undefined;
  };
  if (values.python !== undefined) session.pythonPath = values.python;
  const duration = int('duration');
  if (duration !== undefined) session.durationSec = duration;
  const maxTasks = int('max-tasks');
  if (maxTasks !== undefined) session.maxTasks = maxTasks;
  const memoryLimit = int('memory-limit');
  if (memoryLimit !== undefined) session.memoryLimitBytes = memoryLimit * 1024 * 1024;
  const window = int('window');
  if (window !== undefined) session.windowMs = window * 1000;
  if (values.shell) session.shell = true;
  const sampleEvery = int('sample-every');
  if (sampleEvery !== undefined) session.pythonSampleEvery = sampleEvery;
  if (values['malloc-trim']) session.pythonMallocTrim = true;
  if (values['gc-budget'] !== undefined) session.taskGcBudget = gcBudget(values['gc-budget']);
  if (values['no-auto-tasks']) session.autoTasks = false;
  // Workers and attach: only when asked (each reading pauses the process); the harness has its own default.
  if (values.why && session.mode !== 'harness') session.why = true;
  const interval = int('interval');
  if (interval !== undefined) session.statsIntervalMs = interval;
  const samplingInterval = int('sampling-interval');
  if (samplingInterval !== undefined) session.samplingIntervalBytes = samplingInterval;
  const pid = int('pid');
  if (pid !== undefined) session.attach = { pid };
}

function outputOptions(values: OptionValues, cwd: string, isTty: boolean): OutputOptions {
  const file = (text: string | undefined): string | undefined => (text === undefined ? undefined : path.resolve(cwd, text));
  const json = file(values.json);
  const heapprofile = file(values.heapprofile);
  const markdown = file(values.markdown);
  return {
    ...(json !== undefined ? { json } : {}),
    ...(heapprofile !== undefined ? { heapprofile } : {}),
    ...(markdown !== undefined ? { markdown } : {}),
    failOnLeak: values['fail-on-leak'] === true,
    quiet: values.quiet === true,
    verbose: values.verbose === true,
    color: isTty && !process.env.NO_COLOR && values['no-color'] !== true,
    maxSites: values.top !== undefined ? positiveInteger(values.top, '--top') : 10,
  };
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
  if (verb === 'env') {
    if (rest.length) throw new UsageError('taskmem env takes no arguments: eval "$(taskmem env)", then start the Python process');
    return { kind: 'env' };
  }
  if (verb !== 'task' && verb !== 'run' && verb !== 'attach') throw new UsageError(`unknown command '${verb}': use task, run, attach or env`);
  const dashes = rest.indexOf('--');
  const command = dashes >= 0 ? rest.slice(dashes + 1) : undefined;
  const { values, positionals: positional, tokens } = parseOptions(dashes >= 0 ? rest.slice(0, dashes) : rest);
  const session: SessionOptions = { mode: verb === 'task' ? 'harness' : verb === 'run' ? 'worker' : 'attach', cwd };
  sessionOptions(values, session);
  // --precise and --no-precise: the last one given wins.
  const precision = tokens.filter((token) => token.kind === 'option' && (token.name === 'precise' || token.name === 'no-precise')).pop();
  if (precision?.kind === 'option') session.preciseAttribution = precision.name === 'precise';
  const output = outputOptions(values, cwd, isTty);
  const runs = values.runs !== undefined ? positiveInteger(values.runs, '--runs') : DEFAULTS.runs;
  const warmup = values.warmup !== undefined ? positiveInteger(values.warmup, '--warmup', true) : DEFAULTS.warmup;
  const args = values.args !== undefined ? jsonArray(values.args) : [];
  if (verb === 'task') {
    if (positional.length !== 1) throw new UsageError('taskmem task takes one <file>#<export>');
    const { file, exportName } = parseTaskSpec(positional[0], cwd);
    session.harness = { file, exportName, runs, warmup, args, runtime: runtimeFor(file), why: values['no-why'] ? false : values.why ? true : DEFAULTS.why };
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

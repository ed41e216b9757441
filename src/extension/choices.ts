/**
 * What the user can profile, as plain data: built from the active file, package.json scripts,
 * VS Code tasks, launch configurations or a typed command line, remembered for "Profile again"
 * (workspaceState holds JSON), and turned into `SessionOptions`. Pure (no `vscode`), unit-tested in
 * test/unit/extension-choices.test.ts.
 */
import { SETTING_LIMITS, Setting } from './settings';
import * as path from 'node:path';
import type { RuntimeKind } from '../core/model';
import type { AttachSpec, SessionOptions } from '../session/api';
import { DEFAULTS } from '../session/defaults';

export type ProfileChoice =
  | { kind: 'harness'; label: string; file: string; exportName: string; runtime: RuntimeKind; cwd: string }
  | {
      kind: 'worker';
      label: string;
      command: string[];
      shell: boolean;
      cwd: string;
      env?: Record<string, string>;
      runtime?: RuntimeKind;
      /** argv[0] is the Python interpreter: replaced at launch by the resolved one (see extension/python.ts). */
      pythonCommand?: boolean;
    }
  | { kind: 'attach'; label: string; attach: AttachSpec; cwd: string };

export interface RunSettings {
  runs: number;
  warmup: number;
  statsIntervalMs: number;
  samplingIntervalBytes: number;
  preciseAttribution: 'auto' | 'on' | 'off';
  pythonPath: string;
  pythonSampleEvery: number;
  /** Python workers: malloc_trim(0) after the session's full GCs, to measure allocator high water. */
  pythonMallocTrim: boolean;
  /** Node workers: the share of time (percent) the GCs around measured tasks may take; default 1. */
  taskGcBudgetPercent?: number;
  /** Workers: memory one child may use (MiB), for the recycling advice; 0 or unset: the cgroup's, else RAM per child. */
  memoryLimitMiB?: number;
  /** Node: HTTP requests and BullMQ jobs as tasks without code changes; default true. */
  autoTasks?: boolean;
  /** The harness finds what keeps the kept memory: `auto` unless the heap is large. */
  whyRetained?: 'auto' | 'always' | 'never';
}

const WHY_SETTING = { auto: DEFAULTS.why, always: true, never: false } as const;

/** The session to start for a choice, with the user's settings applied. */
export function sessionOptionsFor(choice: ProfileChoice, settings: RunSettings): SessionOptions {
  const options: SessionOptions = { mode: choice.kind, cwd: choice.cwd, statsIntervalMs: settings.statsIntervalMs };
  if (settings.samplingIntervalBytes > 0) options.samplingIntervalBytes = settings.samplingIntervalBytes;
  if (settings.preciseAttribution !== 'auto') options.preciseAttribution = settings.preciseAttribution === 'on';
  if (settings.pythonPath) options.pythonPath = settings.pythonPath;
  if (settings.pythonSampleEvery > 0) options.pythonSampleEvery = settings.pythonSampleEvery;
  if (settings.pythonMallocTrim) options.pythonMallocTrim = true;
  if (settings.taskGcBudgetPercent !== undefined) options.taskGcBudget = settings.taskGcBudgetPercent / 100;
  if (settings.memoryLimitMiB) options.memoryLimitBytes = settings.memoryLimitMiB * 1024 * 1024;
  if (settings.autoTasks === false) options.autoTasks = false;
  switch (choice.kind) {
    case 'harness':
      options.harness = {
        file: choice.file,
        exportName: choice.exportName,
        runs: settings.runs,
        warmup: settings.warmup,
        args: [],
        runtime: choice.runtime,
        why: WHY_SETTING[settings.whyRetained ?? 'auto'],
      };
      break;
    case 'worker':
      options.command = [...choice.command];
      options.shell = choice.shell;
      if (choice.env) options.env = { ...choice.env };
      break;
    case 'attach':
      options.attach = { ...choice.attach };
      break;
  }
  return options;
}

/** Whether the choice runs Python and so needs the interpreter resolved before it starts. */
export function usesPython(choice: ProfileChoice): boolean {
  if (choice.kind === 'harness') return choice.runtime === 'python';
  return choice.kind === 'worker' && (choice.runtime === 'python' || choice.pythonCommand === true);
}

/** The choice as it runs with `python`: a Python worker's argv[0] becomes the interpreter. */
export function withPythonInterpreter(choice: ProfileChoice, python: string): ProfileChoice {
  if (choice.kind !== 'worker' || !choice.pythonCommand || choice.shell || !choice.command.length) return choice;
  return { ...choice, command: [python, ...choice.command.slice(1)] };
}

/** A short title for panels and messages ("leaky-worker.js#handleJob", "npm run start"). */
export function choiceTitle(choice: ProfileChoice): string {
  switch (choice.kind) {
    case 'harness':
      return `${path.basename(choice.file)}#${choice.exportName}`;
    case 'worker':
      return choice.label;
    case 'attach':
      return choice.label;
  }
}

/** Validates JSON read back from workspaceState; undefined for anything that is not a choice. */
export function parseStoredChoice(value: unknown): ProfileChoice | undefined {
  if (!isRecord(value) || typeof value.label !== 'string' || typeof value.cwd !== 'string') return undefined;
  if (value.kind === 'harness') {
    if (typeof value.file !== 'string' || typeof value.exportName !== 'string') return undefined;
    const runtime: RuntimeKind = value.runtime === 'python' ? 'python' : 'node';
    return { kind: 'harness', label: value.label, file: value.file, exportName: value.exportName, runtime, cwd: value.cwd };
  }
  if (value.kind === 'worker') {
    if (!Array.isArray(value.command) || !value.command.every((c): c is string => typeof c === 'string') || !value.command.length) return undefined;
    const env = isRecord(value.env) ? stringRecord(value.env) : undefined;
    const runtime: RuntimeKind | undefined = value.runtime === 'python' || value.runtime === 'node' ? value.runtime : undefined;
    return {
      kind: 'worker',
      label: value.label,
      command: value.command,
      shell: value.shell === true,
      cwd: value.cwd,
      ...(env ? { env } : {}),
      ...(runtime ? { runtime } : {}),
      ...(value.pythonCommand === true && value.shell !== true ? { pythonCommand: true } : {}),
    };
  }
  if (value.kind === 'attach' && isRecord(value.attach)) {
    const a = value.attach;
    const attach: AttachSpec = {};
    if (typeof a.url === 'string') attach.url = a.url;
    if (typeof a.port === 'number') attach.port = a.port;
    if (typeof a.pid === 'number') attach.pid = a.pid;
    return { kind: 'attach', label: value.label, attach, cwd: value.cwd };
  }
  return undefined;
}

/** `npm run <name>` for every script in a package.json (already parsed). */
export function npmScriptChoices(manifest: unknown, folder: string): ProfileChoice[] {
  if (!isRecord(manifest) || !isRecord(manifest.scripts)) return [];
  return Object.entries(manifest.scripts)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([name]) => ({ kind: 'worker', label: `npm run ${name}`, command: ['npm', 'run', name], shell: false, cwd: folder }));
}

/** The parts of a VS Code task's execution we use (ShellExecution or ProcessExecution). */
export interface TaskExecutionLike {
  /** ShellExecution with a full command line. */
  commandLine?: string;
  /** ShellExecution's command, or ProcessExecution's process. */
  command?: string | { value: string };
  process?: string;
  args?: Array<string | { value: string }>;
  options?: { cwd?: string; env?: Record<string, string> };
}

/** The command line of a task's execution, run in worker mode; undefined when it has none. */
export function taskCommand(execution: TaskExecutionLike, isShell: boolean, folder: string, label: string): ProfileChoice | undefined {
  const arg = (a: string | { value: string }): string => (typeof a === 'string' ? a : a.value);
  const cwd = execution.options?.cwd ? resolveVariables(execution.options.cwd, { workspaceFolder: folder }) : folder;
  const env = execution.options?.env ? stringRecord(execution.options.env) : undefined;
  let command: string[];
  if (isShell) {
    const line = execution.commandLine ?? [execution.command ? arg(execution.command) : '', ...(execution.args ?? []).map(arg)].filter(Boolean).join(' ');
    if (!line.trim()) return undefined;
    command = [resolveVariables(line, { workspaceFolder: folder })];
  } else {
    const file = execution.process;
    if (!file) return undefined;
    command = [file, ...(execution.args ?? []).map(arg)].map((part) => resolveVariables(part, { workspaceFolder: folder }));
  }
  return { kind: 'worker', label, command, shell: isShell, cwd: path.resolve(folder, cwd), ...(env ? { env } : {}) };
}

/** The fields of a `node` launch configuration that decide what runs. */
export interface NodeLaunchConfig {
  type?: unknown;
  request?: unknown;
  name?: unknown;
  program?: unknown;
  args?: unknown;
  cwd?: unknown;
  env?: unknown;
  runtimeExecutable?: unknown;
  runtimeArgs?: unknown;
}

export interface VariableContext {
  workspaceFolder: string;
  /** The active file, for ${file} and friends. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** A worker-mode command for a `node` launch configuration; a string says why it cannot run. */
export function launchConfigChoice(config: NodeLaunchConfig, context: VariableContext): ProfileChoice | string {
  const name = typeof config.name === 'string' ? config.name : 'launch configuration';
  if (config.type !== 'node' && config.type !== 'pwa-node') return `${name} is not a node configuration`;
  if (config.request !== undefined && config.request !== 'launch') return `${name} attaches; use Attach to Process`;
  const resolve = (value: string): string => resolveVariables(value, context);
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').map(resolve) : []);
  const runtime = typeof config.runtimeExecutable === 'string' ? resolve(config.runtimeExecutable) : 'node';
  const program = typeof config.program === 'string' ? resolve(config.program) : undefined;
  if (!program && typeof config.runtimeExecutable !== 'string') return `${name} has neither a program nor a runtimeExecutable`;
  const cwd = typeof config.cwd === 'string' ? path.resolve(context.workspaceFolder, resolve(config.cwd)) : context.workspaceFolder;
  const env = isRecord(config.env)
    ? stringRecord(Object.fromEntries(Object.entries(config.env).map(([k, v]) => [k, typeof v === 'string' ? resolve(v) : v])))
    : undefined;
  const command = [runtime, ...strings(config.runtimeArgs), ...(program ? [program] : []), ...strings(config.args)];
  return { kind: 'worker', label: name, command, shell: false, cwd, ...(env && Object.keys(env).length ? { env } : {}) };
}

/** Substitutes the launch.json / tasks.json variables we can know without VS Code. */
export function resolveVariables(value: string, context: VariableContext): string {
  const env = context.env ?? process.env;
  return value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name === 'workspaceFolder' || name === 'workspaceRoot') return context.workspaceFolder;
    if (name === 'workspaceFolderBasename') return path.basename(context.workspaceFolder);
    if (name === 'file' && context.file) return context.file;
    if (name === 'fileBasename' && context.file) return path.basename(context.file);
    if (name === 'fileDirname' && context.file) return path.dirname(context.file);
    if (name === 'relativeFile' && context.file) return path.relative(context.workspaceFolder, context.file);
    if (name === 'pathSeparator') return path.sep;
    if (name.startsWith('env:')) return env[name.slice(4)] ?? '';
    return whole;
  });
}

/** What the user typed for Attach to Process: a ws:// or http:// URL, a port, or `pid 1234`. */
export function parseAttachInput(input: string): AttachSpec | string {
  const text = input.trim();
  if (/^wss?:\/\//i.test(text) || /^https?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      return url.protocol === 'wss:' ? 'use a ws:// URL: the inspector listens on loopback without TLS' : { url: text };
    } catch {
      return `${text} is not a valid URL`;
    }
  }
  const pid = /^pid\s*[:=]?\s*(\d+)$/i.exec(text);
  if (pid) return { pid: Number(pid[1]) };
  const hostPort = /^(?:(?:127\.0\.0\.1|localhost):)?(\d{1,5})$/.exec(text);
  if (hostPort) {
    const port = Number(hostPort[1]);
    return port > 0 && port < 65536 ? { port } : `${port} is not a port number`;
  }
  return 'enter ws://127.0.0.1:9229/…, a port such as 9229, or pid 1234';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringRecord(value: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** "12, 2", "12 2" or "12" (warm-up unchanged) → runs and warm-up; a string says what is wrong. */
export function parseRunsWarmup(text: string, currentWarmup: number): { runs: number; warmup: number } | string {
  const m = /^\s*(\d+)\s*(?:[,;/ ]\s*(\d+)\s*)?$/.exec(text);
  if (!m) return 'Enter the measured runs and the warm-up runs, e.g. "10, 2".';
  const runs = Number(m[1]);
  const warmup = m[2] === undefined ? currentWarmup : Number(m[2]);
  const runLimits = SETTING_LIMITS[Setting.Runs];
  const warmupLimits = SETTING_LIMITS[Setting.Warmup];
  if (runs < runLimits.min || runs > runLimits.max) return `Measured runs: from ${runLimits.min} (a verdict needs that many points) to ${runLimits.max}.`;
  if (warmup > warmupLimits.max) return `Warm-up runs: from ${warmupLimits.min} to ${warmupLimits.max}.`;
  return { runs, warmup };
}

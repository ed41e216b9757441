/** What to spawn for a session: the user's command in worker mode, the runtime's harness in harness mode. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runtimeOf } from '../runtimes/registry';
import type { SessionOptions } from './api';

export interface LaunchPlan {
  command: string[];
  shell: boolean;
  env: Record<string, string>;
  /** For messages: what the user would recognise. */
  display: string;
}

export function launchPlan(options: SessionOptions): LaunchPlan {
  if (options.mode === 'harness') {
    const harness = options.harness;
    if (!harness) throw new Error('harness mode needs a task (file#export)');
    if (!fs.existsSync(harness.file)) throw new Error(`${harness.file} does not exist`);
    return runtimeOf(harness.runtime).harness.launch(harness, options);
  }
  const command = options.command ?? [];
  if (!command.length) throw new Error('worker mode needs a command to run');
  return { command, shell: options.shell ?? false, env: {}, display: command.join(' ') };
}

/** The session's command as the report names it. */
export function describeCommand(options: SessionOptions): string {
  if (options.mode === 'harness' && options.harness) return `${options.harness.file}#${options.harness.exportName}`;
  if (options.mode === 'attach') return `attach ${options.attach?.url ?? options.attach?.port ?? `pid ${options.attach?.pid}`}`;
  return (options.command ?? []).join(' ');
}

/** The script a worker command runs (`node worker.js`, `tsx src/jobs.ts`), searched first for holding lines. */
export function scriptOf(command: readonly string[] | undefined, cwd: string | undefined): string | undefined {
  const script = command?.slice(1).find((arg) => !arg.startsWith('-') && /\.[cm]?[jt]sx?$/.test(arg));
  return script ? path.resolve(cwd ?? process.cwd(), script) : undefined;
}

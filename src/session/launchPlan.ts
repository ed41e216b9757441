/** What to spawn for a session: the user's command in worker mode, the runtime's harness in harness mode. */
import * as fs from 'node:fs';
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

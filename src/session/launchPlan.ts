/** What to spawn for a session: the user's command in worker mode, our harness in harness mode. */
import * as fs from 'node:fs';
import { harnessPath } from '../launch/assets';
import type { SessionOptions } from './api';

export interface LaunchPlan {
  command: string[];
  shell: boolean;
  env: Record<string, string>;
  /** For messages: what the user would recognise. */
  display: string;
}

/** A Node binary: ours unless we run inside Electron (VS Code desktop), where `node` on PATH is used. */
export function nodeExecutable(): string {
  return process.versions.electron ? 'node' : process.execPath;
}

export function launchPlan(options: SessionOptions): LaunchPlan {
  if (options.mode === 'harness') {
    const harness = options.harness;
    if (!harness) throw new Error('harness mode needs a task (file#export)');
    if (!fs.existsSync(harness.file)) throw new Error(`${harness.file} does not exist`);
    if (harness.runtime === 'python') {
      const python = options.pythonPath ?? 'python3';
      return { command: [python, '-m', 'taskmem_agent.harness'], shell: false, env: {}, display: `${python} harness for ${harness.file}` };
    }
    return {
      command: [nodeExecutable(), harnessPath()],
      shell: false,
      env: { TASKMEM_HARNESS: JSON.stringify({ file: harness.file, exportName: harness.exportName, args: harness.args }) },
      display: `node harness for ${harness.file}`,
    };
  }
  const command = options.command ?? [];
  if (!command.length) throw new Error('worker mode needs a command to run');
  return { command, shell: options.shell ?? false, env: {}, display: command.join(' ') };
}

/** The environment that puts every Node and Python process of a launch under the profiler. */
import * as path from 'node:path';
import { bootloaderPath, pythonAgentDir } from './assets';

export interface ProfilingEnvOptions {
  preciseAttribution: boolean;
  /** Worker mode: the share of wall time that GCs around sampled tasks may take; 0 disables. */
  taskGcBudget: number;
  pythonSampleEvery?: number;
  /** Node: HTTP requests and BullMQ jobs as tasks (the bootloader reads TASKMEM_AUTO_TASKS). */
  autoTasks?: boolean;
  extra?: Record<string, string>;
}

function quoteForNodeOptions(file: string): string {
  // NODE_OPTIONS splits on spaces unless the value is double-quoted.
  return /[\s"\\]/.test(file) ? `"${file.replace(/(["\\])/g, '\\$1')}"` : file;
}

export function profilingEnvironment(base: NodeJS.ProcessEnv, channelEnv: Record<string, string>, options: ProfilingEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...channelEnv, ...options.extra };
  const require = `--require ${quoteForNodeOptions(bootloaderPath())}`;
  env.NODE_OPTIONS = base.NODE_OPTIONS ? `${base.NODE_OPTIONS} ${require}` : require;
  env.PYTHONPATH = base.PYTHONPATH ? `${pythonAgentDir()}${path.delimiter}${base.PYTHONPATH}` : pythonAgentDir();
  env.TASKMEM_PRECISE = options.preciseAttribution ? '1' : '0';
  env.TASKMEM_GC_BUDGET = String(options.taskGcBudget);
  // Off turns every detector off; otherwise the program's own setting stands (Python takes a list:
  // TASKMEM_AUTO_TASKS=celery,rq), so it is not overwritten with "on".
  if (options.autoTasks === false) env.TASKMEM_AUTO_TASKS = '0';
  if (options.pythonSampleEvery !== undefined) env.TASKMEM_SAMPLE_EVERY = String(options.pythonSampleEvery);
  return env;
}

/**
 * The command a harness or worker session runs: its process tree under the profiling environment,
 * the registration channel its processes report to, and its output (forwarded as it comes, the
 * last of it kept for a failure's cause).
 */
import type { ChildProcess } from 'node:child_process';
import { profilingEnvironment } from '../launch/environment';
import { spawnTree } from '../launch/processes';
import { RegistrationChannel, type Registration } from '../launch/registry';
import type { SessionOptions } from './api';
import { DEFAULTS } from './defaults';
import { launchPlan } from './launchPlan';
import { withTimeout } from './withTimeout';

/** What the command tells its session. */
export interface LaunchEvents {
  /** A process of the command reported in. */
  registered(registration: Registration): void;
  /** A registration that could not be read (said once per problem). */
  problem(message: string): void;
  /** The command could not be started. */
  failed(message: string): void;
  exited(how: string, code: number | null): void;
}

/** How long the report waits for the rest of the command's output after it ended. */
const OUTPUT_DRAIN_MS = 2_000;

/** How much of the command's output is kept for a failure's cause. */
const OUTPUT_TAIL_CHARS = 8192;

/** Node's inspector announces itself on stderr in every process we open it in; that is ours, not the program's. */
const INSPECTOR_CHATTER =
  /^(?:Debugger (?:listening|ending) on ws:\/\/\S+|For help, see: https:\/\/nodejs\.org\/en\/docs\/inspector|Debugger attached\.|Waiting for the debugger to disconnect\.\.\.)\r?\n/gm;

function withoutInspectorChatter(chunk: Buffer): Buffer {
  const text = chunk.toString('utf8');
  if (!text.includes('ebugger') && !text.includes('For help')) return chunk;
  return Buffer.from(text.replace(INSPECTOR_CHATTER, ''), 'utf8');
}

export class LaunchedCommand {
  private readonly channel = new RegistrationChannel();
  private readonly child: ChildProcess;
  /** 'exit' can come before the last of the command's output is read; 'close' comes after it. */
  private readonly outputClosed: Promise<void>;
  private tail = '';

  constructor(options: SessionOptions, events: LaunchEvents) {
    this.channel.onRegistration((registration) => events.registered(registration));
    this.channel.onProblem((problem) => events.problem(problem));
    this.channel.start();
    const plan = launchPlan(options);
    const env = profilingEnvironment({ ...process.env, ...options.env, ...plan.env }, this.channel.environment(), {
      preciseAttribution: options.preciseAttribution ?? options.mode === 'harness',
      taskGcBudget: options.mode === 'worker' ? (options.taskGcBudget ?? DEFAULTS.taskGcBudget) : 0,
      pythonSampleEvery: options.pythonSampleEvery,
      autoTasks: options.autoTasks ?? true,
    });
    const child = (this.child = spawnTree({ command: plan.command, shell: plan.shell, cwd: options.cwd, env }));
    const forward = (stream: 'stdout' | 'stderr') => (raw: Buffer) => {
      const chunk = stream === 'stderr' ? withoutInspectorChatter(raw) : raw;
      if (!chunk.length) return;
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
      if (options.onOutput) options.onOutput(stream, chunk);
      else (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
    };
    child.stdout?.on('data', forward('stdout'));
    child.stderr?.on('data', forward('stderr'));
    this.outputClosed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    child.on('error', (error) => events.failed(`cannot start ${plan.display}: ${error.message}`));
    child.on('exit', (code, signal) => events.exited(signal ? `killed by ${signal}` : `exited with code ${code}`, code ?? null));
  }

  /** The root of the command's process tree. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last of what the command printed. */
  get lastOutput(): string {
    return this.tail;
  }

  /** Waits for the rest of the command's output (a crash's stack trace), not long: a grandchild may keep the pipes open. */
  async drainOutput(): Promise<void> {
    await withTimeout(this.outputClosed, OUTPUT_DRAIN_MS);
  }

  dispose(): void {
    this.channel.dispose();
  }
}

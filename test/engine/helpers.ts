/** Shared helpers for engine tests: real processes, real inspector, a session run to its end. */
import * as path from 'node:path';
import type { TaskmemReport } from '../../src/core/report';
import type { SessionOptions } from '../../src/session/api';
import { ProfilingSession } from '../../src/session/session';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const example = (...parts: string[]): string => path.join(repoRoot, 'examples', ...parts);
export const fixture = (...parts: string[]): string => path.join(repoRoot, 'test', 'fixtures', ...parts);

export interface RunResult {
  session: ProfilingSession;
  report: TaskmemReport;
  output: string;
  warnings: string[];
}

/** Runs a session to its end, collecting the target's output instead of printing it. */
export async function runSession(options: Omit<SessionOptions, 'cwd'> & { cwd?: string }): Promise<RunResult> {
  let output = '';
  const warnings: string[] = [];
  const session = new ProfilingSession({
    cwd: repoRoot,
    ...options,
    onOutput: (_stream, chunk) => {
      output += chunk.toString();
    },
  });
  session.onWarning((warning) => warnings.push(warning));
  await session.start().catch(() => undefined);
  const report = await session.done;
  return { session, report, output, warnings };
}

export function harness(file: string, exportName: string, runs = 10, warmup = 2, args: unknown[] = []): SessionOptions['harness'] {
  return { file, exportName, runs, warmup, args, runtime: file.endsWith('.py') ? 'python' : 'node' };
}

/** Shared helpers for engine tests: real processes, real inspector, a session run to its end. */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskmemReport } from '../../src/core/report';
import type { SessionOptions } from '../../src/session/api';
import { ProfilingSession } from '../../src/session/session';
import { freePort, sleep } from '../fixtures/python/session-kit';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const example = (...parts: string[]): string => path.join(repoRoot, 'examples', ...parts);
export const fixture = (...parts: string[]): string => path.join(repoRoot, 'test', 'fixtures', ...parts);

export interface RunResult {
  session: ProfilingSession;
  report: TaskmemReport;
  output: string;
  warnings: string[];
}

/**
 * Runs a session to its end, collecting the target's output instead of printing it. With
 * `watchdogMs`, a session still running that long after it started is stopped, so a hang fails its
 * test through the end reason instead of holding the suite until mocha's timeout (not a timing
 * assertion: callers give several times what the session needs on a loaded machine).
 */
export async function runSession(options: Omit<SessionOptions, 'cwd'> & { cwd?: string }, watchdogMs?: number): Promise<RunResult> {
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
  const watchdog =
    watchdogMs === undefined
      ? undefined
      : setTimeout(() => {
          void session.stop(`not ended ${watchdogMs / 1000} s after it started: stopped by the test's watchdog`).catch(() => undefined);
        }, watchdogMs);
  try {
    const report = await session.done;
    return { session, report, output, warnings };
  } finally {
    clearTimeout(watchdog);
  }
}

export const REDIS_SERVER = '/usr/bin/redis-server';

/** A private redis-server on a free port of 127.0.0.1, without persistence; `stop` kills it. */
export async function startRedis(): Promise<{ url: string; port: number; stop: () => void }> {
  // .ci/run installs redis-server (scripts/provision.sh); without it this fails loudly.
  assert.ok(fs.existsSync(REDIS_SERVER), `${REDIS_SERVER} is required (apt-get install redis-server)`);
  const port = await freePort();
  const redis: ChildProcess = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const stop = (): void => {
    redis.kill('SIGKILL');
  };
  for (let i = 0; i < 50; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG')
      return { url: `redis://127.0.0.1:${port}/0`, port, stop };
    await sleep(100);
  }
  stop();
  throw new Error('redis-server did not start');
}

export function harness(file: string, exportName: string, runs = 10, warmup = 2, args: unknown[] = []): SessionOptions['harness'] {
  return { file, exportName, runs, warmup, args, runtime: file.endsWith('.py') ? 'python' : 'node' };
}

/** The inspector URL a child started with `--inspect=127.0.0.1:0` prints on stderr. */
export function inspectorUrlOf(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /ws:\/\/\S+/.exec(stderr);
      if (match) resolve(match[0]);
    });
    child.on('exit', () => reject(new Error(`the process ended before its inspector was up: ${stderr}`)));
  });
}

/**
 * A Node HTTP server (`script` prints "listening <port>") profiled in worker mode until `maxTasks`
 * requests finished, driven by `drive` once its port is known. A number of requests, not a
 * duration: the same evidence however fast the machine serves them.
 */
export async function profileHttpServer(
  script: string,
  maxTasks: number,
  drive: (port: number, done: Promise<unknown>) => Promise<number>,
  env: Record<string, string> = {},
): Promise<{ sent: number; report: TaskmemReport }> {
  let output = '';
  let resolvePort: (port: number) => void = () => undefined;
  const portSeen = new Promise<number>((resolve) => (resolvePort = resolve));
  const session = new ProfilingSession({
    mode: 'worker',
    cwd: repoRoot,
    command: [process.execPath, script],
    env,
    maxTasks,
    onOutput: (_stream, chunk) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolvePort(Number(match[1]));
    },
  });
  await session.start();
  const port = await Promise.race([portSeen, session.done.then(() => Promise.reject(new Error(`the server ended: ${output}`)))]);
  const [sent, report] = await Promise.all([drive(port, session.done), session.done]);
  return { sent, report };
}

// Running workloads: spawn, time, capture the `TASKMEM_BENCH {json}` line the workloads print.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const MARKER = 'TASKMEM_BENCH ';

/**
 * Runs a command to completion. Resolves with {code, wallMs, stdout, stderr, bench} where `bench`
 * is the parsed JSON of the last `TASKMEM_BENCH {…}` line on stdout (or undefined).
 */
export function runCommand(command, args, { env = process.env, cwd, timeoutMs = 120_000, onLine } = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (chunk) => {
      const text = chunk.toString('utf8');
      stdout += text;
      if (onLine) {
        pending += text;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          onLine(pending.slice(0, nl), performance.now() - t0);
          pending = pending.slice(nl + 1);
        }
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      resolve({ code, wallMs, stdout, stderr, bench: parseBench(stdout) });
    });
  });
}

export function parseBench(stdout) {
  const lines = stdout.split('\n').filter((line) => line.startsWith(MARKER));
  if (!lines.length) return undefined;
  return JSON.parse(lines[lines.length - 1].slice(MARKER.length));
}

/** Like runCommand, but throws with the output when the exit code is not 0 or no bench line came. */
export async function runBench(command, args, options) {
  const result = await runCommand(command, args, options);
  if (result.code !== 0 || !result.bench) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${result.code}${result.bench ? '' : ' without a TASKMEM_BENCH line'}\nstdout: ${result.stdout.slice(-1500)}\nstderr: ${result.stderr.slice(-1500)}`,
    );
  }
  return result;
}

// Extension host heap after 20 profiling sessions / before, in code-server (goal ≤ 1.05).
//
// Runs the benchmark suite test/vscode/bench/exthostHeap.bench.ts in the extension host of a real
// VS Code (code-server 4.100.3 + headless Chromium) through the regular runner,
// test/vscode/runCodeServer.ts, pointed at the bench suite with TASKMEM_VSCODE_TEST_SUITE. In the
// extension host: one warm-up session (lazy module loading and JIT are not counted), full GC,
// heapUsed "before"; 20 Profile Function sessions on examples/node/leaky-worker.js#handleJob
// (runs 5, warm-up 1), each awaited to its end and its panel closed; full GC, heapUsed "after".
// One repetition (~1 min); `--quick` runs 5 sessions.
//
//   node bench/extension-host-heap.mjs [--quick] [--snapshots]   # prints the result as JSON
//
// Needs `npm run build` (dist/) and code-server (scripts/install-code-server.sh); when the runner
// cannot start, the figure is "not measured" with the runner's reason, never a number.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './lib/proc.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const SUITE = 'out/test/vscode/bench/index.js';
const MiB = 2 ** 20;

export async function extensionHostHeap({ quick = false, log = (m) => process.stderr.write(`${m}\n`), snapshots = false } = {}) {
  const sessions = quick ? 5 : 20;
  const dir = mkdtempSync(join(tmpdir(), 'taskmem-exthost-heap-'));
  const out = join(dir, 'result.json');
  try {
    const build = await runCommand(process.execPath, [join(repo, 'test/vscode/build.mjs'), '--bench'], { cwd: repo });
    if (build.code !== 0) return { measured: false, reason: `building the bench suite failed: ${build.stderr.trim().split('\n').pop()}` };
    const runnerTimeoutMs = (quick ? 5 : 15) * 60_000;
    const lines = [];
    const run = await runCommand(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'test/vscode/runCodeServer.ts')], {
      cwd: repo,
      // The runner stops code-server itself at its own timeout; ours is only the last resort.
      timeoutMs: runnerTimeoutMs + 120_000,
      env: {
        ...process.env,
        TASKMEM_VSCODE_TEST_SUITE: SUITE,
        TASKMEM_VSCODE_TEST_TIMEOUT_MS: String(runnerTimeoutMs),
        TASKMEM_EXTHOST_HEAP_OUT: out,
        TASKMEM_EXTHOST_HEAP_SESSIONS: String(sessions),
        TASKMEM_EXTHOST_HEAP_SNAPSHOTS: snapshots ? '1' : '',
      },
      onLine: (line) => {
        lines.push(line);
        if (/^(starting|code-server|workbench|extension-host suite)|\|\s+(ok|FAIL)/.test(line)) log(`  ${line.trim()}`);
      },
    });
    let result;
    try {
      result = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      const why = `${run.stderr}\n${run.stdout}`.split('\n').find((l) => /ERROR|FAILED|not installed|missing/.test(l)) ?? `exit code ${run.code}`;
      return { measured: false, reason: `the extension-host run wrote no result: ${why.trim()}` };
    }
    if (run.code !== 0) log(`  (the runner exited with ${run.code}; the result file was written)`);
    const ratio = result.after / result.before;
    const perSession = (result.after - result.before) / result.sessions;
    const ms = [...result.perSessionMs].sort((a, b) => a - b);
    const medianMs = ms[Math.floor(ms.length / 2)];
    return {
      measured: true,
      sessions: result.sessions,
      before: result.before,
      after: result.after,
      ratio: { median: ratio, min: ratio, max: ratio, n: 1 },
      display: `${ratio.toFixed(3)}× (${(result.before / MiB).toFixed(1)} → ${(result.after / MiB).toFixed(1)} MiB heapUsed after full GC, one run)`,
      baselines: `before = heapUsed after 1 warm-up session + full GC; +${(perSession / 1024).toFixed(0)} KiB/session; session ${medianMs} ms median (harness runs ${result.runs}, warm-up ${result.warmup}); registry holds ${result.sessionsInRegistry} sessions, ${result.panelTabsOpen} panels open after closing${result.problems.length ? `; PROBLEMS: ${result.problems.join('; ')}` : ''}`,
      raw: result,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await extensionHostHeap({ quick: process.argv.includes('--quick'), snapshots: process.argv.includes('--snapshots') });
  console.log(JSON.stringify(result, null, 2));
}

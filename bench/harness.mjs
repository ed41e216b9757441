// The harness figure for `npm run bench` (issue 12): wall time per run of `taskmem task` on a task
// with a realistic heap, against its physical floor, the bare call plus the one full GC that
// measuring retained memory needs.
//
//   harness  `taskmem task bench/workloads/realistic-heap.js#handleOrder --runs N --warmup 10`; the
//            fixture stamps the start of every call (TASKMEM_BENCH_STAMPS=1, forwarded by the
//            harness), so a run's wall time is (start of the last run - start of the first) / (N - 1):
//            the call, the GC, the heap reading, profile fetches and whatever the session waits for,
//            without start-up, loading, warm-up and the final report.
//   bare     `node --expose-gc bench/workloads/realistic-heap.js N`: the same calls, each followed by
//            one gc(), timed inside the process.
// Variants run interleaved by round; the ratio is paired by round. TASKMEM_BENCH_COMPARE=<another
// checkout's bin/taskmem.js> adds that build as a third variant (before/after figures).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBench, runCommand } from './lib/proc.mjs';
import { pairedRatios, roundOrder, summary } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const NODE = process.execPath;
const TASKMEM = join(repo, 'bin', 'taskmem.js');
const FIXTURE = join(here, 'workloads', 'realistic-heap.js');
const WARMUP = 10;
const GOAL = 1.5;

/** Wall time per measured run of one `taskmem task` session, from the fixture's stamps. */
async function harnessRun(cli, runs) {
  const result = await runCommand(NODE, [cli, 'task', `${FIXTURE}#handleOrder`, '--runs', String(runs), '--warmup', String(WARMUP), '--quiet', '--no-color'], {
    env: { ...process.env, TASKMEM_BENCH_STAMPS: '1' },
    timeoutMs: 600_000,
  });
  const stamps = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('TASKMEM_STAMP '))
    .map((line) => Number(line.slice('TASKMEM_STAMP '.length)));
  // Why retained (on by default) calls the task again after the measured runs: those are not timed.
  if (result.code !== 0 || stamps.length < WARMUP + runs) {
    throw new Error(`taskmem task exited with ${result.code} after ${stamps.length} of ${WARMUP + runs} calls: ${result.stderr.slice(-1000)}`);
  }
  const measured = stamps.slice(WARMUP, WARMUP + runs);
  return {
    perRunMs: (measured[measured.length - 1] - measured[0]) / (measured.length - 1),
    verdict: result.stdout.split('\n').find((line) => /^[a-z-]+:/.test(line)),
  };
}

/** One session length: `runs` measured runs per session, bare beside it, rounds interleaved. */
async function measureLength({ runs, rounds, log }) {
  const variants = [
    { name: 'bare', measure: async () => (await runBench(NODE, ['--expose-gc', FIXTURE, String(runs)])).bench },
    { name: 'harness', measure: () => harnessRun(TASKMEM, runs) },
  ];
  if (process.env.TASKMEM_BENCH_COMPARE) variants.push({ name: 'compare', measure: () => harnessRun(resolve(process.env.TASKMEM_BENCH_COMPARE), runs) });
  const raw = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of roundOrder(
      variants.map((v) => v.name),
      r,
    )) {
      raw[name][r] = await variants.find((v) => v.name === name).measure();
    }
    log(`  harness, ${runs} runs: round ${r + 1}/${rounds}: ${variants.map((v) => `${v.name} ${raw[v.name][r].perRunMs.toFixed(1)} ms/run`).join(', ')}`);
  }
  const perRun = (name) => raw[name].map((m) => m.perRunMs);
  const bare = raw.bare;
  const details = {
    workload: `taskmem task ${FIXTURE.replace(repo + '/', '')}#handleOrder --runs ${runs} --warmup ${WARMUP}`,
    rounds,
    runs,
    bare: {
      perRunMs: summary(perRun('bare')),
      callMs: summary(bare.map((m) => m.callMs)),
      gcMs: summary(bare.map((m) => m.gcMs)),
      heapUsed: summary(bare.map((m) => m.heapUsed)),
    },
    harnessPerRunMs: summary(perRun('harness')),
    ratio: pairedRatios(perRun('harness'), perRun('bare')),
    raw,
  };
  if (raw.compare) details.compare = { perRunMs: summary(perRun('compare')), ratio: pairedRatios(perRun('compare'), perRun('bare')) };
  return details;
}

/**
 * The default session (20 runs, every run read) and a long one (200 runs, where the harness reads
 * one run in several: core/harnessReadings), each against the same bare calls.
 */
export async function harnessWallTime({ quick, log, addRow }) {
  const rounds = quick ? 3 : 5;
  const lengths = quick ? [20, 40] : [20, 200];
  const byRuns = {};
  for (const runs of lengths) {
    const details = await measureLength({ runs, rounds, log });
    byRuns[runs] = details;
    const ms = (s) => `${s.median.toFixed(1)} ms`;
    addRow({
      id: `harness-${runs}`,
      figure: `Harness wall time per run / (bare call + one full GC), ${runs} runs on a ${(details.bare.heapUsed.median / 2 ** 20).toFixed(0)} MiB heap`,
      value: details.ratio,
      goal: { max: GOAL, text: `≤ ${GOAL}` },
      met: details.ratio.median <= GOAL,
      unit: '×',
      baselines: `${ms(details.harnessPerRunMs)} per run vs bare ${ms(details.bare.perRunMs)} (call ${ms(details.bare.callMs)} + GC ${ms(details.bare.gcMs)})${
        details.compare ? `; compared build ${ms(details.compare.perRunMs)}, ${details.compare.ratio.median.toFixed(2)}×` : ''
      }`,
    });
  }
  return byRuns;
}

// `npm run bench` (`-- --quick` for CI: fewer rounds, smaller workloads, no timing assertions).
// Every figure runs its variants side by side, interleaved by round (ABC, BCA, CAB, …), and reports
// the median with its spread. Prints one Markdown table and writes it as JSON to
// bench/results/bench-<timestamp>.json and bench/results/latest.json. See bench/README.md.
//   node bench/run.mjs [--quick] [--only node,harness,http,http-steady,python-long,accuracy,leak-harness,leak-worker,verdict-tasks,python,analysis,webview,startup,exthost,diagnosis,why]
//   (`--only verdicts` = leak-harness,leak-worker,verdict-tasks)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir, release, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { runBench, runCommand } from './lib/proc.mjs';
import { mean, median, pairedRatios, round, roundOrder, summary } from './lib/stats.mjs';
import { loadTs } from './lib/bundle.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const onlyIndex = argv.indexOf('--only');
const GROUPS = { verdicts: ['leak-harness', 'leak-worker', 'verdict-tasks'] };
const ONLY = onlyIndex >= 0 ? new Set(argv[onlyIndex + 1].split(',').flatMap((name) => GROUPS[name] ?? [name])) : undefined;
const enabled = (name) => !ONLY || ONLY.has(name);
const NODE = process.execPath;
const TASKMEM = join(repo, 'bin', 'taskmem.js');
const rel = (p) => p.replace(repo + '/', '');
const log = (message) => process.stderr.write(`${message}\n`);
const scratch = mkdtempSync(join(tmpdir(), 'taskmem-bench-'));

const rows = [];
const details = {};
/** Checks that can fail (a control called a leak): any failed check makes the bench exit 1. */
const checks = [];
function check(name, passed, detail) {
  checks.push({ name, passed, detail });
  log(`  check ${passed ? 'passed' : 'FAILED'}: ${name}${passed ? '' : ` (${detail})`}`);
}

/** A row of the table. ratio/value: {median, min, max, q1, q3, n}. */
function addRow(row) {
  rows.push(row);
  const status = row.status === 'not measured' ? 'not measured yet' : row.goal ? (row.met ? 'met' : 'MISSED') : 'reported';
  log(`  → ${row.figure}: ${fmtValue(row)} (${status})`);
}

function fmtRange(s, digits, unit = '') {
  if (!s || !Number.isFinite(s.median)) return 'n/a';
  const f = (v) => v.toFixed(digits) + unit;
  return `${f(s.median)} (${f(s.min)}–${f(s.max)}, n=${s.n})`;
}
function fmtValue(row) {
  if (row.status === 'not measured') return `not measured yet: ${row.reason}`;
  return row.display ?? fmtRange(row.value, row.digits ?? 3, row.unit ?? '');
}

// ---------------------------------------------------------------------------------------------
// Machine

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const python = pythonInterpreter();
  let pythonVersion = 'absent';
  try {
    pythonVersion = execFileSync(python, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as absent
  }
  return {
    cpu: model,
    cores: cpus().length,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    os: `${process.platform} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    python: `${python} ${pythonVersion}`,
    loadAverageAtStart: loadavg().map((v) => round(v, 2)),
  };
}

/** The interpreter for the Python figures: $TASKMEM_BENCH_PYTHON, else a python3 with Celery, else python3. */
function pythonInterpreter() {
  if (process.env.TASKMEM_BENCH_PYTHON) return process.env.TASKMEM_BENCH_PYTHON;
  for (const candidate of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(candidate, ['-c', 'import celery.signals'], { stdio: 'ignore' });
      return execFileSync(candidate, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    } catch {
      // try the next
    }
  }
  return 'python3';
}

// ---------------------------------------------------------------------------------------------
// Interleaved rounds

/**
 * Runs each variant once per round, in rotated order; `measure(variant)` → number (ms).
 * Returns {name: number[]} with one entry per round (index = round, so ratios pair by round).
 */
async function interleaved(title, variants, rounds, measure) {
  const out = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of roundOrder(
      variants.map((v) => v.name),
      r,
    )) {
      const variant = variants.find((v) => v.name === name);
      out[name][r] = await measure(variant);
    }
    log(`  ${title}: round ${r + 1}/${rounds}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 1. Node allocation-heavy worker: profiled / bare

/**
 * TASKMEM_BENCH_COMPARE=<another checkout>/bin/taskmem.js: that build's `taskmem run` defaults as
 * one more variant in the same rounds (before/after, paired against the same bare runs).
 */
function compareVariant(workload) {
  const other = process.env.TASKMEM_BENCH_COMPARE;
  return other
    ? [{ name: 'compare: taskmem run (defaults)', command: NODE, args: [resolve(other), 'run', '--quiet', '--no-color', '--', NODE, ...workload] }]
    : [];
}

/** The other build's ratio for a row's baselines, when TASKMEM_BENCH_COMPARE added it. */
function compareBaseline(data) {
  const ratio = data.variants['compare: taskmem run (defaults)']?.ratio;
  return ratio ? `; the other build (TASKMEM_BENCH_COMPARE) ${ratio.median.toFixed(3)} (${ratio.min.toFixed(3)}–${ratio.max.toFixed(3)})` : '';
}

async function nodeOverhead() {
  const tasks = QUICK ? 120 : 300;
  const rounds = QUICK ? 3 : 7;
  const workload = [join(here, 'workloads', 'alloc-heavy.js'), String(tasks)];
  const heapProfDir = join(scratch, 'heap-prof');
  const profiled = (extra) => ({
    command: NODE,
    args: [TASKMEM, 'run', '--quiet', '--no-color', ...extra, '--json', join(scratch, 'node-report.json'), '--', NODE, ...workload],
  });
  const variants = [
    { name: 'bare', command: NODE, args: workload },
    { name: 'node --inspect (idle)', command: NODE, args: ['--inspect=127.0.0.1:0', ...workload] },
    { name: 'node --heap-prof', command: NODE, args: ['--heap-prof', `--heap-prof-dir=${heapProfDir}`, ...workload] },
    { name: 'taskmem run (defaults)', ...profiled([]) },
    { name: 'taskmem run --sampling-interval 8192 --precise', ...profiled(['--sampling-interval', '8192', '--precise']) },
    ...compareVariant(workload),
  ];
  const wall = Object.fromEntries(variants.map((v) => [v.name, []]));
  const loop = await interleaved('node overhead', variants, rounds, async (v) => {
    const result = await runBench(v.command, v.args);
    wall[v.name].push(result.wallMs);
    rmSync(heapProfDir, { recursive: true, force: true });
    return result.bench.loopMs;
  });
  const data = { workload: `node ${rel(workload[0])} ${tasks}`, rounds, metric: 'task-loop time measured inside the worker (ms)', variants: {} };
  for (const v of variants) {
    data.variants[v.name] = {
      loopMs: loop[v.name].map((x) => round(x, 1)),
      loop: summary(loop[v.name]),
      wallMs: summary(wall[v.name]),
      ratio: v.name === 'bare' ? null : pairedRatios(loop[v.name], loop.bare),
    };
  }
  details.nodeOverhead = data;
  const baselines = ['node --inspect (idle)', 'node --heap-prof']
    .map((name) => `${name.replace('node ', '')} ${data.variants[name].ratio.median.toFixed(3)}`)
    .join('; ');
  const fig = (name, figure, goal) => {
    const ratio = data.variants[name].ratio;
    addRow({
      id: name === 'taskmem run (defaults)' ? 'node-default' : 'node-leak-hunting',
      figure,
      value: ratio,
      goal,
      met: goal ? ratio.median <= goal.max : undefined,
      unit: '×',
      baselines: `bare ${data.variants.bare.loop.median.toFixed(0)} ms (ratio 1); ${baselines}${compareBaseline(data)}`,
      spread: 'min–max of per-round paired ratios',
    });
  };
  fig('taskmem run (defaults)', `Node alloc-heavy worker, profiled / bare, defaults (stats 10 Hz, sampling 256 KiB, tasks measured within a 1% GC budget)`, {
    max: 1.03,
    text: '≤ 1.03',
  });
  fig(
    'taskmem run --sampling-interval 8192 --precise',
    `Node alloc-heavy worker, profiled / bare, leak hunting (--sampling-interval 8192 --precise)`,
    undefined,
  );
}

// ---------------------------------------------------------------------------------------------
// 1b. Harness wall time per run / (bare call + one full GC) (bench/harness.mjs)

async function harness() {
  const { harnessWallTime } = await import('./harness.mjs');
  details.harness = await harnessWallTime({ quick: QUICK, log, addRow });
}

// ---------------------------------------------------------------------------------------------
// 1c. Request-heavy Node HTTP server: every request a task through the http diagnostics channels

async function httpOverhead() {
  const requests = QUICK ? 4000 : 20_000;
  const rounds = QUICK ? 3 : 7;
  const workload = [join(here, 'workloads', 'http-server.js'), String(requests)];
  const profiled = (extra) => ({ command: NODE, args: [TASKMEM, 'run', '--quiet', '--no-color', ...extra, '--', NODE, ...workload] });
  const variants = [
    { name: 'bare', command: NODE, args: workload },
    { name: 'taskmem run --no-auto-tasks', ...profiled(['--no-auto-tasks']) },
    { name: 'taskmem run (defaults)', ...profiled([]) },
    ...compareVariant(workload),
  ];
  const loop = await interleaved('http overhead', variants, rounds, async (v) => (await runBench(v.command, v.args)).bench.loopMs);
  const data = { workload: `node ${rel(workload[0])} ${requests}`, rounds, metric: 'request-loop time measured inside the server process (ms)', variants: {} };
  for (const v of variants) {
    data.variants[v.name] = {
      loopMs: loop[v.name].map((x) => round(x, 1)),
      loop: summary(loop[v.name]),
      ratio: v.name === 'bare' ? null : pairedRatios(loop[v.name], loop.bare),
    };
  }
  // What the requests as tasks add on top of the rest of the profiler (same session, channels off).
  data.channelsOverNoAutoTasks = pairedRatios(loop['taskmem run (defaults)'], loop['taskmem run --no-auto-tasks']);
  details.httpOverhead = data;
  const ratio = data.variants['taskmem run (defaults)'].ratio;
  addRow({
    id: 'node-http',
    figure: `Node HTTP server, ${requests} requests 8 at a time, each a task (http diagnostics channels), profiled / bare, defaults`,
    value: ratio,
    goal: { max: 1.03, text: '≤ 1.03' },
    met: ratio.median <= 1.03,
    unit: '×',
    baselines: `bare ${data.variants.bare.loop.median.toFixed(0)} ms (ratio 1); --no-auto-tasks (profiled, requests not tasks) ${data.variants['taskmem run --no-auto-tasks'].ratio.median.toFixed(3)}; defaults / --no-auto-tasks ${data.channelsOverNoAutoTasks.median.toFixed(3)}${compareBaseline(data)}`,
    spread: 'min–max of per-round paired ratios',
  });
}

// 1d. The same server in steady state: a request-heavy server runs for hours, so what it pays per
// request matters more than the fixed start-up of a session (the geometric checkpoints and early
// captures that give a verdict even for a burst of a second, ~1-1.5 s in all on this machine).

async function httpSteadyOverhead() {
  // --quick only checks that it runs: 20,000 requests are the burst above, not a steady state.
  const requests = QUICK ? 20_000 : 300_000;
  const rounds = QUICK ? 1 : 5;
  const workload = [join(here, 'workloads', 'http-server.js'), String(requests)];
  const variants = [
    { name: 'bare', command: NODE, args: workload },
    { name: 'taskmem run (defaults)', command: NODE, args: [TASKMEM, 'run', '--quiet', '--no-color', '--', NODE, ...workload] },
  ];
  const steady = Object.fromEntries(variants.map((v) => [v.name, []]));
  const loop = await interleaved('http steady state', variants, rounds, async (v) => {
    const { bench } = await runBench(v.command, v.args);
    steady[v.name].push(bench.steadyMs);
    return bench.loopMs;
  });
  const ratio = pairedRatios(loop['taskmem run (defaults)'], loop.bare);
  // The last two thirds only: what a server pays per request once the session's start-up is behind it.
  const steadyRatio = pairedRatios(steady['taskmem run (defaults)'], steady.bare);
  const bare = summary(loop.bare);
  details.httpSteadyOverhead = {
    workload: `node ${rel(workload[0])} ${requests}`,
    rounds,
    metric: 'request-loop time measured inside the server process (ms); steadyMs: its last two thirds',
    loopMs: Object.fromEntries(variants.map((v) => [v.name, loop[v.name].map((x) => round(x, 1))])),
    steadyMs: Object.fromEntries(variants.map((v) => [v.name, steady[v.name].map((x) => round(x, 1))])),
    ratio,
    steadyRatio,
  };
  addRow({
    id: 'node-http-steady',
    figure: `Node HTTP server in steady state, ${requests} requests 8 at a time (${(bare.median / 1000).toFixed(0)} s bare), each a task, profiled / bare, defaults`,
    value: ratio,
    goal: { max: 1.03, text: '≤ 1.03' },
    met: ratio.median <= 1.03,
    unit: '×',
    baselines: `bare ${bare.median.toFixed(0)} ms (ratio 1); the last two thirds of the requests alone ${steadyRatio.median.toFixed(3)}× (${steadyRatio.min.toFixed(3)}–${steadyRatio.max.toFixed(3)})`,
    spread: 'min–max of per-round paired ratios',
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Retained-bytes accuracy

async function accuracy() {
  const repeats = QUICK ? 2 : 5;
  const runs = 10;
  const file = join(here, 'workloads', 'retain-known.js');
  const control = await runBench(NODE, ['--expose-gc', '--no-flush-bytecode', join(here, 'workloads', 'retain-known-control.js'), '100']);
  const truth = control.bench.expected;
  const controlError = (control.bench.bytesPerCall - truth) / truth;
  const task = [];
  const site = [];
  for (let i = 0; i < repeats; i++) {
    const json = join(scratch, `accuracy-${i}.json`);
    const result = await runCommand(NODE, [
      TASKMEM,
      'task',
      `${file}#keepKnownBytes`,
      '--runs',
      String(runs),
      '--warmup',
      '2',
      '--quiet',
      '--no-color',
      '--json',
      json,
    ]);
    if (!existsSync(json)) throw new Error(`taskmem task failed: ${result.stderr.slice(-1000)}`);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    task.push(report.tasks[0].bytesPerRun);
    const top = report.sites[0];
    site.push(top && top.function === 'keepKnownBytes' ? top.bytesPerRun : NaN);
    log(`  accuracy: repeat ${i + 1}/${repeats} (interval ${report.settings.samplingIntervalBytes} B)`);
  }
  const err = (values) => values.map((v) => (Math.abs(v - truth) / truth) * 100);
  details.accuracy = {
    workload: `taskmem task ${rel(file)}#keepKnownBytes --runs ${runs} --warmup 2 (default interval)`,
    truthBytesPerRun: truth,
    control: { ...control.bench, relativeError: controlError },
    repeats,
    taskBytesPerRun: task,
    topSiteBytesPerRun: site,
    taskErrorPct: err(task),
    siteErrorPct: err(site),
  };
  for (const [id, label, values] of [
    ['accuracy-task', 'reported bytesPerRun (task)', task],
    ['accuracy-site', "top site's bytesPerRun", site],
  ]) {
    const errors = err(values);
    const meanError = mean(errors);
    addRow({
      id,
      figure: `Retained-bytes accuracy: ${label} vs truth, mean absolute error over ${repeats} × ${runs} runs`,
      value: summary(errors),
      display: `${meanError.toFixed(2)} % mean (per repeat ${Math.min(...errors).toFixed(2)}–${Math.max(...errors).toFixed(2)} %)`,
      goal: { max: 5, text: '≤ 5 %' },
      met: meanError <= 5,
      unit: ' %',
      baselines: `truth ${truth} B/run from V8 layout; control (bare heap delta) ${control.bench.bytesPerCall.toFixed(0)} B (${(controlError * 100).toFixed(3)} %)`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// 2b. Verdicts (bench/verdicts.mjs): smallest leak detected (harness, worker), tasks until the verdict

async function verdictSection(name) {
  const verdicts = await import('./verdicts.mjs');
  const run = { 'leak-harness': verdicts.leakHarness, 'leak-worker': verdicts.leakWorker, 'verdict-tasks': verdicts.verdictTasks }[name];
  details.verdicts ??= {};
  details.verdicts[name] = await run({ quick: QUICK, scratch, log, addRow, check });
}

// ---------------------------------------------------------------------------------------------
// 3. Python: profiled / bare

async function python() {
  const py = pythonInterpreter();
  const rounds = QUICK ? 2 : 5;
  // Is Python profiling usable at all? One short profiled run must end with measured tasks. It traces
  // one run in 2 (--sample-every 2): under the default time budget, whether a 30-task burst of
  // 10 ms tasks gets a traced run depends on the machine's speed and load (before the sampler's
  // start-up allowance, CI's probe traced none and both Python figures were skipped).
  const probeJson = join(scratch, 'python-probe.json');
  const probe = await runCommand(
    NODE,
    [TASKMEM, 'run', '--quiet', '--no-color', '--sample-every', '2', '--json', probeJson, '--', py, join(here, 'workloads', 'alloc_heavy.py'), '30', '300'],
    { timeoutMs: 60_000 },
  ).catch((error) => ({ code: -1, stderr: String(error) }));
  let reason;
  if (probe.code !== 0 || !existsSync(probeJson))
    reason = `taskmem run -- python3 failed (exit ${probe.code}): ${(probe.stderr || '').trim().split('\n').slice(-1)[0]}`;
  else if (!probe.bench) reason = 'the profiled Python workload printed no result';
  else {
    const report = JSON.parse(readFileSync(probeJson, 'utf8'));
    if (!report.targets?.some((t) => t.runtime === 'python')) reason = 'no Python target reported in (agent not injected?)';
    else if (!report.tasks?.length) reason = `the session measured no Python task (${report.verdict?.summary ?? 'no tasks'})`;
  }
  const workloads = [
    { id: 'python-alloc', label: 'Python alloc-heavy worker', args: [join(here, 'workloads', 'alloc_heavy.py'), QUICK ? '40' : '100'] },
    { id: 'python-celery', label: 'Python Celery-like worker', args: [join(here, 'workloads', 'celery_like.py'), QUICK ? '300' : '1000'] },
  ];
  details.python = { interpreter: py, rounds, workloads: {} };
  for (const w of workloads) {
    if (reason) {
      addRow({
        id: w.id,
        figure: `${w.label}, profiled / bare, leak detection on (defaults)`,
        status: 'not measured',
        reason,
        goal: { max: 1.15, text: '≤ 1.15' },
      });
      continue;
    }
    const env = { ...process.env };
    delete env.PYTHONTRACEMALLOC;
    const variants = [
      { name: 'bare', command: py, args: w.args, env },
      { name: 'PYTHONTRACEMALLOC=1', command: py, args: w.args, env: { ...env, PYTHONTRACEMALLOC: '1' } },
      {
        name: 'taskmem run (defaults)',
        command: NODE,
        args: [TASKMEM, 'run', '--quiet', '--no-color', '--json', join(scratch, 'python-report.json'), '--', py, ...w.args],
        env,
      },
      // Diagnosis: the same session with (practically) no task traced: what the agent costs without tracemalloc.
      {
        name: 'taskmem run --sample-every 1000000',
        command: NODE,
        args: [TASKMEM, 'run', '--quiet', '--no-color', '--sample-every', '1000000', '--', py, ...w.args],
        env,
      },
    ];
    const loop = await interleaved(
      w.label,
      variants,
      rounds,
      async (v) => (await runBench(v.command, v.args, { env: v.env, timeoutMs: 300_000 })).bench.loopSec * 1000,
    );
    const data = { workload: `${rel(w.args[0])} ${w.args.slice(1).join(' ')}`, variants: {} };
    for (const v of variants)
      data.variants[v.name] = {
        loopMs: loop[v.name].map((x) => round(x, 1)),
        loop: summary(loop[v.name]),
        ratio: v.name === 'bare' ? null : pairedRatios(loop[v.name], loop.bare),
      };
    details.python.workloads[w.id] = data;
    const ratio = data.variants['taskmem run (defaults)'].ratio;
    addRow({
      id: w.id,
      figure: `${w.label}, profiled / bare, leak detection on (defaults: tasks traced within a 10% time budget)`,
      value: ratio,
      unit: '×',
      goal: { max: 1.15, text: '≤ 1.15' },
      met: ratio.median <= 1.15,
      baselines: `bare ${data.variants.bare.loop.median.toFixed(0)} ms (ratio 1); PYTHONTRACEMALLOC=1 ${data.variants['PYTHONTRACEMALLOC=1'].ratio.median.toFixed(2)}; diagnosis: agent without tracing (--sample-every 1000000) ${data.variants['taskmem run --sample-every 1000000'].ratio.median.toFixed(2)}`,
    });
  }
}

// 3b. The Celery-like Python worker on a run of at least a minute (issue #12: the per-task costs
// that a short run hides, and the tracing budget, which is a share of the run's time).

async function pythonLong() {
  const py = pythonInterpreter();
  // At least 60 s bare on the 2-core reference machine (0.33-0.46 ms a message); a slower machine runs longer.
  const messages = QUICK ? 5000 : 180_000;
  const rounds = QUICK ? 1 : 3;
  const workload = [join(here, 'workloads', 'celery_like.py'), String(messages)];
  const env = { ...process.env };
  delete env.PYTHONTRACEMALLOC;
  const variants = [
    { name: 'bare', command: py, args: workload },
    { name: 'taskmem run (defaults)', command: NODE, args: [TASKMEM, 'run', '--quiet', '--no-color', '--', py, ...workload] },
  ];
  const loop = await interleaved(
    'python long run',
    variants,
    rounds,
    async (v) => (await runBench(v.command, v.args, { env, timeoutMs: 600_000 })).bench.loopSec * 1000,
  );
  const ratio = pairedRatios(loop['taskmem run (defaults)'], loop.bare);
  const bare = summary(loop.bare);
  details.pythonLong = {
    workload: `${rel(workload[0])} ${messages}`,
    rounds,
    loopMs: Object.fromEntries(variants.map((v) => [v.name, loop[v.name].map((x) => round(x, 1))])),
    ratio,
  };
  addRow({
    id: 'python-celery-long',
    figure: `Python Celery-like worker, ${messages} messages (${(bare.median / 1000).toFixed(0)} s bare), profiled / bare, defaults`,
    value: ratio,
    unit: '×',
    goal: { max: 1.15, text: '≤ 1.15 on runs of at least 60 s' },
    met: ratio.median <= 1.15 && bare.median >= 60_000,
    baselines: `bare ${bare.median.toFixed(0)} ms (ratio 1)`,
    spread: 'min–max of per-round paired ratios',
  });
}

// ---------------------------------------------------------------------------------------------
// 4. Analysis of a 200k-node profile / JSON.parse

async function analysis() {
  const bench = await loadTs(join(here, 'analysis', 'entry.ts'));
  const rounds = QUICK ? 3 : 15;
  const fixture = bench.makeFixture(200_000);
  // Warm up both paths (JIT), as a long session would be.
  bench.timeParse(fixture);
  bench.timeAnalysis(fixture);
  const parse = [];
  const total = [];
  const maps = [];
  const aggregate = [];
  for (let r = 0; r < rounds; r++) {
    const a = () => parse.push(bench.timeParse(fixture));
    const b = () => {
      const t = bench.timeAnalysis(fixture);
      total.push(t.totalMs);
      maps.push(t.mapsMs);
      aggregate.push(t.aggregateMs);
    };
    if (r % 2) {
      b();
      a();
    } else {
      a();
      b();
    }
  }
  const ratio = pairedRatios(total, parse);
  details.analysis = {
    nodes: fixture.nodes,
    samples: fixture.samples,
    textMiB: round(fixture.text.length / 2 ** 20, 1),
    sourceMaps: fixture.maps.length,
    rounds,
    parseMs: summary(parse),
    analysisMs: summary(total),
    sourceMapsMs: summary(maps),
    aggregateMs: summary(aggregate),
    ratio,
  };
  addRow({
    id: 'analysis',
    figure: `Analysis of a ${fixture.nodes / 1000}k-node profile (${fixture.samples} samples, ${fixture.maps.length} source maps): aggregateSites + SourceMapStore / JSON.parse`,
    value: ratio,
    unit: '×',
    goal: { max: 0.5, text: '≤ 0.5' },
    met: ratio.median <= 0.5,
    baselines: `JSON.parse ${median(parse).toFixed(0)} ms of ${details.analysis.textMiB} MiB; analysis ${median(total).toFixed(0)} ms (maps ${median(maps).toFixed(0)}, aggregate ${median(aggregate).toFixed(0)})`,
  });
}

// ---------------------------------------------------------------------------------------------
// 5. Webview chart

async function webview() {
  const { runWebviewBench } = await import('./webview/run.mjs');
  const result = await runWebviewBench({ quick: QUICK });
  details.webview = result;
  const headline = Object.entries(result.scenarios ?? {})
    .map(([name, s]) => `${name} ${s.medianMs} ms`)
    .join('; ');
  addRow({
    id: 'webview',
    figure: 'Webview: append + redraw, 36k points × 6 series, Chromium (median per frame)',
    value: { median: result.medianMs, min: NaN, max: NaN, n: result.frames },
    display: `${result.medianMs} ms median, p95 ${result.p95Ms} ms (${result.frames} frames)`,
    goal: { max: 16, text: '≤ 16 ms' },
    met: result.medianMs <= 16,
    baselines: `one frame 16 ms; ${headline}`,
  });
  const live = result.scenarios?.['300-runs-live'];
  if (live)
    addRow({
      id: 'webview-300-runs',
      figure: 'Webview: a 300-run session watched live (1,500 marks, the per-run chart after each run), Chromium (median per frame)',
      value: { median: live.medianMs, min: NaN, max: NaN, n: live.frames },
      display: `${live.medianMs} ms median, p95 ${live.p95Ms} ms, max ${live.maxMs} ms (${live.frames} frames)`,
      goal: { max: 16, text: '≤ 16 ms' },
      met: live.medianMs <= 16,
      baselines: 'one frame 16 ms',
    });
}

// ---------------------------------------------------------------------------------------------
// 6. Start-up: session start → first chart point, vs bare spawn → first line

async function startup() {
  const bench = await loadTs(join(here, 'startup', 'entry.ts'));
  const rounds = QUICK ? 3 : 10;
  const workload = [join(here, 'workloads', 'alloc-heavy.js'), '100000'];
  const bareOnce = () =>
    new Promise((resolveRun, reject) => {
      let firstLine;
      runCommand(NODE, workload, {
        timeoutMs: 30_000,
        onLine: (line, ms) => {
          if (firstLine === undefined) {
            firstLine = ms;
            resolveRun(ms);
          }
        },
      }).catch(reject);
    });
  const variants = [
    {
      name: 'bare: spawn → first line',
      run: async () => {
        // runCommand resolves on exit; kill the worker as soon as it has printed.
        const { spawn } = await import('node:child_process');
        return new Promise((res, rej) => {
          const t0 = performance.now();
          const child = spawn(NODE, workload, { stdio: ['ignore', 'pipe', 'ignore'] });
          child.stdout.once('data', () => {
            const ms = performance.now() - t0;
            child.kill('SIGKILL');
            res(ms);
          });
          child.on('error', rej);
        });
      },
    },
    { name: 'profiled: start → first onStats', run: async () => (await bench.timeToFirstStats([NODE, ...workload], repo)).firstStatsMs },
  ];
  void bareOnce;
  const times = await interleaved('start-up', variants, rounds, (v) => v.run());
  const ratio = pairedRatios(times['profiled: start → first onStats'], times['bare: spawn → first line']);
  details.startup = {
    workload: `node ${rel(workload[0])}`,
    rounds,
    bareMs: summary(times['bare: spawn → first line']),
    profiledMs: summary(times['profiled: start → first onStats']),
    ratio,
    note: `the first statistics poll runs ${100} ms after the target is attached (stats interval)`,
  };
  addRow({
    id: 'startup',
    figure: 'Start-up: "Profile Task" (session start) → first chart point / bare start (spawn → first line)',
    value: ratio,
    unit: '×',
    baselines: `bare ${median(times['bare: spawn → first line']).toFixed(0)} ms; profiled ${median(times['profiled: start → first onStats']).toFixed(0)} ms (includes one 100 ms stats interval)`,
  });
}

// ---------------------------------------------------------------------------------------------
// 7. Extension host heap (bench/extension-host-heap.mjs)

async function extensionHost() {
  const { extensionHostHeap } = await import('./extension-host-heap.mjs');
  const result = await extensionHostHeap({ quick: QUICK, log });
  details.extensionHost = result;
  if (!result.measured) {
    addRow({
      id: 'exthost',
      figure: 'Extension host heap after 20 profiling sessions / before (code-server)',
      status: 'not measured',
      reason: result.reason,
      goal: { max: 1.05, text: '≤ 1.05' },
    });
    return;
  }
  addRow({
    id: 'exthost',
    figure: `Extension host heap after ${result.sessions} profiling sessions / before (code-server)`,
    value: result.ratio,
    display: result.display,
    unit: '×',
    goal: { max: 1.05, text: '≤ 1.05' },
    met: result.ratio.median <= 1.05,
    baselines: result.baselines,
  });
}

// ---------------------------------------------------------------------------------------------
// 8. Diagnosis (full runs): what each part of the default Node worker setup costs

async function diagnosis() {
  const { diagnoseNode } = await import('./diagnose-node.mjs');
  details.diagnosis = await diagnoseNode({ quick: QUICK, rounds: QUICK ? 1 : 3, log });
}

// ---------------------------------------------------------------------------------------------
// 9. Why retained: the product's diff of two heap snapshots / reading the snapshot file once

/** Starts bench/workloads/big-heap.js under --inspect; resolves with the process and its inspector URL once its heap is built. */
async function startBigHeap(count) {
  const { spawn } = await import('node:child_process');
  const child = spawn(NODE, ['--inspect=127.0.0.1:0', join(here, 'workloads', 'big-heap.js'), String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => fail(new Error(`big-heap.js not ready after 120 s: ${stderr.slice(-500)}`)), 120_000);
    const fail = (error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const ready = () => {
      const url = /ws:\/\/\S+/.exec(stderr)?.[0];
      const line = stdout.split('\n').find((l) => l.startsWith('TASKMEM_BIGHEAP_READY '));
      if (!url || !line) return;
      clearTimeout(timer);
      resolveStart({ child, url, ...JSON.parse(line.slice('TASKMEM_BIGHEAP_READY '.length)) });
    };
    child.stdout.on('data', (c) => ((stdout += c), ready()));
    child.stderr.on('data', (c) => ((stderr += c), ready()));
    child.on('exit', (code) => fail(new Error(`big-heap.js exited with ${code}: ${stderr.slice(-500)}`)));
  });
}

async function whyRetained() {
  const bench = await loadTs(join(here, 'why', 'entry.ts'));
  const entry = bench.entryFile();
  // Full: ~250 MB of heap (~6 M snapshot nodes, ~400 MB of snapshot JSON: JSON.parse of it still fits
  // V8's ~512 MB string limit). Quick: small enough for .ci/run.
  const count = QUICK ? 100_000 : 1_500_000;
  const rounds = QUICK ? 1 : 3;
  const waitMs = 1000;
  const names = ['product: baseline, then diff', 'read the snapshot file once', 'V8 only: take and send'];
  const results = Object.fromEntries(names.map((name) => [name, []]));
  const prepared = [];
  const heaps = [];
  const file = join(scratch, 'why.heapsnapshot');
  const child = (args) => runBench(NODE, [entry, ...args], { timeoutMs: 600_000 }).then((r) => r.bench);
  for (let r = 0; r < rounds; r++) {
    const workload = await startBigHeap(count);
    try {
      heaps.push(workload.heapUsedMiB);
      prepared.push(await child(['write', workload.url, file]));
      for (const name of roundOrder(names, r)) {
        if (name === names[0]) results[name][r] = await child(['product', workload.url, String(waitMs)]);
        else if (name === names[1]) results[name][r] = await child(['read', file]);
        else results[name][r] = await child(['v8', workload.url]);
      }
    } finally {
      workload.child.removeAllListeners('exit');
      workload.child.kill('SIGKILL');
      rmSync(file, { force: true });
    }
    log(`  why retained: round ${r + 1}/${rounds}`);
  }
  const product = results[names[0]];
  const read = results[names[1]];
  const v8 = results[names[2]];
  const pick = (list, key) => list.map((x) => x[key]);
  const diffRatio = pairedRatios(pick(product, 'diffMs'), pick(read, 'readMs'));
  const rssRatio = pairedRatios(pick(product, 'peakRssMiB'), pick(read, 'peakRssMiB'));
  const v8Share = pairedRatios(pick(v8, 'v8Ms'), pick(product, 'diffMs'));
  const stall = summary(pick(product, 'stallMs'));
  const nodes = median(pick(prepared, 'nodes'));
  const snapshotMiB = median(pick(prepared, 'chars')) / 2 ** 20;
  details.whyRetained = {
    workload: `node --inspect=127.0.0.1:0 ${rel(join(here, 'workloads', 'big-heap.js'))} ${count}`,
    rounds,
    heapUsedMiB: summary(heaps),
    snapshotNodes: summary(pick(prepared, 'nodes')),
    snapshotMiB: round(snapshotMiB, 1),
    waitMs,
    productDiffMs: summary(pick(product, 'diffMs')),
    productBaselineMs: summary(pick(product, 'baselineMs')),
    productPauseMs: summary(pick(product, 'pauseMs')),
    productPeakRssMiB: summary(pick(product, 'peakRssMiB')),
    productStallMs: stall,
    readMs: summary(pick(read, 'readMs')),
    readPeakRssMiB: summary(pick(read, 'peakRssMiB')),
    readStallMs: summary(pick(read, 'stallMs')),
    v8Ms: summary(pick(v8, 'v8Ms')),
    diffRatio,
    rssRatio,
    v8Share,
    raw: results,
    prepared,
  };
  const label = `${(nodes / 1e6).toFixed(1)} M nodes, ${snapshotMiB.toFixed(0)} MiB of snapshot, ${median(heaps).toFixed(0)} MiB heap`;
  addRow({
    id: 'why-time',
    figure: `Why retained: diff of two snapshots (the second's take + read + analysis) / reading the snapshot file once (readFileSync + JSON.parse), ${label}`,
    value: diffRatio,
    unit: '×',
    baselines: `diff ${median(pick(product, 'diffMs')).toFixed(0)} ms (target paused ${median(pick(product, 'pauseMs')).toFixed(0)} ms); file read ${median(pick(read, 'readMs')).toFixed(0)} ms`,
  });
  addRow({
    id: 'why-memory',
    figure: 'Why retained: peak RSS of the session process (baseline + diff) / of the process reading the file',
    value: rssRatio,
    unit: '×',
    baselines: `session ${median(pick(product, 'peakRssMiB')).toFixed(0)} MiB; file read ${median(pick(read, 'peakRssMiB')).toFixed(0)} MiB`,
  });
  addRow({
    id: 'why-stall',
    figure: "Why retained: the session process's longest event-loop stall while it takes and reads both snapshots (5 ms ticks)",
    value: stall,
    unit: ' ms',
    digits: 0,
    baselines: `reading the file on the main thread stalls it ${median(pick(read, 'stallMs')).toFixed(0)} ms`,
  });
  addRow({
    id: 'why-v8',
    figure: "Why retained: V8's share of the diff (take and send the snapshot, chunks only counted / the diff)",
    value: v8Share,
    unit: '×',
    baselines: `V8 alone ${median(pick(v8, 'v8Ms')).toFixed(0)} ms`,
  });
  const pathText = (p) => (p.topPath ?? []).map((s) => `${s.edge || '·'} (${s.holder})`).join(' > ') || 'no group';
  check(
    "why retained: the top group is big-heap.js's recentItems Map in every round",
    product.every((p) => p.topPath?.some((s) => s.edge === 'recentItems' && s.holder === 'Map')),
    `top paths: ${product.map(pathText).join('; ')}`,
  );
  details.whyRetained.topPaths = product.map(pathText);
}

// ---------------------------------------------------------------------------------------------

function checksTable() {
  if (!checks.length) return '';
  return ['| Check (fails the bench) | Result |', '|---|---|', ...checks.map((c) => `| ${c.name} | ${c.passed ? 'passed' : `**FAILED**: ${c.detail}`} |`)].join(
    '\n',
  );
}

function table() {
  const lines = ['| Figure | Result: median (min–max) | Goal | Met | Baselines in the same run |', '|---|---|---|---|---|'];
  for (const row of rows) {
    const met = row.status === 'not measured' ? '—' : row.goal ? (row.met ? 'yes' : '**no**') : '—';
    lines.push(`| ${row.figure} | ${fmtValue(row)} | ${row.goal?.text ?? 'report it'} | ${met} | ${row.baselines ?? ''} |`);
  }
  return lines.join('\n');
}

function diagnosisTable() {
  const d = details.diagnosis;
  if (!d) return '';
  const lines = [
    `| Default Node worker setup, piece by piece (${d.workload}, ${d.rounds} rounds) | task loop / bare, median (min–max) | CDP events per run |`,
    '|---|---|---|',
  ];
  for (const v of d.variants) lines.push(`| ${v.name} | ${v.ratio ? fmtRange(v.ratio, 3, '×') : '1'} | ${v.eventsPerRun} |`);
  return lines.join('\n');
}

const sections = [
  ['node', nodeOverhead],
  ['harness', harness],
  ['http', httpOverhead],
  ['http-steady', httpSteadyOverhead],
  ['accuracy', accuracy],
  ['leak-harness', () => verdictSection('leak-harness')],
  ['leak-worker', () => verdictSection('leak-worker')],
  ['verdict-tasks', () => verdictSection('verdict-tasks')],
  ['python', python],
  ['python-long', pythonLong],
  ['analysis', analysis],
  ['webview', webview],
  ['startup', startup],
  ['exthost', extensionHost],
  ['diagnosis', diagnosis],
  ['why', whyRetained],
];

const started = performance.now();
const info = machine();
log(`taskmem bench (${QUICK ? 'quick' : 'full'}) on ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, node ${info.node}, ${info.python}`);
const failures = [];
for (const [name, run] of sections) {
  if (!enabled(name)) continue;
  log(`\n[${name}]`);
  const t0 = performance.now();
  try {
    await run();
  } catch (error) {
    failures.push(`${name}: ${error.message.split('\n')[0]}`);
    log(`  ${name} failed: ${error.stack ?? error.message}`);
    addRow({ id: name, figure: name, status: 'not measured', reason: `the bench failed: ${error.message.split('\n')[0]}` });
  }
  log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
rmSync(scratch, { recursive: true, force: true });

const totalSec = (performance.now() - started) / 1000;
info.loadAverageAtEnd = loadavg().map((v) => round(v, 2));
const markdown = [table(), checksTable(), diagnosisTable()].filter(Boolean).join('\n\n');
const date = new Date();
const result = {
  bench: 'taskmem',
  date: date.toISOString(),
  quick: QUICK,
  durationSec: round(totalSec, 1),
  machine: info,
  method: 'variants interleaved by round (rotated order), medians with min–max of per-round paired ratios',
  rows,
  details,
  failures,
  checks,
  markdown,
};
const resultsDir = join(here, 'results');
mkdirSync(resultsDir, { recursive: true });
const stamp = date.toISOString().replace(/[:.]/g, '-');
const text = JSON.stringify(result, null, 2) + '\n';
writeFileSync(join(resultsDir, `bench-${stamp}.json`), text);
writeFileSync(join(resultsDir, 'latest.json'), text);

console.log(`\n## taskmem bench (${QUICK ? 'quick' : 'full'}, ${totalSec.toFixed(0)} s)\n`);
console.log(
  `Machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB RAM, ${info.os}; Node ${info.node} (V8 ${info.v8}); Python ${info.python}; load average ${info.loadAverageAtStart.join(' ')} at start, ${info.loadAverageAtEnd.join(' ')} at end (other processes share the machine: see the spread)\n`,
);
console.log(markdown);
console.log(`\nWritten: bench/results/bench-${stamp}.json, bench/results/latest.json`);
// Exit 1 when a section threw, a figure could not be measured (quick mode measures every figure
// once too) or a check failed (a control called a leak). Goals are reported, not asserted: timings
// depend on the machine.
const failedChecks = checks.filter((c) => !c.passed);
const unmeasured = rows.filter((r) => r.status === 'not measured');
if (failures.length) console.log(`\nFAILED sections: ${failures.join('; ')}`);
if (unmeasured.length) console.log(`\nNOT MEASURED: ${unmeasured.map((r) => `${r.figure} (${r.reason})`).join('; ')}`);
if (failedChecks.length) console.log(`\nFAILED checks: ${failedChecks.map((c) => `${c.name} (${c.detail})`).join('; ')}`);
process.exitCode = failures.length || unmeasured.length || failedChecks.length ? 1 : 0;

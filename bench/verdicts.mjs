// Verdict figures for `npm run bench` (issue 15): how small a leak taskmem calls a leak, and after
// how many tasks a worker's leak is called. Every session is a real `taskmem` process with default
// settings; the verdicts are read from its JSON report (docs/REPORT-SCHEMA.md).
//
//   leak-harness  "smallest leak detected", harness: `taskmem task bench/workloads/keep-doubles.js#keepDoubles
//                 --args '[K]' --runs 100 --warmup 2` for K on a ladder (bytes of doubles kept per run),
//                 R sessions each, plus a K = 0 control (keeps nothing) that must never be called a leak.
//   leak-worker   "smallest leak detected", worker: `taskmem run -- node bench/workloads/mixed-worker.js K 10000`
//                 (tasks `ingest` keeping K bytes per task and `lookup` keeping nothing, seeded random mix),
//                 plus a K = 0 run; `lookup` and the K = 0 run are controls that must never be called a leak.
//   verdict-tasks "tasks until the verdict": the same worker keeping 2 KiB per `ingest` task, running for
//                 good, stopped by `--duration`; the verdict's evidence says "ingest: leak suspected after
//                 N tasks, confirmed after M" (src/session/taskTracker.ts, src/core/verdict.ts).
//
// A control called a leak is a failed check: `bench/run.mjs` then exits non-zero.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './lib/proc.mjs';
import { median, roundOrder, summary } from './lib/stats.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const NODE = process.execPath;
const TASKMEM = join(repo, 'bin', 'taskmem.js');
const HARNESS_FIXTURE = join(here, 'workloads', 'keep-doubles.js');
const WORKER_FIXTURE = join(here, 'workloads', 'mixed-worker.js');
const LEAKY = 'ingest';
const CLEAN = 'lookup';
const WORKER_TASKS = 10_000;
const HARNESS_RUNS = 100;

/** Bytes a K-byte row of doubles keeps in V8 (JSArray 32 B + FixedDoubleArray 16 B header + K). */
const keptBytes = (k) => (Math.floor(k / 8) > 0 ? 48 + 8 * Math.floor(k / 8) : 0);
const fmtB = (bytes) => (bytes >= 1024 && bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`);
const fmtSigned = (bytes) => (Number.isFinite(bytes) ? `${bytes >= 0 ? '+' : ''}${Math.round(bytes)} B` : 'n/a');

async function taskmem(args, { scratch, tag, timeoutMs = 180_000 }) {
  const json = join(scratch, `${tag}.json`);
  rmSync(json, { force: true });
  // Our flags go before `--` (worker: the command follows it), else at the end.
  const cut = args.includes('--') ? args.indexOf('--') : args.length;
  const full = [...args.slice(0, cut), '--quiet', '--no-color', '--json', json, ...args.slice(cut)];
  const result = await runCommand(NODE, [TASKMEM, ...full], { timeoutMs });
  if (!existsSync(json))
    throw new Error(`taskmem ${args.join(' ')} wrote no report (exit ${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return JSON.parse(readFileSync(json, 'utf8'));
}

/** "ingest: leak suspected after 1,234 tasks, confirmed after 5,678" in the verdict's evidence. */
export function firming(report, name) {
  for (const line of report.verdict?.evidence ?? []) {
    const m = /^(.+?): leak suspected after ([\d,]+) tasks(?:, confirmed after ([\d,]+))?/.exec(line);
    if (m && m[1] === name) {
      const n = (s) => (s === undefined ? undefined : Number(s.replace(/,/g, '')));
      return { suspectedAt: n(m[2]), confirmedAt: n(m[3]), text: line };
    }
  }
  return undefined;
}

const taskOf = (report, name) => report.tasks?.find((t) => t.name === name);

/**
 * Runs every variant once per session round, in rotated order (as the overhead figures do), and
 * returns {variantKey: [outcome per round]}.
 */
async function rounds(variants, count, run, log, title) {
  const out = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let r = 0; r < count; r++) {
    for (const key of roundOrder(
      variants.map((v) => v.key),
      r,
    )) {
      const variant = variants.find((v) => v.key === key);
      out[key][r] = await run(variant, r);
    }
    log(`  ${title}: round ${r + 1}/${count}`);
  }
  return out;
}

/** The smallest rung called a leak in every session, and whether every rung above it was too. */
function smallest(ladder, outcomes, isDetected) {
  const detected = ladder.filter((k) => outcomes[k].every(isDetected));
  const k = detected[0];
  const consistent = k === undefined || ladder.filter((x) => x >= k).every((x) => detected.includes(x));
  return { k, consistent };
}

// ---------------------------------------------------------------------------------------------

export async function leakHarness({ quick, scratch, log, addRow, check }) {
  const ladder = quick ? [8, 32, 128, 512] : [8, 16, 32, 64, 128, 256, 512];
  const sessions = quick ? 1 : 3;
  const variants = [{ key: 0 }, ...ladder.map((k) => ({ key: k }))];
  const outcomes = await rounds(
    variants,
    sessions,
    async ({ key }, r) => {
      const report = await taskmem(
        ['task', `${HARNESS_FIXTURE}#keepDoubles`, '--args', JSON.stringify([key]), '--runs', String(HARNESS_RUNS), '--warmup', '2'],
        { scratch, tag: `harness-${key}-${r}` },
      );
      const task = report.tasks?.[0];
      return { verdict: task?.verdict ?? report.verdict?.kind, bytesPerRun: task?.bytesPerRun, confidence: task?.confidence, summary: report.verdict?.summary };
    },
    log,
    'smallest leak, harness',
  );
  const { k, consistent } = smallest(ladder, outcomes, (o) => o.verdict === 'leak');
  const control = outcomes[0];
  const controlLeaks = control.filter((o) => o.verdict === 'leak').length;
  const perRung = ladder
    .map(
      (x) =>
        `${x} B: ${outcomes[x].filter((o) => o.verdict === 'leak').length}/${sessions} (${outcomes[x].map((o) => fmtSigned(o.bytesPerRun)).join(', ')}/run)`,
    )
    .join('; ');
  const data = {
    workload: `taskmem task ${HARNESS_FIXTURE.replace(repo + '/', '')}#keepDoubles --args '[K]' --runs ${HARNESS_RUNS} --warmup 2 (defaults)`,
    sessions,
    ladderBytes: ladder,
    keptBytesPerRun: Object.fromEntries(ladder.map((x) => [x, keptBytes(x)])),
    outcomes,
    smallestDetectedBytes: k ?? null,
    smallestDetectedKeptBytes: k === undefined ? null : keptBytes(k),
    consistentAbove: consistent,
    controlVerdicts: control.map((o) => o.verdict),
  };
  const reported = k === undefined ? [] : outcomes[k].map((o) => o.bytesPerRun);
  addRow({
    id: 'leak-harness',
    figure: `Smallest leak detected, harness: the smallest K (bytes of doubles kept per run) called \`leak\` in every one of ${sessions} session(s) of ${HARNESS_RUNS} runs (warm-up 2)`,
    value: summary(reported),
    display:
      k === undefined
        ? `none of ${ladder.map(fmtB).join(', ')}`
        : `${fmtB(k)} (${keptBytes(k)} B kept per run in V8 objects; reported ${reported.map(fmtSigned).join(', ')}/run)${consistent ? '' : '; NOT every larger K was a leak'}`,
    baselines: `K = 0 control: ${control.map((o) => o.verdict).join(', ')}; per K: leak in ${perRung}`,
  });
  addRow({
    id: 'leak-harness-control',
    figure: `Harness control (K = 0, same temporaries, keeps nothing), ${HARNESS_RUNS} runs: never called a leak`,
    value: summary(control.map((o) => o.bytesPerRun)),
    display: `${control.map((o) => `${o.verdict} (${fmtSigned(o.bytesPerRun)}/run)`).join(', ')}`,
    goal: { text: `no leak in ${sessions} session(s)` },
    met: controlLeaks === 0,
  });
  check('harness control K = 0 is not a leak', controlLeaks === 0, `${controlLeaks} of ${sessions} sessions called it a leak`);
  return data;
}

// ---------------------------------------------------------------------------------------------

export async function leakWorker({ quick, scratch, log, addRow, check }) {
  const ladder = quick ? [128, 512, 2048] : [64, 128, 256, 512, 1024, 2048];
  const sessions = quick ? 1 : 3;
  const variants = [{ key: 0 }, ...ladder.map((k) => ({ key: k }))];
  const outcomes = await rounds(
    variants,
    sessions,
    async ({ key }, r) => {
      const report = await taskmem(['run', '--', NODE, WORKER_FIXTURE, String(key), String(WORKER_TASKS)], { scratch, tag: `worker-${key}-${r}` });
      const a = taskOf(report, LEAKY);
      const b = taskOf(report, CLEAN);
      const f = firming(report, LEAKY);
      return {
        a: a?.verdict ?? 'absent',
        b: b?.verdict ?? 'absent',
        aBytesPerTask: a?.bytesPerRun,
        bBytesPerTask: b?.bytesPerRun,
        aTasks: a?.runs,
        suspectedAt: f?.suspectedAt,
        confirmedAt: f?.confirmedAt,
        durationMs: report.durationMs,
        summary: report.verdict?.summary,
      };
    },
    log,
    'smallest leak, worker',
  );
  const { k, consistent } = smallest(ladder, outcomes, (o) => o.a === 'leak' && o.b !== 'leak');
  const all = Object.values(outcomes).flat();
  const bLeaks = all.filter((o) => o.b === 'leak').length;
  const zero = outcomes[0];
  const zeroLeaks = zero.filter((o) => o.a === 'leak' || o.b === 'leak').length;
  const perRung = ladder
    .map(
      (x) => `${x} B: ${outcomes[x].filter((o) => o.a === 'leak').length}/${sessions} (${outcomes[x].map((o) => fmtSigned(o.aBytesPerTask)).join(', ')}/task)`,
    )
    .join('; ');
  const data = {
    workload: `taskmem run -- node ${WORKER_FIXTURE.replace(repo + '/', '')} K ${WORKER_TASKS} (defaults; ${LEAKY} keeps K bytes of doubles per task, ${CLEAN} keeps nothing; seeded 50/50 mix; paced 1 ms every 4 tasks)`,
    sessions,
    ladderBytes: ladder,
    keptBytesPerTask: Object.fromEntries(ladder.map((x) => [x, keptBytes(x)])),
    outcomes,
    smallestDetectedBytes: k ?? null,
    smallestDetectedKeptBytes: k === undefined ? null : keptBytes(k),
    consistentAbove: consistent,
  };
  const reported = k === undefined ? [] : outcomes[k].map((o) => o.aBytesPerTask);
  const durations = all.map((o) => o.durationMs / 1000);
  addRow({
    id: 'leak-worker',
    figure: `Smallest leak detected, worker: the smallest K (bytes of doubles kept per \`${LEAKY}\` task) with \`${LEAKY}\` = leak and \`${CLEAN}\` ≠ leak in every one of ${sessions} session(s) of ${WORKER_TASKS.toLocaleString('en-US')} tasks (defaults)`,
    value: summary(reported),
    display:
      k === undefined
        ? `none of ${ladder.map(fmtB).join(', ')}`
        : `${fmtB(k)} (${keptBytes(k)} B kept per task in V8 objects; reported ${reported.map(fmtSigned).join(', ')}/task)${consistent ? '' : '; NOT every larger K was a leak'}`,
    baselines: `per K: ${LEAKY} leak in ${perRung}; sessions ${median(durations).toFixed(1)} s median`,
  });
  addRow({
    id: 'leak-worker-control',
    figure: `Worker controls: \`${CLEAN}\` (keeps nothing) in every session, and both tasks with K = 0: never called a leak`,
    value: summary(all.map((o) => o.bBytesPerTask)),
    display: `${CLEAN}: ${all.length - bLeaks}/${all.length} not leak; K = 0: ${zero.map((o) => `${LEAKY} ${o.a} (${fmtSigned(o.aBytesPerTask)}/task), ${CLEAN} ${o.b}`).join('; ')}`,
    goal: { text: 'no leak in any session' },
    met: bLeaks === 0 && zeroLeaks === 0,
  });
  check(`worker control: ${CLEAN} is not a leak`, bLeaks === 0, `${bLeaks} of ${all.length} sessions called ${CLEAN} a leak`);
  check('worker control K = 0 is not a leak', zeroLeaks === 0, `${zeroLeaks} of ${zero.length} sessions called a task of the K = 0 worker a leak`);
  return data;
}

// ---------------------------------------------------------------------------------------------

export async function verdictTasks({ quick, scratch, log, addRow, check }) {
  const keep = 2048;
  const durationSec = quick ? 8 : 20;
  const sessions = quick ? 1 : 3;
  const outcomes = [];
  for (let r = 0; r < sessions; r++) {
    const report = await taskmem(['run', '--duration', String(durationSec), '--', NODE, WORKER_FIXTURE, String(keep), '0'], {
      scratch,
      tag: `firming-${r}`,
      timeoutMs: (durationSec + 120) * 1000,
    });
    const a = taskOf(report, LEAKY);
    const b = taskOf(report, CLEAN);
    const f = firming(report, LEAKY);
    outcomes.push({
      a: a?.verdict ?? 'absent',
      b: b?.verdict ?? 'absent',
      aBytesPerTask: a?.bytesPerRun,
      aTasks: a?.runs,
      bTasks: b?.runs,
      suspectedAt: f?.suspectedAt ?? null,
      confirmedAt: f?.confirmedAt ?? null,
      evidence: f?.text ?? null,
      endReason: report.endReason,
      durationMs: report.durationMs,
    });
    log(`  tasks until the verdict: session ${r + 1}/${sessions}: ${f?.text ?? `no firming in the evidence (${LEAKY} ${a?.verdict})`}`);
  }
  const suspected = outcomes.map((o) => o.suspectedAt ?? NaN);
  const confirmed = outcomes.map((o) => o.confirmedAt ?? NaN);
  const missing = outcomes.filter((o) => o.confirmedAt === null).length;
  const bLeaks = outcomes.filter((o) => o.b === 'leak').length;
  const data = {
    workload: `taskmem run --duration ${durationSec} -- node ${WORKER_FIXTURE.replace(repo + '/', '')} ${keep} 0 (runs for good; defaults)`,
    keptBytesPerTask: keptBytes(keep) + 8,
    sessions,
    outcomes,
    suspectedAt: summary(suspected),
    confirmedAt: summary(confirmed),
  };
  const fmtN = (s) =>
    Number.isFinite(s.median)
      ? `${Math.round(s.median).toLocaleString('en-US')}${s.n > 1 ? ` (${Math.round(s.min).toLocaleString('en-US')}–${Math.round(s.max).toLocaleString('en-US')})` : ''}`
      : 'n/a';
  addRow({
    id: 'verdict-tasks',
    figure: `Tasks until the verdict: worker leaking 2 KiB per \`${LEAKY}\` task (50/50 mix with \`${CLEAN}\`), running for good, \`--duration ${durationSec}\`, ${sessions} session(s): tasks finished when the leak was suspected / confirmed`,
    value: data.confirmedAt,
    display: `suspected after ${fmtN(data.suspectedAt)}, confirmed after ${fmtN(data.confirmedAt)} tasks${missing ? `; ${missing} of ${sessions} session(s) never confirmed it` : ''}`,
    baselines: `final: ${outcomes.map((o) => `${LEAKY} ${o.a} ${fmtSigned(o.aBytesPerTask)}/task over ${(o.aTasks ?? 0).toLocaleString('en-US')} tasks, ${CLEAN} ${o.b}`).join('; ')} (truth ≈ ${(keptBytes(keep) + 8).toLocaleString('en-US')} B/task: the row and its slot in the list)`,
  });
  check(`tasks until the verdict: ${CLEAN} is not a leak`, bLeaks === 0, `${bLeaks} of ${sessions} sessions called ${CLEAN} a leak`);
  return data;
}

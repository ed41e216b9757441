// A queue worker with two task names in a seeded random mix, for the verdict figures of
// `npm run bench` (bench/verdicts.mjs): "smallest leak detected" in a worker and "tasks until the
// verdict". Tasks are marked with node:diagnostics_channel('taskmem:task').
//   node bench/workloads/mixed-worker.js <keepBytes> [tasks=10000 | 0 = for good] [seed=15] [shareA=0.5]
// Task `ingest` (A) keeps <keepBytes> per task as flat numbers: one array of keepBytes/8 doubles per
// task in a module-level list (JSArray 32 B + FixedDoubleArray 16 B + keepBytes, plus the list's own
// slot: 8 B, preallocated for a finite run, grown in steps when running for good). Task `lookup` (B)
// keeps nothing. Both make the same temporaries. Paced: after every 4 tasks the loop waits for a
// 1 ms timer, so 10,000 tasks take a few seconds, as a worker fed by a queue would.
// Prints `TASKMEM_BENCH {"tasks", "counts", "loopMs", "expectedBytesPerTask"}` at the end.
'use strict';

const dc = require('node:diagnostics_channel');
const { performance } = require('node:perf_hooks');
const taskChannel = dc.channel('taskmem:task');

const KEEP = Number(process.argv[2] ?? 2048);
const TASKS = Number(process.argv[3] ?? 10_000);
const SEED = Number(process.argv[4] ?? 15);
const SHARE_A = Number(process.argv[5] ?? 0.5);
const BATCH = 4;

// mulberry32: a small seeded generator, so every run sees the same mix.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const kept = TASKS > 0 ? new Array(TASKS).fill(0) : [];
let keptCount = 0;
let sink = 0;

function temporaries(seed) {
  const scratch = new Array(256);
  for (let i = 0; i < 256; i++) scratch[i] = (seed + i) * 0.5;
  const objects = [];
  for (let i = 0; i < 32; i++) objects.push({ i, v: scratch[i], w: scratch[255 - i] });
  let total = 0;
  for (const o of objects) total += o.v - o.w;
  return total;
}

function ingest(seed) {
  sink += temporaries(seed);
  const n = Math.floor(KEEP / 8);
  if (n > 0) {
    const row = new Array(n);
    for (let i = 0; i < n; i++) row[i] = seed + i + 0.25;
    if (TASKS > 0) kept[keptCount++] = row;
    else kept.push(row);
  }
}

function lookup(seed) {
  sink += temporaries(seed);
}

function runTask(name, fn, id) {
  if (taskChannel.hasSubscribers) taskChannel.publish({ phase: 'start', name, id });
  try {
    fn(id);
  } finally {
    if (taskChannel.hasSubscribers) taskChannel.publish({ phase: 'end', name, id });
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

async function main() {
  const next = random(SEED);
  const counts = { ingest: 0, lookup: 0 };
  const t0 = performance.now();
  for (let id = 0; TASKS <= 0 || id < TASKS; id++) {
    if (next() < SHARE_A) {
      counts.ingest++;
      runTask('ingest', ingest, id);
    } else {
      counts.lookup++;
      runTask('lookup', lookup, id);
    }
    if (id % BATCH === BATCH - 1) await tick();
  }
  const loopMs = performance.now() - t0;
  const n = Math.floor(KEEP / 8);
  process.stdout.write(
    `TASKMEM_BENCH ${JSON.stringify({ tasks: TASKS, counts, loopMs, expectedBytesPerTask: n > 0 ? 48 + 8 * n : 0, sink: Number.isFinite(sink) })}\n`,
  );
}

main();

// Allocation-heavy Node worker for `npm run bench`: a loop of tasks, each allocating many short-lived
// objects, arrays and strings (parse a batch of JSON records, build an index, render a summary),
// keeping almost nothing. Tasks are marked for taskmem with node:diagnostics_channel (free when no
// profiler listens). The task loop times itself and prints one line at the end:
//   TASKMEM_BENCH {"loopMs": …, "tasks": …}
// Usage: node bench/workloads/alloc-heavy.js [tasks=300] [recordsPerTask=1500]
'use strict';

const dc = require('node:diagnostics_channel');
const { performance } = require('node:perf_hooks');
const taskChannel = dc.channel('taskmem:task');

const TASKS = Number(process.argv[2] ?? process.env.TASKS ?? 300);
const RECORDS = Number(process.argv[3] ?? process.env.RECORDS ?? 1500);

// A small, steady cache (bounded): realistic, and keeps retained memory flat.
const recent = [];

function makePayload(seed) {
  const records = [];
  for (let i = 0; i < RECORDS; i++) {
    records.push({
      id: seed * RECORDS + i,
      name: `customer-${(seed * 31 + i) % 997}`,
      tags: ['a', 'b', String(i % 7)],
      amount: (i * 13.7) % 1000,
      when: 1_700_000_000_000 + i * 1000,
    });
  }
  return JSON.stringify(records);
}

function handleBatch(seed) {
  const records = JSON.parse(makePayload(seed));
  const byName = new Map();
  for (const r of records) {
    let bucket = byName.get(r.name);
    if (!bucket) byName.set(r.name, (bucket = { total: 0, count: 0, tags: new Set() }));
    bucket.total += r.amount;
    bucket.count++;
    for (const t of r.tags) bucket.tags.add(t);
  }
  const lines = [];
  for (const [name, b] of byName) lines.push(`${name}: ${b.count} orders, ${b.total.toFixed(2)} (${[...b.tags].sort().join(',')})`);
  const summary = lines.sort().join('\n');
  recent.push(summary.length);
  if (recent.length > 50) recent.shift();
  return summary.length;
}

function runTask(seed) {
  if (taskChannel.hasSubscribers) taskChannel.publish({ phase: 'start', name: 'handleBatch', id: seed });
  try {
    return handleBatch(seed);
  } finally {
    if (taskChannel.hasSubscribers) taskChannel.publish({ phase: 'end', name: 'handleBatch', id: seed });
  }
}

async function main() {
  // For the start-up figure: the first line the program prints.
  process.stdout.write('TASKMEM_BENCH_READY\n');
  const t0 = performance.now();
  let checksum = 0;
  for (let i = 0; i < TASKS; i++) {
    checksum += runTask(i);
    // A worker goes back to its event loop between jobs.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const loopMs = performance.now() - t0;
  process.stdout.write(`TASKMEM_BENCH ${JSON.stringify({ loopMs, tasks: TASKS, checksum })}\n`);
}

main();

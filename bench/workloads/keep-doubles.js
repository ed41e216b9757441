// A task that keeps a chosen number of bytes per call as flat numbers, for the "smallest leak
// detected" figure of `npm run bench` (bench/verdicts.mjs). No strings (DESIGN.md fact 13: cons
// strings and flattening move bytes around between runs).
//   taskmem task bench/workloads/keep-doubles.js#keepDoubles --args '[K]'
// With K > 0, every call keeps one array of K/8 doubles in a preallocated module-level list:
//   JSArray (32 B) + FixedDoubleArray (16 B header + K B) = K + 48 B per call (64-bit, no pointer
//   compression: Node's default build; `expectedBytesPerCall(K)`). K = 0 keeps nothing.
// Every call also makes the same temporaries whatever K is (a scratch array of 64 doubles and a few
// small objects), so the control and the leaking calls look alike to the allocator.
'use strict';

const MAX_CALLS = 100_000;
const kept = new Array(MAX_CALLS).fill(0);
let calls = 0;
let sink = 0;

function keepDoubles(bytes = 0) {
  const scratch = new Array(64);
  for (let i = 0; i < 64; i++) scratch[i] = (calls + i) * 0.5;
  const objects = [];
  for (let i = 0; i < 16; i++) objects.push({ i, v: scratch[i] });
  sink += objects.length + scratch[63];
  const n = Math.floor(bytes / 8);
  if (n > 0) {
    const row = new Array(n);
    for (let i = 0; i < n; i++) row[i] = calls + i + 0.25;
    kept[calls % MAX_CALLS] = row;
  }
  calls++;
  return calls;
}

function expectedBytesPerCall(bytes, pointerSize = 8) {
  const n = Math.floor(bytes / 8);
  return n > 0 ? 4 * pointerSize + 2 * pointerSize + 8 * n : 0;
}

module.exports = { keepDoubles, expectedBytesPerCall, sink: () => sink };

// Control: `node --expose-gc bench/workloads/keep-doubles.js K [calls]` prints the heap delta per
// call in a bare process (the truth check for expectedBytesPerCall).
if (require.main === module) {
  const k = Number(process.argv[2] ?? 64);
  const count = Number(process.argv[3] ?? 10_000);
  for (let i = 0; i < 100; i++) keepDoubles(k);
  global.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) keepDoubles(k);
  global.gc();
  const after = process.memoryUsage().heapUsed;
  process.stdout.write(`TASKMEM_BENCH ${JSON.stringify({ bytes: k, bytesPerCall: (after - before) / count, expected: expectedBytesPerCall(k) })}\n`);
}

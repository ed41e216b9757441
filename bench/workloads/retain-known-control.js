// Control measurement for retain-known.js: in a bare process (no profiler), the live V8 heap after a
// full GC before and after K calls, divided by K. Run with --expose-gc. Prints
//   TASKMEM_BENCH {"bytesPerCall": …, "expected": …, "calls": K}
'use strict';

const v8 = require('node:v8');
const { keepKnownBytes, expectedBytesPerCall } = require('./retain-known.js');

const K = Number(process.argv[2] ?? 50);
if (typeof gc !== 'function') throw new Error('run with --expose-gc');
// Warm up (compile, feedback vectors) the same way the harness's warm-up runs do.
for (let i = 0; i < 3; i++) keepKnownBytes();
const used = () => {
  gc();
  gc();
  return v8.getHeapStatistics().used_heap_size;
};
const before = used();
for (let i = 0; i < K; i++) keepKnownBytes();
const after = used();
process.stdout.write(`TASKMEM_BENCH ${JSON.stringify({ bytesPerCall: (after - before) / K, expected: expectedBytesPerCall(), calls: K })}\n`);

// A long-running process with a big heap of small objects, for the "why retained" bench
// (`node bench/run.mjs --only why`): COUNT objects `{ id, name, tags: [i, i + 1] }` kept on
// globalThis (1.5 million: ~250 MB of heap, ~6 million snapshot nodes), and a timer that keeps
// 1,000 more objects in a Map every 100 ms, so that a diff of two snapshots has something to find.
// The Map keeps the newest WINDOW entries only: the heap stays the same size for the whole bench
// (every variant of a round reads the same process), while each new entry is still new to a diff.
//
//   node --inspect=127.0.0.1:0 bench/workloads/big-heap.js [count]
// Prints `TASKMEM_BIGHEAP_READY {…}` when the heap is built; exits by itself after 20 minutes.
'use strict';

const COUNT = Number(process.argv[2] ?? 1_500_000);
const PER_TICK = 1000;
const WINDOW = 50_000;

globalThis.bigHeapItems = [];
for (let i = 0; i < COUNT; i++) globalThis.bigHeapItems.push({ id: i, name: `item-${i}`, tags: [i, i + 1] });

const recentItems = new Map();
let next = 0;
function keepMore(count) {
  for (let k = 0; k < count; k++, next++) {
    recentItems.set(next, { id: next, name: `recent-${next}`, tags: [next, next + 1] });
    // Map iterates in insertion order: the first key is the oldest.
    if (recentItems.size > WINDOW) recentItems.delete(recentItems.keys().next().value);
  }
}
// Full from the start, so the heap is already at its steady size when the bench reads it.
keepMore(WINDOW);
setInterval(() => keepMore(PER_TICK), 100);

// Never outlive a bench that died without killing it.
setTimeout(() => process.exit(0), 20 * 60_000).unref();

const { heapUsed } = process.memoryUsage();
console.log(`TASKMEM_BIGHEAP_READY ${JSON.stringify({ count: COUNT, heapUsedMiB: Math.round(heapUsed / 2 ** 20) })}`);

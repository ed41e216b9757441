// A task on a realistic heap, for the harness wall-time figure of `npm run bench`: the module keeps
// a catalogue of small objects and strings (HEAP_MIB, default 24 MiB, so one full GC costs what it
// costs on a service's heap), and `handleOrder` does a few milliseconds of ordinary work per call
// (parse, look up, format, serialize) from a dozen functions, keeping one small entry per call in a
// cache (a slow leak of ~200 B per call).
//
//   taskmem task bench/workloads/realistic-heap.js#handleOrder --runs 200 --warmup 10
//   node --expose-gc bench/workloads/realistic-heap.js [calls]   # bare: each call and one full GC, timed
// TASKMEM_BENCH_HEAP_MIB and TASKMEM_BENCH_LINES change the heap and the work per call.
'use strict';

const HEAP_MIB = Number(process.env.TASKMEM_BENCH_HEAP_MIB ?? 24);
const LINES_PER_ORDER = Number(process.env.TASKMEM_BENCH_LINES ?? 5000);

// About 400 B per product with its strings (a description of ~240 characters): HEAP_MIB of them,
// reachable for good.
const PRODUCT_COUNT = Math.round((HEAP_MIB * 1024 * 1024) / 400);
const catalogue = new Map();
for (let i = 0; i < PRODUCT_COUNT; i++) {
  const sku = `SKU-${i.toString(36)}`;
  catalogue.set(i, { sku, price: (i % 997) + 0.99, tags: i % 7 === 0 ? ['sale'] : undefined, description: `${sku} `.repeat(24).slice(0, 240 - (i % 13)) });
}

const recentTotals = new Map();
let orderNumber = 0;

function makeOrderText(n) {
  const lines = [];
  for (let i = 0; i < LINES_PER_ORDER; i++) {
    lines.push({ product: (n * 7919 + i * 104729) % PRODUCT_COUNT, quantity: 1 + ((n + i) % 5), note: `line ${i} of order ${n}` });
  }
  return JSON.stringify({ id: n, customer: `customer-${n % 1000}`, lines });
}

function parseOrder(text) {
  return JSON.parse(text);
}

function priceLine(line) {
  const product = catalogue.get(line.product);
  const discount = product.tags?.includes('sale') ? 0.9 : 1;
  return { sku: product.sku, quantity: line.quantity, amount: Math.round(product.price * line.quantity * discount * 100) / 100 };
}

function formatLine(priced) {
  return `${priced.sku.padEnd(12)} x${priced.quantity} ${priced.amount.toFixed(2).padStart(10)}`;
}

function summarize(priced) {
  const byQuantity = new Map();
  for (const line of priced) byQuantity.set(line.quantity, (byQuantity.get(line.quantity) ?? 0) + line.amount);
  return [...byQuantity.entries()].sort((a, b) => a[0] - b[0]);
}

function render(order, priced, summary) {
  const body = priced.map(formatLine).join('\n');
  const words = body.split(/\s+/).filter((word) => /^SKU-/.test(word));
  return { header: `Order ${order.id} for ${order.customer}`, body, summary, skus: words.length };
}

// The bench's harness figure reads when each call started (the harness forwards the task's output).
const STAMPS = process.env.TASKMEM_BENCH_STAMPS === '1';

function handleOrder() {
  if (STAMPS) process.stdout.write(`TASKMEM_STAMP ${performance.timeOrigin + performance.now()}\n`);
  const n = orderNumber++;
  const order = parseOrder(makeOrderText(n));
  const priced = order.lines.map(priceLine);
  const summary = summarize(priced);
  const invoice = render(order, priced, summary);
  const total = priced.reduce((sum, line) => sum + line.amount, 0);
  // The leak: every order's total stays in the cache (a string key and a small object).
  recentTotals.set(`order-${n}`, { total, lines: priced.length });
  return JSON.stringify(invoice).length;
}

module.exports = { handleOrder };

if (require.main === module) {
  // Bare: each call then one full GC, the floor of a harness run (node --expose-gc).
  const calls = Number(process.argv[2] ?? 50);
  if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
  for (let i = 0; i < 10; i++) handleOrder();
  globalThis.gc();
  let callMs = 0;
  let gcMs = 0;
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    handleOrder();
    const t1 = performance.now();
    globalThis.gc();
    callMs += t1 - t0;
    gcMs += performance.now() - t1;
  }
  const perRun = (performance.now() - started) / calls;
  console.log(
    `TASKMEM_BENCH ${JSON.stringify({ calls, perRunMs: perRun, callMs: callMs / calls, gcMs: gcMs / calls, heapUsed: process.memoryUsage().heapUsed })}`,
  );
}

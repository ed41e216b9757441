// A queue worker's job handler with a classic leak: a module-level cache keyed by job id that
// nothing ever evicts. Each job also builds temporaries that are freed, as real jobs do.
'use strict';

const seenCustomers = new Map();
let jobNumber = 0;

function enrichOrder(order) {
  // Kept forever: one entry per job, ~20 KiB each.
  const history = new Array(2500).fill(0).map((_, i) => order.id * 31 + i);
  seenCustomers.set(`customer-${order.id}`, { order, history });
  return history.length;
}

function renderInvoice(order) {
  // Temporaries: allocated and dropped every job.
  const lines = [];
  for (let i = 0; i < 2000; i++) lines.push(`item ${i} for order ${order.id}`);
  return lines.join('\n').length;
}

function handleJob() {
  const order = { id: ++jobNumber, total: jobNumber * 3 };
  return enrichOrder(order) + renderInvoice(order);
}

module.exports = { handleJob };

// A long-running worker that marks its tasks for taskmem with node:diagnostics_channel.
// Without the profiler `hasSubscribers` is false and the marks cost nothing.
//   npx taskmem run --max-tasks 40 --gc-budget 100 --sampling-interval 32768 -- node examples/node/queue-worker.js
// (a short run: measure every task and sample finely; long-running workers keep the defaults)
'use strict';

const diagnostics = require('node:diagnostics_channel');
const taskChannel = diagnostics.channel('taskmem:task');

const sentEmails = [];

function sendEmail(job) {
  // Leak: every sent email's rendered lines are kept for "auditing" (~28 KB each).
  const lines = new Array(3500).fill(job.id);
  sentEmails.push({ id: job.id, lines });
}

function resizeImage(job) {
  // Clean: a big temporary buffer of numbers, dropped after the task.
  const pixels = new Array(20_000).fill(job.id);
  return pixels.reduce((a, b) => a + b, 0);
}

const handlers = { sendEmail, resizeImage };

function runTask(name, job) {
  if (taskChannel.hasSubscribers) taskChannel.publish({ phase: 'start', name, id: job.id });
  try {
    handlers[name](job);
  } finally {
    if (taskChannel.hasSubscribers) taskChannel.publish({ phase: 'end', name, id: job.id });
  }
}

let id = 0;
const maxJobs = Number(process.env.JOBS ?? Infinity);
const timer = setInterval(() => {
  id++;
  runTask(id % 2 ? 'sendEmail' : 'resizeImage', { id });
  if (id >= maxJobs) clearInterval(timer);
}, Number(process.env.JOB_INTERVAL_MS ?? 20));

// Request-heavy Node HTTP server for `npm run bench`: a plain `http` server (no task marks: under
// taskmem each request is a task through Node's http diagnostics channels) and, in the same
// process, a keep-alive client sending REQUESTS requests, CONCURRENCY at a time, over three routes
// (a small JSON API: list, item, health). The request loop times itself and prints one line:
//   TASKMEM_BENCH {"loopMs": …, "tasks": …, "steadyMs": …, "steadyTasks": …}
// steadyMs times the last two thirds of the requests only: a server's steady state, after the
// start-up a profiler pays once (the first measurements and captures).
// Usage: node bench/workloads/http-server.js [requests=20000] [concurrency=8]
'use strict';

const http = require('node:http');
const { performance } = require('node:perf_hooks');

const REQUESTS = Number(process.argv[2] ?? 20_000);
const CONCURRENCY = Number(process.argv[3] ?? 8);

function list(page) {
  const items = [];
  for (let i = 0; i < 20; i++) items.push({ id: page * 20 + i, name: `item-${page}-${i}`, price: (i * 7.3) % 100 });
  return JSON.stringify({ page, items });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  let body;
  if (url.pathname === '/items') body = list(Number(url.searchParams.get('page') ?? 0));
  else if (url.pathname.startsWith('/items/')) body = JSON.stringify({ id: url.pathname.slice(7), ok: true });
  else body = 'ok';
  res.setHeader('content-type', 'application/json');
  res.end(body);
});
server.keepAliveTimeout = 60_000;

const paths = (i) => (i % 3 === 0 ? `/items?page=${i % 50}` : i % 3 === 1 ? `/items/${i}` : '/health');

server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const get = (path) =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent }, (response) => {
          let length = 0;
          response.on('data', (chunk) => (length += chunk.length));
          response.on('end', () => resolve(length));
        })
        .on('error', reject);
    });
  process.stdout.write('TASKMEM_BENCH_READY\n');
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  let checksum = 0;
  const steadyFrom = Math.floor(REQUESTS / 3);
  let steadyStart = t0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        checksum += await get(paths(next++));
        if (++done === steadyFrom) steadyStart = performance.now();
      }
    }),
  );
  const end = performance.now();
  const loopMs = end - t0;
  const bench = { loopMs, tasks: REQUESTS, steadyMs: end - steadyStart, steadyTasks: REQUESTS - steadyFrom, checksum };
  process.stdout.write(`TASKMEM_BENCH ${JSON.stringify(bench)}\n`);
  agent.destroy();
  server.close();
});

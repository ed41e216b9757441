/**
 * Tasks without code changes: a plain Node HTTP server with no task marks, driven by real requests
 * from this process (keep-alive, four at a time). Each request is a task named by method and route
 * (Node's http diagnostics channels); the leaking route is called a leak, the clean ones are not.
 */
import { strict as assert } from 'node:assert';
import type { TaskmemReport } from '../../src/core/report';
import { ProfilingSession } from '../../src/session/session';
import { drive, type LoadRoute } from '../support/httpLoad';
import { fixture, repoRoot } from './helpers';

const ROUTES: LoadRoute[] = [
  { method: 'POST', path: () => '/login', body: 'alice' },
  { method: 'GET', path: (i) => `/users/${i % 5000}` },
  { method: 'GET', path: () => '/health' },
];

describe('HTTP requests as tasks, no code changes (real Node server)', function () {
  this.timeout(150_000);

  it('POST /login keeps ~2.1 KB per request: a leak named by its route; GET /users/:id and GET /health are not', async () => {
    let output = '';
    let resolvePort: (port: number) => void = () => undefined;
    const portSeen = new Promise<number>((resolve) => (resolvePort = resolve));
    const session = new ProfilingSession({
      mode: 'worker',
      cwd: repoRoot,
      command: [process.execPath, fixture('node', 'http/login-server.js')],
      // A number of requests, not a duration: the same evidence however fast the machine serves them.
      maxTasks: 12_000,
      onOutput: (_stream, chunk) => {
        output += chunk.toString();
        const match = /listening (\d+)/.exec(output);
        if (match) resolvePort(Number(match[1]));
      },
    });
    await session.start();
    const port = await Promise.race([portSeen, session.done.then(() => Promise.reject(new Error(`the server ended: ${output}`)))]);
    const [sent, report] = await Promise.all([drive(port, ROUTES, session.done), session.done as Promise<TaskmemReport>]);
    const byName = new Map(report.tasks.map((task) => [task.name, task]));
    const summary = report.tasks.map((task) => `${task.name}: ${task.verdict} ${task.bytesPerRun} B/run over ${task.runs}`).join(' | ');
    console.log(`      [http server] ${sent} requests; ${summary}`);
    assert.ok(sent >= 12_000, `requests sent: ${sent}`);
    const login = byName.get('POST /login');
    const users = byName.get('GET /users/:id');
    const health = byName.get('GET /health');
    assert.ok(login && users && health, summary);
    assert.equal(login.verdict, 'leak', summary);
    // Truth: 2,179 B per login (fixture); the split between routes is less exact than the sum.
    assert.ok(login.bytesPerRun > 1100 && login.bytesPerRun < 4400, summary);
    assert.notEqual(users.verdict, 'leak', summary);
    assert.notEqual(health.verdict, 'leak', summary);
    assert.equal(report.verdict.kind, 'leak', report.verdict.summary);
    assert.match(report.verdict.summary, /POST \/login/);
    assert.ok(
      report.notes.some((note) => note.startsWith('Tasks are the HTTP requests the server handled')),
      report.notes.join('\n'),
    );
  });
});

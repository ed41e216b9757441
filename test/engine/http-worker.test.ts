/**
 * Tasks without code changes: a plain Node HTTP server with no task marks, driven by real requests
 * from this process (keep-alive, four at a time). Each request is a task named by method and route
 * (Node's http diagnostics channels); the leaking route is called a leak, the clean ones are not.
 */
import { strict as assert } from 'node:assert';
import { drive, type LoadRoute } from '../support/httpLoad';
import { fixture, profileHttpServer } from './helpers';

const ROUTES: LoadRoute[] = [
  { method: 'POST', path: () => '/login', body: 'alice' },
  { method: 'GET', path: (i) => `/users/${i % 5000}` },
  { method: 'GET', path: () => '/health' },
];

describe('HTTP requests as tasks, no code changes (real Node server)', function () {
  this.timeout(150_000);

  it('POST /login keeps ~2.1 KB per request: the leak is charged to its route (alone, or with the routes it cannot be split from); GET /users/:id and GET /health are never a leak alone', async () => {
    const { sent, report } = await profileHttpServer(fixture('node', 'http/login-server.js'), 12_000, (port, done) => drive(port, ROUTES, done));
    const byName = new Map(report.tasks.map((task) => [task.name, task]));
    const summary = report.tasks.map((task) => `${task.name}: ${task.verdict} ${task.bytesPerRun} B/run over ${task.runs}`).join(' | ');
    console.log(`      [http server] ${sent} requests; ${summary}`);
    assert.ok(sent >= 12_000, `requests sent: ${sent}`);
    const login = byName.get('POST /login');
    const users = byName.get('GET /users/:id');
    const health = byName.get('GET /health');
    assert.ok(login && users && health, summary);
    // The leak is charged to POST /login: alone, or in the row of the routes whose counts move with it
    // when the checkpoints cannot split a random mix precisely (fewer of them on a slow machine; the
    // row then says the worker leaks and that it cannot tell which route). Never to a clean route alone.
    const leaks = report.tasks.filter((task) => task.verdict === 'leak');
    assert.equal(leaks.length, 1, summary);
    assert.ok(leaks[0].name.split(' + ').includes('POST /login'), summary);
    // Truth: 2,179 B per login (fixture): what the row keeps in all must match it.
    const kept = leaks[0].bytesPerRun * leaks[0].runs;
    assert.ok(kept > 0.5 * 2179 * login.runs && kept < 2 * 2179 * login.runs, `${Math.round(kept)} B kept for ${login.runs} logins: ${summary}`);
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

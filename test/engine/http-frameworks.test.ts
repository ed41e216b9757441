/**
 * Tasks without code changes in real Express (5 and 4) and Fastify apps under a bounded load: each
 * request is named by the framework's route pattern (a nested router or prefix included), not by
 * its raw path; the worker is a leak led by its site. With named route handlers (as controllers
 * are) the leaking route alone is the leak: the process tells the session each route's handlers,
 * which are on the growing site's stack. With inline arrow handlers it is charged to the leaking
 * route alone or with the routes whose counts move with it, never to the clean ones alone: three
 * routes in a seeded random mix finish in nearly fixed proportions, so the checkpoints cannot split
 * the growth between them, and requests measured one by one overlap others (four at a time). The
 * report then says the worker leaks and which routes it cannot tell apart.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import type { TaskmemReport } from '../../src/core/report';
import { drive, type LoadRoute } from '../support/httpLoad';
import { fixture, profileHttpServer } from './helpers';

const JSON_BODY = { body: '{"device":"phone"}', headers: { 'content-type': 'application/json' } };
/** User names, not ids: the raw path (`/api/users/user7/sessions`) does not collapse to the route. */
const ROUTES: LoadRoute[] = [
  { method: 'POST', path: (i) => `/api/users/user${i % 50}/sessions`, ...JSON_BODY },
  { method: 'GET', path: (i) => `/api/users/user${i % 50}` },
  { method: 'GET', path: () => '/health' },
];
const SESSIONS_FILE = fixture('node', 'frameworks', 'sessions.js');

/** Line of `function name(` in a fixture: a Node site is the allocating function's start. */
function lineOf(file: string, name: string): number {
  return (
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((line) => line.startsWith(`function ${name}(`)) + 1
  );
}

function profileApp(app: string, env: Record<string, string> = {}): Promise<{ sent: number; report: TaskmemReport }> {
  return profileHttpServer(fixture('node', 'frameworks', app), 12_000, (port, done) => drive(port, ROUTES, done), env);
}

/**
 * The top site is openSession at its line, or the handler that calls it when V8 inlined openSession
 * there: worker mode runs without --precise (--no-turbo-inlining) by default, and a site may then hold
 * its inlined callees (README, "Precise attribution"). Node sites are a function's first line, so the
 * handler's site is within a few lines of its `openSession(` call.
 */
function assertSiteAtOpenSession(top: TaskmemReport['sites'][number], report: TaskmemReport): void {
  const where = JSON.stringify(report.sites.slice(0, 3).map((site) => [site.function, site.file, site.line]));
  if (top.file === SESSIONS_FILE) {
    assert.deepEqual([top.function, top.line], ['openSession', lineOf(SESSIONS_FILE, 'openSession')], where);
    return;
  }
  assert.ok(/frameworks\/(express|fastify)-app\.js$/.test(top.file), where);
  const lines = fs.readFileSync(top.file, 'utf8').split('\n');
  assert.ok(
    lines.slice(top.line - 1, top.line + 2).some((line) => line.includes('openSession(')),
    `the top site's function does not call openSession: ${where}`,
  );
}

function check(label: string, sent: number, report: TaskmemReport, alone: boolean): void {
  const byName = new Map(report.tasks.map((task) => [task.name, task]));
  const summary = report.tasks.map((task) => `${task.name}: ${task.verdict} ${Math.round(task.bytesPerRun)} B/run over ${task.runs}`).join(' | ');
  const top = report.sites[0];
  console.log(`      [${label}] ${sent} requests; ${summary}; top site ${top?.function} ${top?.file}:${top?.line}`);
  assert.ok(sent >= 12_000, `requests sent: ${sent}`);
  const leaking = 'POST /api/users/:name/sessions';
  const sessions = byName.get(leaking);
  assert.ok(sessions && byName.has('GET /api/users/:name') && byName.has('GET /health'), `route patterns expected: ${summary}`);
  assert.ok(!report.tasks.some((task) => /user\d/.test(task.name)), `a raw path became a task: ${summary}`);
  assert.equal(report.verdict.kind, 'leak', report.verdict.summary);
  const leaks = report.tasks.filter((task) => task.verdict === 'leak');
  // The leak is charged to the leaking route: alone, or in the row of the routes that move with it.
  assert.equal(leaks.length, 1, summary);
  if (alone) assert.equal(leaks[0].name, leaking, summary);
  else assert.ok(leaks[0].name.split(' + ').includes(leaking), summary);
  // Truth: about 2.2 KB per session (sessions.js, as login-server.js measures): what the row keeps in all must match.
  const kept = leaks[0].bytesPerRun * leaks[0].runs;
  assert.ok(kept > 0.5 * 2200 * sessions.runs && kept < 2 * 2200 * sessions.runs, `${Math.round(kept)} B kept for ${sessions.runs} sessions: ${summary}`);
  assert.ok(top, 'no retained site');
  assertSiteAtOpenSession(top, report);
  assert.match(report.taskSource ?? '', /^HTTP requests/);
}

describe('HTTP framework routes as tasks, no code changes (real Express and Fastify apps)', function () {
  this.timeout(180_000);

  it('Express 5: POST /api/users/:name/sessions (nested router, named handlers) is the leak, named by its route', async () => {
    const { sent, report } = await profileApp('express-app.js', { EXPRESS_MODULE: 'express' });
    check('express 5', sent, report, true);
  });

  it('Express 4: the same app, the same route names', async () => {
    const { sent, report } = await profileApp('express-app.js', { EXPRESS_MODULE: 'express4' });
    check('express 4', sent, report, true);
  });

  it('Fastify 5: routes under a prefix, named by their route (its handler channel)', async () => {
    const { sent, report } = await profileApp('fastify-app.js');
    check('fastify', sent, report, true);
  });

  it('Express 5 with inline arrow handlers: the leak is charged to the leaking route, alone or with the others', async () => {
    const { sent, report } = await profileApp('express-app.js', { EXPRESS_MODULE: 'express', INLINE_HANDLERS: '1' });
    check('express 5 inline', sent, report, false);
  });
});

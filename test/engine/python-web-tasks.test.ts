/**
 * Tasks without code changes, Python web apps (issue 17): a Flask app and a Django app on their
 * threaded dev servers, no task marks in their code, driven by a fixed number of real requests
 * (a seeded random mix, a few at a time). Each request is a task named by method and route from the
 * framework's request signals; the leaking view is a leak on its line, the clean one is not.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { TaskmemReport } from '../../src/core/report';
import { ProfilingSession } from '../../src/session/session';
import { freePort, lineOf } from '../fixtures/python/session-kit';
import { fixture } from './helpers';
import { sendRequests, type LoadRoute } from './httpLoad';

const PYTHON = '/usr/bin/python3';
const dir = fixture('python', 'web');
/**
 * Requests per session: a count, not a duration. Tracing gets about 10% of the wall time (the
 * default budget) and traces only requests that can run alone, so a server that answers fast needs
 * more requests for the same traced runs. Here Flask's dev server answered 8,000 in 21-57 s (87-118
 * traced runs per route); Django's runserver, slower per request (~60 a second, bare too), 2,000 in
 * 38-40 s (84-118).
 */
const FLASK_REQUESTS = 8000;
const DJANGO_REQUESTS = 2000;
const CONCURRENCY = 3;

function describeTasks(report: TaskmemReport): string {
  return report.tasks.map((t) => `${t.name}: ${t.verdict} over ${t.runs} traced runs, ${Math.round(t.bytesPerRun)} B/run`).join(' | ');
}

async function serve(command: string[], routes: LoadRoute[], requests: number): Promise<{ report: TaskmemReport; output: string; perRoute: number[] }> {
  let output = '';
  const session = new ProfilingSession({
    mode: 'worker',
    cwd: dir,
    command,
    onOutput: (_stream, chunk) => {
      output += chunk.toString();
    },
  });
  await session.start();
  try {
    const port = Number(command.at(-1)?.split(':').at(-1));
    // The server is up once it answers; the first answers come before any load is measured.
    for (let i = 0; i < 300; i++) {
      const probe = await sendRequests(port, [{ method: 'GET', path: () => '/ping' }], 1, 1);
      if (!probe.failures.some((failure) => /ECONNREFUSED/.test(failure))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const started = Date.now();
    const { perRoute, failures } = await sendRequests(port, routes, requests, CONCURRENCY);
    const seconds = (Date.now() - started) / 1000;
    assert.deepEqual(failures, [], output);
    await session.stop(`${requests} requests answered`);
    const report = await session.done;
    console.log(`      ${requests} requests in ${seconds.toFixed(1)} s: ${describeTasks(report)}`);
    return { report, output, perRoute };
  } finally {
    if (session.state === 'running') await session.stop('test ended');
  }
}

function assertVerdicts(report: TaskmemReport, leakyName: string, cleanName: string, file: string): void {
  const byName = new Map(report.tasks.map((task) => [task.name, task]));
  const leaky = byName.get(leakyName);
  const clean = byName.get(cleanName);
  assert.ok(leaky && clean, describeTasks(report));
  assert.equal(leaky.verdict, 'leak', describeTasks(report));
  // The token is 8,100 B of str (fixture), and the list's slots.
  assert.ok(leaky.bytesPerRun > 6_000 && leaky.bytesPerRun < 12_000, describeTasks(report));
  assert.notEqual(clean.verdict, 'leak', describeTasks(report));
  const top = report.sites[0];
  const where = report.sites
    .slice(0, 5)
    .map((s) => `${path.basename(s.file)}:${s.line} ${s.function} ${s.retainedBytes} B`)
    .join('\n');
  assert.ok(top, describeTasks(report));
  assert.equal(path.basename(top.file), path.basename(file), where);
  assert.equal(top.line, lineOf(file, '# LEAK'), where);
}

describe('Python web requests as tasks, no code changes (real Flask and Django dev servers)', function () {
  this.timeout(360_000);

  before(() => {
    const probe = spawnSync(PYTHON, ['-c', 'import flask, django'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: '' } });
    assert.equal(probe.status, 0, `${PYTHON} with flask and django is required (apt-get install python3-flask python3-django): ${probe.stderr}`);
  });

  it('Flask: POST /login/<int:user_id> keeps ~8 KB a request, a leak on its line; GET /users/<int:user_id> is not', async () => {
    const port = await freePort();
    const file = path.join(dir, 'flask_shop.py');
    const { report } = await serve(
      [PYTHON, file, String(port)],
      [
        { method: 'POST', path: (i) => `/login/${i}` },
        { method: 'GET', path: (i) => `/users/${i}` },
      ],
      FLASK_REQUESTS,
    );
    assertVerdicts(report, 'POST /login/<int:user_id>', 'GET /users/<int:user_id>', file);
    assert.ok(
      report.notes.some((note) => note.includes("Python tasks came from Flask's request signals")),
      report.notes.join('\n'),
    );
    // Node's note about its http channels is not a Python server's (it was, through the task counts).
    assert.ok(!report.notes.some((note) => note.includes("Node's http diagnostics channels")), report.notes.join('\n'));
  });

  it('Django: POST /login/<int:user_id>/ keeps ~8 KB a request, a leak on its line; GET /users/<int:user_id>/ is not', async () => {
    const port = await freePort();
    const file = path.join(dir, 'django_shop.py');
    const { report } = await serve(
      [PYTHON, file, 'runserver', '--noreload', `127.0.0.1:${port}`],
      [
        { method: 'POST', path: (i) => `/login/${i}/` },
        { method: 'GET', path: (i) => `/users/${i}/` },
      ],
      DJANGO_REQUESTS,
    );
    assertVerdicts(report, 'POST /login/<int:user_id>/', 'GET /users/<int:user_id>/', file);
    assert.ok(
      report.notes.some((note) => note.includes("Python tasks came from Django's request signals")),
      report.notes.join('\n'),
    );
    // Node's note about its http channels is not a Python server's (it was, through the task counts).
    assert.ok(!report.notes.some((note) => note.includes("Node's http diagnostics channels")), report.notes.join('\n'));
  });
});

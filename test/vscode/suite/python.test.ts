// Python and Celery through the extension in a real VS Code: the interpreter check, Profile Function
// on examples/python/jobs.py#import_rows (exact-line sites, panel, annotations), and a Celery
// worker started through Profile Task with its "Celery worker" choice on a real redis-server.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { celeryWorkerChoices } from '../../../src/extension/celery';
import type { TaskMemoryApi } from '../../../src/extension/extension';
import { PYTHON_EXTENSION_ID, pythonInterpreterFor, resolvePythonInterpreter } from '../../../src/extension/python';
import { Commands } from '../../../src/extension/sessionRegistry';
import type { ProfilingSessionApi } from '../../../src/session/api';
import { EXTENSION_ID } from '../config';
import { testConfig, waitFor } from './testConfig';

const PYTHON = '/usr/bin/python3';
const REDIS = '/usr/bin/redis-server';

async function api(): Promise<TaskMemoryApi> {
  const ext = vscode.extensions.getExtension<TaskMemoryApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} not found`);
  const exported = await ext.activate();
  assert.ok(exported?.sessions && exported.annotations, 'activate() returns { sessions, annotations }');
  return exported;
}

/** Sets a global taskMemory setting for the test; returns what puts the previous value back. */
async function setGlobal(key: string, value: unknown): Promise<() => Promise<void>> {
  const config = vscode.workspace.getConfiguration('taskMemory');
  const previous = config.inspect(key)?.globalValue;
  await config.update(key, value, vscode.ConfigurationTarget.Global);
  return () => Promise.resolve(vscode.workspace.getConfiguration('taskMemory').update(key, previous, vscode.ConfigurationTarget.Global));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One PING over the redis protocol; true on +PONG. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

describe('Python and Celery', function () {
  this.timeout(90_000);
  const repo = testConfig().repoRoot;
  const jobs = path.join(repo, 'examples/python/jobs.py');
  const appDir = path.join(repo, 'examples/python/celery_app');
  const restore: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const undo of restore.splice(0).reverse()) await undo();
  });

  it('resolves the interpreter: the setting first, else the Python extension, else python3', async () => {
    const uri = vscode.Uri.file(jobs);
    restore.push(await setGlobal('pythonPath', PYTHON));
    assert.deepEqual(await resolvePythonInterpreter(uri), { path: PYTHON, source: 'setting' });
    const checked = await pythonInterpreterFor(uri);
    assert.ok(checked.version[0] === 3 && checked.version[1] >= 8, `version ${checked.version.join('.')}`);

    await vscode.workspace.getConfiguration('taskMemory').update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
    const fallback = await resolvePythonInterpreter(uri);
    if (vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) assert.equal(fallback.source, 'python-extension');
    else assert.deepEqual(fallback, { path: 'python3', source: 'default' });
  });

  it('a missing or too old interpreter refuses to start and names taskMemory.pythonPath', async () => {
    const taskMemory = await api();
    const uri = vscode.Uri.file(jobs);
    const missing = path.join(testConfig().tmpDir, 'no-such-python');
    restore.push(await setGlobal('pythonPath', missing));
    await assert.rejects(
      pythonInterpreterFor(uri),
      (error: Error) => /was not found/.test(error.message) && /taskMemory\.pythonPath/.test(error.message) && error.message.includes(missing),
    );
    const before = taskMemory.sessions.all.length;
    const result = await vscode.commands.executeCommand(Commands.ProfileFunction, uri, 'import_rows');
    assert.equal(result, undefined, 'no session with a missing interpreter');
    assert.equal(taskMemory.sessions.all.length, before, 'nothing was started');

    const old = path.join(testConfig().tmpDir, 'python36');
    fs.writeFileSync(old, '#!/bin/sh\necho "(3, 6)"\n', { mode: 0o755 });
    await vscode.workspace.getConfiguration('taskMemory').update('pythonPath', old, vscode.ConfigurationTarget.Global);
    await assert.rejects(
      pythonInterpreterFor(uri),
      (error: Error) => /Python 3\.6; Task Memory needs 3\.8 or newer/.test(error.message) && /taskMemory\.pythonPath/.test(error.message),
    );
  });

  it('Profile Function on jobs.py#import_rows: leak on the exact line, a panel, the line annotated', async () => {
    const taskMemory = await api();
    restore.push(await setGlobal('pythonPath', PYTHON));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(jobs));
    const result = await vscode.commands.executeCommand(Commands.ProfileFunction, vscode.Uri.file(jobs), 'import_rows');
    const session = taskMemory.sessions.all.find((s) => s === result);
    assert.ok(session, 'Profile Function returned the session');
    assert.equal(session.options.harness?.runtime, 'python');
    assert.equal(session.options.pythonPath, PYTHON);
    assert.ok(taskMemory.hasPanel(session.id), 'a memory panel opens with the session');

    const report = await session.done;
    assert.equal(report.endReason, 'completed');
    assert.equal(report.verdict.kind, 'leak', report.verdict.summary);
    const top = report.sites[0];
    assert.ok(top, 'retaining sites were captured');
    assert.equal(top.file, jobs);
    assert.equal(top.precision, 'line');
    const source = fs.readFileSync(jobs, 'utf8').split('\n');
    const appending = source.findIndex((line) => /_seen_rows\[i\] = /.test(line)) + 1;
    assert.equal(top.line, appending, `line ${top.line}: ${source[top.line - 1]}`);
    assert.ok(taskMemory.hasPanel(session.id), 'the panel stays with the results');

    const mark = await waitFor('an annotation on the appending line', () =>
      taskMemory.annotations.modelFor(jobs).find((a) => a.line === appending - 1 && a.kind === 'site'),
    );
    assert.equal(mark.capturedLine, appending);
    assert.equal(mark.sites[0]?.precision, 'line');
    assert.match(mark.text, /kept/);
  });

  describe('a Celery worker on redis', () => {
    let redis: ChildProcess | undefined;
    let broker = '';

    before(async function () {
      const usable = fs.existsSync(PYTHON) && fs.existsSync(REDIS) && spawnSync(PYTHON, ['-c', 'import celery, redis'], { stdio: 'ignore' }).status === 0;
      assert.ok(usable, `${PYTHON} with celery+redis and ${REDIS} are required (apt-get install python3-celery python3-redis redis-server)`);
      const port = await freePort();
      redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      broker = `redis://127.0.0.1:${port}/0`;
      for (let i = 0; i < 50; i++) {
        if (await redisPing(port)) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error('redis-server did not start');
    });

    after(() => {
      redis?.kill('SIGKILL');
    });

    it('Profile Task with "celery -A tasks worker -P prefork -c 2" names tasks.send_welcome_email as the leak', async () => {
      const taskMemory = await api();
      restore.push(await setGlobal('pythonPath', PYTHON), await setGlobal('pythonSampleEvery', 2));
      const file = path.join(appDir, 'tasks.py');
      const [prefork] = celeryWorkerChoices(file, fs.readFileSync(file, 'utf8'), 'python3');
      assert.ok(prefork && prefork.kind === 'worker' && prefork.label === 'celery -A tasks worker -P prefork -c 2', JSON.stringify(prefork));
      const choice = { ...prefork, env: { CELERY_BROKER_URL: broker } };

      const result = await vscode.commands.executeCommand(Commands.ProfileTask, choice);
      const session = taskMemory.sessions.all.find((s): s is ProfilingSessionApi => s === result);
      assert.ok(session, 'Profile Task returned the session');
      try {
        assert.equal(session.options.mode, 'worker');
        assert.deepEqual(session.options.command?.slice(0, 5), [PYTHON, '-m', 'celery', '-A', 'tasks'], 'the resolved interpreter runs the worker');
        assert.equal(session.options.env?.CELERY_BROKER_URL, broker);
        assert.equal(session.options.pythonSampleEvery, 2);
        assert.ok(taskMemory.hasPanel(session.id), 'a memory panel opens with the session');
        // The master and both prefork children report in before tasks are queued.
        await waitFor('the master and two children', () => session.targets.length >= 3);

        // 12 of each gave both names 3 traced runs in one clean-clone CI run (5-6 expected with one
        // task in two traced; 5-6 in every run by hand, loaded or not). The cause was not found: more
        // tasks, not a looser verdict, and a failure says how many runs each child traced.
        const each = 20;
        const producer = spawnSync(PYTHON, ['send_tasks.py', String(each)], {
          cwd: appDir,
          env: { ...process.env, CELERY_BROKER_URL: broker, PYTHONPATH: '' },
          encoding: 'utf8',
          timeout: 20_000,
        });
        assert.equal(producer.status, 0, producer.stderr);
        // Every finished task counts; only the sampled ones are runs of a summary.
        await waitFor(`${each * 2} finished tasks`, () => session.finishedTasks >= each * 2, 30_000);
        await vscode.commands.executeCommand(Commands.Stop, session.id);
        const report = await session.done;
        assert.equal(report.endReason, 'stopped by user');
        const byName = new Map(report.tasks.map((t) => [t.name, t]));
        const tracedByChild = report.tasks.map((t) => {
          const perTarget = new Map<string, number>();
          for (const run of t.series) perTarget.set(run.targetId ?? '?', (perTarget.get(run.targetId ?? '?') ?? 0) + 1);
          return `${t.name}: ${[...perTarget].map(([id, n]) => `${id} ${n}`).join(', ')}`;
        });
        const leaky = byName.get('tasks.send_welcome_email');
        assert.ok(leaky, `tasks: ${[...byName.keys()].join(', ')}`);
        assert.equal(leaky.verdict, 'leak', `${leaky.summary}\ntraced runs per target: ${tracedByChild.join('; ')}`);
        // Never a leak. Profile Task runs Celery at INFO, where the success log's keyword dict, freed
        // into CPython's free list and taken back by what runs next, can read as ~120 B kept per run
        // (inconclusive in 3 of 8 sessions): a fix tried (a frozen heap) was withdrawn; see CHANGELOG.
        assert.notEqual(byName.get('tasks.resize_avatar')?.verdict, 'leak', tracedByChild.join('; '));
        const top = report.sites[0];
        assert.ok(top && path.basename(top.file) === 'tasks.py' && top.precision === 'line', `top site: ${JSON.stringify(top)}`);
        assert.ok(taskMemory.hasPanel(session.id), 'the panel stays with the results');
      } finally {
        if (session.state !== 'ended') await session.stop('test cleanup');
      }
    });
  });
});

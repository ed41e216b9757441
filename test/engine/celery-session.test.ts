/**
 * The whole product on its reason for existing: a real Celery worker (prefork, two children) on a
 * real redis-server, profiled through `ProfilingSession` as `taskmem run` does. The report must
 * name the leaking task, its bytes per run and its line, and clear the clean task.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProfilingSession } from '../../src/session/session';
import { sleep } from '../fixtures/python/session-kit';
import { example, REDIS_SERVER, startRedis } from './helpers';

const PYTHON = '/usr/bin/python3';
const appDir = example('python', 'celery_app');

function hasCelery(): boolean {
  if (!fs.existsSync(PYTHON) || !fs.existsSync(REDIS_SERVER)) return false;
  return spawnSync(PYTHON, ['-c', 'import celery, redis'], { stdio: 'ignore' }).status === 0;
}

describe('Celery worker on redis (real processes)', function () {
  this.timeout(120_000);
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  let broker = '';

  before(async function () {
    // .ci/run installs python3-celery, python3-redis and redis-server; without them this fails loudly.
    assert.ok(hasCelery(), `${PYTHON} with celery+redis and ${REDIS_SERVER} are required (apt-get install python3-celery python3-redis redis-server)`);
    redis = await startRedis();
    broker = redis.url;
  });

  after(() => {
    redis?.stop();
  });

  it('names the leaking prefork task, its bytes per run and its line; the clean task is no-leak', async () => {
    const tasksEach = 16;
    let output = '';
    const session = new ProfilingSession({
      mode: 'worker',
      cwd: appDir,
      command: [PYTHON, '-m', 'celery', '-A', 'tasks', 'worker', '-P', 'prefork', '-c', '2', '--loglevel', 'WARNING', '--max-tasks-per-child', '1000'],
      env: { CELERY_BROKER_URL: broker },
      pythonSampleEvery: 2,
      maxTasks: tasksEach * 2,
      onOutput: (_stream, chunk) => {
        output += chunk.toString();
      },
    });
    await session.start();
    // The master and both children report in before tasks are queued.
    for (let i = 0; i < 200 && session.targets.length < 3; i++) await sleep(100);
    assert.ok(session.targets.length >= 3, `targets: ${session.targets.map((t) => t.title).join(', ')}\n${output}`);
    const producer = spawnSync(PYTHON, ['send_tasks.py', String(tasksEach)], {
      cwd: appDir,
      env: { ...process.env, CELERY_BROKER_URL: broker, PYTHONPATH: '' },
      encoding: 'utf8',
    });
    assert.equal(producer.status, 0, producer.stderr);
    const timer = setTimeout(() => void session.stop('test timeout'), 60_000);
    const report = await session.done;
    clearTimeout(timer);

    assert.equal(report.endReason, `${tasksEach * 2} tasks finished`, output);
    const byName = new Map(report.tasks.map((task) => [task.name, task]));
    const leaky = byName.get('tasks.send_welcome_email');
    const clean = byName.get('tasks.resize_avatar');
    assert.ok(leaky && clean, `tasks: ${[...byName.keys()].join(', ')}`);
    assert.equal(leaky.verdict, 'leak', leaky.summary);
    // ("Welcome, user %d!\n" * 2000): about 36-38 KB of str per call, kept in _sent_log.
    assert.ok(leaky.bytesPerRun > 30_000 && leaky.bytesPerRun < 45_000, `bytesPerRun ${leaky.bytesPerRun}`);
    assert.equal(clean.verdict, 'no-leak', clean.summary);
    const top = report.sites[0];
    assert.ok(top, 'a site');
    assert.equal(path.basename(top.file), 'tasks.py');
    assert.equal(top.precision, 'line');
    const source = fs.readFileSync(path.join(appDir, 'tasks.py'), 'utf8').split('\n');
    assert.match(source[top.line - 1] ?? '', /\* 2000/, `line ${top.line}: ${source[top.line - 1]}`);
    const children = report.targets.filter((target) => /child/.test(target.title));
    assert.ok(children.length >= 2, `children: ${report.targets.map((t) => t.title).join(', ')}`);
    assert.ok(
      report.notes.some((note) => /sampled|traced/.test(note)),
      report.notes.join('\n'),
    );
  });
});

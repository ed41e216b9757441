/**
 * Tasks without code changes, RQ (issue 17): a real `rq worker --burst` on a real redis-server with
 * a leaking job and a clean one, no task marks in their code. Each job is a task named by its
 * function (the agent wraps rq.job.Job.perform). SimpleWorker runs the jobs in the worker itself,
 * where they are measured; the default Worker forks a work-horse per job, which is not followed
 * (what a job keeps ends with its horse) and the report says so.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { TaskmemReport } from '../../src/core/report';
import { ProfilingSession } from '../../src/session/session';
import { freePort, lineOf, sleep } from '../fixtures/python/session-kit';
import { fixture } from './helpers';

const PYTHON = '/usr/bin/python3';
const REDIS = '/usr/bin/redis-server';
const dir = fixture('python', 'rq');
const JOBS = path.join(dir, 'jobs.py');

function describeTasks(report: TaskmemReport): string {
  return report.tasks.map((t) => `${t.name}: ${t.verdict} over ${t.runs} traced runs, ${Math.round(t.bytesPerRun)} B/run`).join(' | ');
}

describe('RQ jobs as tasks, no code changes (real rq worker on redis-server)', function () {
  this.timeout(240_000);
  let redis: ChildProcess | undefined;
  let url = '';

  before(async function () {
    const probe = spawnSync(PYTHON, ['-c', 'import rq, redis'], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: '' } });
    assert.equal(probe.status, 0, `${PYTHON} with rq is required (apt-get install python3-rq redis-server): ${probe.stderr}`);
    const port = await freePort();
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}/0`;
    for (let i = 0; i < 50; i++) {
      if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return;
      await sleep(100);
    }
    throw new Error('redis-server did not start');
  });

  after(() => {
    redis?.kill('SIGKILL');
  });

  /** Queues `count` jobs (a seeded mix of both), then profiles `rq worker --burst`, which ends once the queue is empty. */
  async function burst(count: number, workerArgs: string[]): Promise<{ report: TaskmemReport; output: string; targets: number }> {
    const queued = spawnSync(PYTHON, ['enqueue.py', url, String(count)], { cwd: dir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: '' } });
    assert.equal(queued.status, 0, queued.stderr);
    let output = '';
    const session = new ProfilingSession({
      mode: 'worker',
      cwd: dir,
      command: [PYTHON, '-m', 'rq.cli', 'worker', '--burst', '--quiet', '--url', url, ...workerArgs],
      onOutput: (_stream, chunk) => {
        output += chunk.toString();
      },
    });
    await session.start();
    const timer = setTimeout(() => void session.stop('test timeout'), 200_000);
    const report = await session.done;
    clearTimeout(timer);
    console.log(`      ${count} jobs, ${session.targets.length} target(s): ${describeTasks(report)}`);
    return { report, output, targets: session.targets.length };
  }

  it('SimpleWorker: jobs.ingest keeps ~8.8 KB a job, a leak on its line; jobs.checksum is not', async () => {
    const { report, output } = await burst(1500, ['--worker-class', 'rq.worker.SimpleWorker']);
    assert.equal(report.endReason, 'the command exited with code 0', output);
    const byName = new Map(report.tasks.map((task) => [task.name, task]));
    const leaky = byName.get('jobs.ingest');
    const clean = byName.get('jobs.checksum');
    assert.ok(leaky && clean, describeTasks(report));
    assert.equal(leaky.verdict, 'leak', describeTasks(report));
    assert.ok(leaky.bytesPerRun > 7_000 && leaky.bytesPerRun < 13_000, describeTasks(report));
    assert.notEqual(clean.verdict, 'leak', describeTasks(report));
    const top = report.sites[0];
    assert.ok(top, describeTasks(report));
    assert.equal(path.basename(top.file), 'jobs.py', JSON.stringify(report.sites.slice(0, 3)));
    assert.equal(top.line, lineOf(JOBS, '# LEAK'), JSON.stringify(report.sites.slice(0, 3)));
    assert.ok(
      report.notes.some((note) => note.includes('Python tasks came from RQ jobs')),
      report.notes.join('\n'),
    );
  });

  it('default Worker (a work-horse forked per job): the horses are not followed, and the report says why the jobs have no figures', async () => {
    const { report, output, targets } = await burst(60, []);
    assert.equal(report.endReason, 'the command exited with code 0', output);
    // Every job ran (burst mode ends on an empty queue), each in a horse without an agent of its own.
    const left = spawnSync('redis-cli', ['-u', url, 'llen', 'rq:queue:default'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '0', output);
    assert.equal(targets, 1, 'only the worker is a target, not its 60 work-horses');
    assert.ok(!report.tasks.some((task) => task.name.startsWith('jobs.')), describeTasks(report));
    assert.ok(
      report.notes.some((note) => note.startsWith("RQ's default Worker forked a work-horse per job") && note.includes('rq.worker.SimpleWorker')),
      report.notes.join('\n'),
    );
  });
});

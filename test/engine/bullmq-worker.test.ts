/**
 * BullMQ jobs as tasks without code changes: a real BullMQ worker on a real redis-server, its jobs
 * named `queue:job name` through the hook on bullmq's Worker, under the bootloader (taskmem run) and
 * attached through the inspector. The leaking job is a leak led by its site, the clean one is not;
 * the program's own taskmem:task marks win over the hook.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { Queue } from 'bullmq';
import type { TaskmemReport } from '../../src/core/report';
import { isAlive } from '../../src/launch/processes';
import { ProfilingSession } from '../../src/session/session';
import { evaluate } from '../support/inspect';
import { rng } from '../support/prng';
import { fixture, inspectorUrlOf, repoRoot, startRedis } from './helpers';

const WORKER = fixture('node', 'frameworks', 'bullmq-worker.js');
const JOBS = 3000;
/**
 * A session also ends after this long with the jobs done by then (as `--duration` does): a slow or
 * loaded machine gets a verdict on fewer jobs instead of a mocha timeout. Not a timing assertion.
 */
const DURATION_SEC = 110;

/** `count` jobs on the queue in a seeded random mix of "send" (keeps memory) and "render" (does not). */
async function addJobs(port: number, count: number, seed: number): Promise<void> {
  const queue = new Queue('emails', { connection: { host: '127.0.0.1', port } });
  const random = rng(seed);
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) => ({
      name: random() < 0.5 ? 'send' : 'render',
      data: { to: `user${(start + i) % 97}@example.com` },
    }));
    await queue.addBulk(batch);
  }
  await queue.close();
}

function lineOf(file: string, name: string): number {
  return (
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((line) => line.startsWith(`function ${name}(`)) + 1
  );
}

function summaryOf(report: TaskmemReport): string {
  return report.tasks.map((task) => `${task.name}: ${task.verdict} ${Math.round(task.bytesPerRun)} B/run over ${task.runs}`).join(' | ');
}

/**
 * Both job names are tasks; the leak is charged to the leaking one: alone, or in the row of the
 * names whose counts move with it when nothing can split them (a random mix finishes both names in
 * nearly fixed proportions, and the few jobs measured one by one may not tell: the report then
 * says so). The clean job is never a leak on its own; the site leads.
 */
function checkJobs(report: TaskmemReport, send: string, render: string): void {
  const summary = summaryOf(report);
  const byName = new Map(report.tasks.map((task) => [task.name, task]));
  const sends = byName.get(send);
  assert.ok(sends && byName.has(render), summary);
  assert.equal(report.verdict.kind, 'leak', report.verdict.summary);
  const leaks = report.tasks.filter((task) => task.verdict === 'leak');
  assert.equal(leaks.length, 1, summary);
  assert.ok(leaks[0].name.split(' + ').includes(send), summary);
  // Truth: about 4.1 KB per "send" (500 small integers and the record holding them): what the row keeps in all.
  const kept = leaks[0].bytesPerRun * leaks[0].runs;
  assert.ok(kept > 0.5 * 4100 * sends.runs && kept < 2 * 4100 * sends.runs, `${Math.round(kept)} B kept for ${sends.runs} sends: ${summary}`);
  const top = report.sites[0];
  assert.ok(top, 'no retained site');
  assert.deepEqual([top.function, top.file, top.line], ['recordDelivery', WORKER, lineOf(WORKER, 'recordDelivery')]);
}

describe('BullMQ jobs as tasks, no code changes (real worker on redis-server)', function () {
  this.timeout(240_000);
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  let port = 0;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    // A fresh redis per test: no jobs left over from the previous one.
    redis = await startRedis();
    port = redis.port;
  });

  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
    redis?.stop();
  });

  async function runWorker(env: Record<string, string>): Promise<TaskmemReport> {
    await addJobs(port, JOBS, 11);
    let output = '';
    const session = new ProfilingSession({
      mode: 'worker',
      cwd: repoRoot,
      command: [process.execPath, WORKER],
      env: { REDIS_PORT: String(port), ...env },
      maxTasks: JOBS,
      durationSec: DURATION_SEC,
      onOutput: (_stream, chunk) => (output += chunk.toString()),
    });
    await session.start();
    const report = await session.done;
    assert.ok(!/worker error/.test(output), output);
    return report;
  }

  it('under the bootloader: the leak is charged to emails:send (alone or with emails:render), recordDelivery at its line leads', async () => {
    const report = await runWorker({});
    console.log(`      [bullmq worker] ${summaryOf(report)}`);
    checkJobs(report, 'emails:send', 'emails:render');
    assert.match(report.taskSource ?? '', /^BullMQ jobs/);
  });

  it("the program's own taskmem:task marks win over the hook", async () => {
    const report = await runWorker({ OWN_MARKS: '1' });
    console.log(`      [bullmq own marks] ${summaryOf(report)}`);
    assert.ok(!report.tasks.some((task) => task.name.startsWith('emails:')), summaryOf(report));
    checkJobs(report, 'own:send', 'own:render');
    assert.match(report.taskSource ?? '', /^the program's own taskmem:task marks$/);
  });

  it('attached through the inspector: the jobs become tasks, and detaching puts the Worker back', async () => {
    child = spawn(process.execPath, ['--inspect=127.0.0.1:0', WORKER], {
      env: { ...process.env, REDIS_PORT: String(port), NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const url = await inspectorUrlOf(child);
    const session = new ProfilingSession({
      mode: 'attach',
      cwd: repoRoot,
      attach: { url },
      maxTasks: JOBS,
      durationSec: DURATION_SEC,
      onOutput: () => undefined,
    });
    await session.start();
    // The jobs come after the session attached: each one is a task.
    await addJobs(port, JOBS, 12);
    const report = await session.done;
    console.log(`      [bullmq attached] ${report.endReason}; ${summaryOf(report)}`);
    // Once (under CPU load) no job became a task in 110 s: what the session and the worker said is in the message.
    assert.match(
      report.taskSource ?? '',
      /^BullMQ jobs/,
      `task source ${report.taskSource}; warnings: ${report.warnings.join(' | ')}; notes: ${report.notes.join(' | ')}; worker output: ${output.slice(-2000)}`,
    );
    checkJobs(report, 'emails:send', 'emails:render');
    assert.ok(isAlive(child.pid!), 'the attached worker still runs');
    assert.equal(await evaluate(url, "require('bullmq').Worker.prototype.callProcessJob.name"), 'callProcessJob');
  });
});

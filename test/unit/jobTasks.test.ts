import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { hookBullmq, jobTaskName } from '../../src/launch/jobTasks';

/**
 * A stand-in for bullmq's worker module (in a node_modules/bullmq folder, which is what the hook
 * looks for), loaded for real through require: the hook finds it in the module cache, at its
 * compile, or in the middle of its load, as a session attaching to a starting program does.
 */
const WORKER_MODULE = `
if (typeof globalThis.__duringLoad === 'function') globalThis.__duringLoad();
class Worker {
  constructor(name) { this.name = name; }
  callProcessJob(job) { return Promise.resolve(job.name + ' done'); }
}
exports.Worker = Worker;
`;

interface FakeWorker {
  callProcessJob(job: { name: string }): Promise<string>;
}
type FakeWorkerClass = new (name: string) => FakeWorker;

const scope = globalThis as { __duringLoad?: () => void };

describe('hookBullmq (a bullmq worker module loaded for real)', () => {
  let dir: string;
  let file: string;
  const uninstalls: Array<() => void> = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-bullmq-'));
    file = path.join(dir, 'node_modules', 'bullmq', 'dist', 'cjs', 'classes', 'worker.js');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, WORKER_MODULE);
  });

  afterEach(() => {
    for (const uninstall of uninstalls.splice(0)) uninstall();
    delete scope.__duringLoad;
    delete require.cache[file];
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function hook(): string[] {
    const seen: string[] = [];
    uninstalls.push(hookBullmq((phase, name) => seen.push(`${phase} ${name}`)));
    return seen;
  }

  const load = (): FakeWorkerClass => (createRequire(__filename)(file) as { Worker: FakeWorkerClass }).Worker;
  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  it('hooks a worker module that was loaded before', async () => {
    const Worker = load();
    const seen = hook();
    assert.equal(await new Worker('emails').callProcessJob({ name: 'send' }), 'send done');
    assert.deepEqual(seen, ['start emails:send', 'end emails:send']);
  });

  it('hooks a worker module loaded after', async () => {
    const seen = hook();
    const Worker = load();
    await new Worker('emails').callProcessJob({ name: 'render' });
    assert.deepEqual(seen, ['start emails:render', 'end emails:render']);
  });

  it('hooks a worker module whose load was under way when the hook went in (a session attaching to a starting program)', async () => {
    let seen: string[] = [];
    scope.__duringLoad = () => (seen = hook());
    const Worker = load();
    await nextTurn();
    await new Worker('emails').callProcessJob({ name: 'send' });
    assert.deepEqual(seen, ['start emails:send', 'end emails:send']);
  });

  it('taking the hook out puts the method back', async () => {
    const Worker = load();
    const original = Worker.prototype.callProcessJob;
    const seen = hook();
    assert.notEqual(Worker.prototype.callProcessJob, original);
    uninstalls.pop()!();
    assert.equal(Worker.prototype.callProcessJob, original);
    await new Worker('emails').callProcessJob({ name: 'send' });
    assert.deepEqual(seen, []);
  });

  it('names a job by its queue and name, and cuts a very long one', () => {
    assert.equal(jobTaskName('emails', { name: 'send' }), 'emails:send');
    assert.equal(jobTaskName(undefined, {}), 'queue:job');
    assert.equal(jobTaskName('q', { name: 'x'.repeat(300) }).length, 120);
  });
});

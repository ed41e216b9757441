/**
 * A real Celery worker (Debian's python3-celery) on a real redis-server, profiled through the agent.
 * Run: npx mocha --require tsx/cjs --timeout 60000 test/engine/python-agent-celery.test.ts
 */
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import {
  attach,
  Client,
  fixtureDir,
  flattenProfile,
  freePort,
  Ipc,
  lineOf,
  Proc,
  Procs,
  Registration,
  SampledTaskFinished,
  sleep,
} from '../fixtures/python/session-kit';

const PY = process.env.TASKMEM_CELERY_PYTHON || '/usr/bin/python3';
const REDIS = process.env.TASKMEM_REDIS_SERVER || '/usr/bin/redis-server';

function celeryAvailable(): boolean {
  if (!fs.existsSync(REDIS)) return false;
  const r = spawnSync(PY, ['-c', 'import celery, redis'], { env: { ...process.env, PYTHONPATH: '' } });
  return r.status === 0;
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) {
        s.destroy();
        resolve(buf.startsWith('+PONG'));
      }
    });
    s.on('error', () => resolve(false));
    setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 1000);
  });
}

interface Target {
  reg: Registration;
  client: Client;
}

const LEAKY = 'celeryapp.leaky_task';
const CLEAN = 'celeryapp.clean_task';

describe('python agent: Celery worker on redis', function () {
  this.timeout(60000);
  if (!celeryAvailable()) {
    // .ci/run installs them; a machine without them fails here rather than skipping quietly.
    it('has Celery and redis-server to test with', () =>
      assert.fail(`needs ${PY} with celery + redis, and ${REDIS} (apt-get install python3-celery python3-redis redis-server)`));
    return;
  }

  const procs = new Procs();
  let redisPort = 0;
  let redis: Proc | undefined;
  let ipc: Ipc;
  const clients: Client[] = [];

  before(async () => {
    redisPort = await freePort();
    redis = procs.spawn(REDIS, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env);
    const deadline = Date.now() + 10000;
    while (!(await redisPing(redisPort))) {
      if (Date.now() > deadline) throw new Error(`redis did not start: ${redis.stderr}${redis.stdout}`);
      await sleep(50);
    }
  });
  after(async () => {
    await procs.killAll();
  });
  beforeEach(() => {
    ipc = new Ipc();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    ipc.dispose();
  });

  const broker = () => `redis://127.0.0.1:${redisPort}/0`;

  function startWorker(pool: string[], queue: string): Proc {
    return procs.spawn(
      PY,
      [
        '-m',
        'celery',
        '-A',
        'celeryapp',
        'worker',
        ...pool,
        '-Q',
        queue,
        '--loglevel',
        'WARNING',
        '--without-heartbeat',
        '--without-mingle',
        '--without-gossip',
        '--max-tasks-per-child',
        '100',
        '-n',
        `${queue}@%h`,
      ],
      ipc.env({ TASKMEM_TEST_BROKER: broker() }),
      fixtureDir,
    );
  }

  async function produce(queue: string, leaky: number, clean: number): Promise<void> {
    const p = procs.spawn(
      PY,
      ['producer.py', String(leaky), String(clean)],
      {
        ...process.env,
        PYTHONPATH: '',
        TASKMEM_TEST_BROKER: broker(),
        TASKMEM_TEST_QUEUE: queue,
      },
      fixtureDir,
    );
    const code = await p.exited;
    assert.strictEqual(code, 0, `producer failed: ${p.stderr}`);
  }

  async function attachTarget(reg: Registration): Promise<Target> {
    const client = await attach(reg, { sampleEvery: 2, nframe: 3 });
    clients.push(client);
    return { reg, client };
  }

  /** Traced tasks end with an event each; the others arrive as counts per name, a batch per writer poll. */
  const finished = (t: Target) => t.client.eventsOf('Taskmem.taskFinished');
  const counted = (client: Client, name?: string) =>
    client
      .eventsOf('Taskmem.taskCounts')
      .reduce((n, e) => n + Object.entries(e.counts).reduce((m, [k, v]) => m + (name === undefined || k === name ? v : 0), 0), 0);
  const ended = (t: Target) => finished(t).length + counted(t.client);

  async function checkTargets(targets: Target[], total: number): Promise<void> {
    const all = () => targets.reduce((n, t) => n + ended(t), 0);
    const deadline = Date.now() + 30000;
    while (all() < total) {
      if (Date.now() > deadline) throw new Error(`only ${all()} of ${total} tasks finished`);
      await sleep(50);
    }
    const leakLine = lineOf(path.join(fixtureDir, 'celeryapp.py'), '# LEAK');
    let profiled = 0;
    for (const t of targets) {
      const done = finished(t);
      // taskStarted only for sampled tasks (chart marks); every task has its taskFinished.
      const started = t.client.eventsOf('Taskmem.taskStarted');
      assert.deepStrictEqual(
        started.map((e) => e.id),
        done.filter((f) => f.sampled).map((f) => f.id),
      );
      for (const f of done) {
        assert.ok(f.name === LEAKY || f.name === CLEAN, f.name);
        assert.ok(typeof f.id === 'string' && f.durationMs >= 0 && f.rss > 0);
        assert.ok(f.sampled && typeof f.retainedBytes === 'number' && f.allocatedBlocks > 0, 'only traced tasks end with an event');
      }
      for (const e of t.client.eventsOf('Taskmem.taskCounts')) for (const name of Object.keys(e.counts)) assert.ok(name === LEAKY || name === CLEAN, name);
      // One task in two, counted per task name.
      for (const name of [LEAKY, CLEAN]) {
        const traced = done.filter((f) => f.name === name).length;
        assert.strictEqual(traced, Math.floor((traced + counted(t.client, name)) / 2), `${name} sampling`);
      }
      const leakySampled = done.filter((f): f is SampledTaskFinished => f.name === LEAKY && f.sampled);
      for (const f of leakySampled) assert.ok(f.retainedBytes >= 200 * 1024 && f.retainedBytes < 260 * 1024, `leaky kept ${f.retainedBytes}`);
      for (const f of done.filter((f): f is SampledTaskFinished => f.name === CLEAN && f.sampled))
        assert.ok(f.retainedBytes < 32 * 1024, `clean kept ${f.retainedBytes}`);

      const stats = await t.client.call('Taskmem.getStats');
      assert.strictEqual(stats.mode, 'worker');
      assert.strictEqual(stats.celery, true);
      assert.strictEqual(stats.tasksFinished, ended(t));
      assert.strictEqual(stats.tracing, false, 'tracing only while a sampled task runs');
      assert.deepStrictEqual(stats.recycling, { maxTasksPerChild: 100, maxMemoryPerChild: null, source: 'argv' });

      const prof = await t.client.call('Taskmem.getSamplingProfile');
      assert.strictEqual(prof.sampledTasks, done.filter((f) => f.sampled).length);
      assert.strictEqual(prof.totalTasks, ended(t));
      const sites = flattenProfile(prof.profile);
      if (leakySampled.length > 0) {
        profiled++;
        const top = sites[0];
        assert.strictEqual(path.basename(top.url), 'celeryapp.py');
        assert.strictEqual(top.line, leakLine);
        assert.strictEqual(top.functionName, 'leaky_task');
        const kept = leakySampled.length * 200 * 1024;
        assert.ok(top.selfSize >= kept && top.selfSize < kept + 16 * 1024, `top ${top.selfSize} vs ${kept}`);
      }
      assert.ok(!sites.some((s) => s.url.includes('taskmem_agent')));
      console.log(
        `      ${t.reg.title} pid ${t.reg.pid}: ${ended(t)} tasks (${done.length} traced), ` +
          `retained by sampled leaky runs: ${leakySampled.map((f) => f.retainedBytes).join(', ') || '-'}; top site ${sites[0] ? `${path.basename(sites[0].url)}:${sites[0].line} ${sites[0].selfSize} B` : '-'}`,
      );
    }
    assert.ok(profiled > 0, 'at least one target profiled a leaky run');
  }

  it('prefork -c 2: each child is its own target; events carry task names; sampled profiles find the leak', async () => {
    const worker = startWorker(['-P', 'prefork', '-c', '2'], 'prefork');
    const [mainReg] = await ipc.next(1, 20000);
    assert.strictEqual(mainReg.title, 'celery worker');
    const main = await attachTarget(mainReg);
    const childRegs = await ipc.next(2, 20000);
    const children = await Promise.all(childRegs.map(attachTarget));
    for (const c of children) {
      assert.strictEqual(c.reg.ppid, mainReg.pid);
      assert.match(c.reg.title, /^celery worker \(child \d+\)$/);
    }
    assert.notStrictEqual(children[0].reg.pid, children[1].reg.pid);
    assert.notStrictEqual(children[0].reg.socket, children[1].reg.socket);

    await produce('prefork', 12, 12);
    await checkTargets(children, 24);
    // The parent only supervises: no tasks there.
    assert.strictEqual((await main.client.call('Taskmem.getStats')).tasksFinished, 0);
    assert.doesNotMatch(worker.stderr, /taskmem: (agent disabled|celery hook failed)/);
    worker.kill('SIGTERM');
    await Promise.race([worker.exited, sleep(5000)]);
  });

  it('solo pool: the worker process itself is the target', async () => {
    const worker = startWorker(['-P', 'solo'], 'solo');
    const [reg] = await ipc.next(1, 20000);
    const target = await attachTarget(reg);
    await produce('solo', 6, 6);
    await checkTargets([target], 12);
    await sleep(200);
    assert.strictEqual(fs.readdirSync(ipc.dir).filter((f) => f.endsWith('.json')).length, 1, 'no forks in solo');
    assert.doesNotMatch(worker.stderr, /taskmem: (agent disabled|celery hook failed)/);
    worker.kill('SIGTERM');
    await Promise.race([worker.exited, sleep(5000)]);
  });

  it('defaults: budget sampling traces both task names and stays within its time budget', async () => {
    const worker = startWorker(['-P', 'solo'], 'budget');
    const [reg] = await ipc.next(1, 20000);
    const client = await attach(reg, { nframe: 3 });
    clients.push(client);
    const before = await client.call('Taskmem.getStats');
    assert.strictEqual(before.sampling, 'budget');
    assert.strictEqual(before.budget, 0.1);
    assert.strictEqual(before.sampleEvery, null);
    // Bursts of 10 tasks with pauses: the budget is a share of wall time, so a single burst of
    // cheap tasks after start-up may leave credit for one trace only.
    const done = () => client.eventsOf('Taskmem.taskFinished');
    const total = () => done().length + counted(client);
    const deadline = Date.now() + 40000;
    for (let burst = 1; burst <= 4; burst++) {
      await produce('budget', 5, 5);
      while (total() < burst * 10) {
        if (Date.now() > deadline) throw new Error(`only ${total()} of ${burst * 10} tasks finished`);
        await sleep(50);
      }
      await sleep(400);
    }
    const sampled = done().filter((f) => f.sampled);
    for (const name of [LEAKY, CLEAN])
      assert.ok(
        sampled.some((f) => f.name === name),
        `${name} never sampled`,
      );
    for (const f of sampled.filter((f) => f.name === LEAKY))
      assert.ok(f.retainedBytes >= 200 * 1024 && f.retainedBytes < 260 * 1024, `leaky kept ${f.retainedBytes}`);
    const stats = await client.call('Taskmem.getStats');
    assert.strictEqual(stats.tasksFinished, 40);
    assert.strictEqual(stats.sampledTasks, sampled.length);
    assert.ok(stats.tracedMs > 0);
    const prof = await client.call('Taskmem.getSamplingProfile');
    const top = flattenProfile(prof.profile)[0];
    assert.strictEqual(top.line, lineOf(path.join(fixtureDir, 'celeryapp.py'), '# LEAK'));
    console.log(`      budget: ${sampled.length} of 40 tasks traced, ${stats.tracedMs} ms traced`);
    worker.kill('SIGTERM');
    await Promise.race([worker.exited, sleep(5000)]);
  });
});

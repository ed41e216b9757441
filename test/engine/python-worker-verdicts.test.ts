/**
 * Python worker verdicts on real processes (issue 15, Python workers): a real Celery prefork worker
 * (-c 2) on a real redis-server with a leaky task and a clean one, as a long run and as a short
 * burst, and the Python harness on a small steady leak and on a bounded cache. Each asserts the
 * verdict per task and, for the leak, that the leaking line is the first site.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskmemReport } from '../../src/core/report';
import { adviseRecycling } from '../../src/core/recyclingAdvisor';
import { descendantsOf, residentBytes } from '../../src/launch/processes';
import { ProfilingSession } from '../../src/session/session';
import { lineOf, sleep } from '../fixtures/python/session-kit';
import { fixture, harness, REDIS_SERVER, runSession, startRedis } from './helpers';

const PYTHON = '/usr/bin/python3';
const dir = fixture('python', 'verdicts');
const SHOP = path.join(dir, 'shop.py');
const LEAKY = 'shop.record_order';
const CLEAN = 'shop.price_cart';

function hasCelery(): boolean {
  if (!fs.existsSync(PYTHON) || !fs.existsSync(REDIS_SERVER)) return false;
  return spawnSync(PYTHON, ['-c', 'import celery, redis'], { stdio: 'ignore', env: { ...process.env, PYTHONPATH: '' } }).status === 0;
}

function describeTasks(report: TaskmemReport): string {
  return report.tasks.map((t) => `${t.name}: ${t.verdict} over ${t.runs} traced runs, ${Math.round(t.bytesPerRun)} B/run: ${t.summary}`).join('\n');
}

/** The first site is the given line of the given file. */
function assertTopSite(report: TaskmemReport, file: string, marker: string): void {
  const top = report.sites[0];
  assert.ok(top, `no site\n${describeTasks(report)}`);
  const where = report.sites
    .slice(0, 5)
    .map((s) => `${path.basename(s.file)}:${s.line} ${s.function} ${s.retainedBytes} B`)
    .join('\n');
  assert.equal(path.basename(top.file), path.basename(file), where);
  assert.equal(top.line, lineOf(file, marker), where);
  assert.equal(top.category, 'user', where);
}

describe('Python worker verdicts (real processes)', function () {
  this.timeout(120_000);

  describe('Celery prefork worker (-c 2) on redis-server, a leaky and a clean task', () => {
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

    /** A worker with the default sampling (the time budget), `count` tasks queued at once. */
    async function runWorker(count: number): Promise<{ report: TaskmemReport; output: string }> {
      let output = '';
      const session = new ProfilingSession({
        mode: 'worker',
        cwd: dir,
        command: [PYTHON, '-m', 'celery', '-A', 'shop', 'worker', '-P', 'prefork', '-c', '2', '--loglevel', 'WARNING'],
        env: { SHOP_BROKER: broker },
        maxTasks: count,
        onOutput: (_stream, chunk) => {
          output += chunk.toString();
        },
      });
      await session.start();
      // The master and both children report in before tasks are queued.
      for (let i = 0; i < 300 && session.targets.length < 3; i++) await sleep(100);
      assert.ok(session.targets.length >= 3, `targets: ${session.targets.map((t) => t.title).join(', ')}\n${output}`);
      const producer = spawnSync(PYTHON, ['send_orders.py', String(count)], {
        cwd: dir,
        env: { ...process.env, SHOP_BROKER: broker, PYTHONPATH: '' },
        encoding: 'utf8',
      });
      assert.equal(producer.status, 0, producer.stderr);
      const timer = setTimeout(() => void session.stop('test timeout'), 90_000);
      const report = await session.done;
      clearTimeout(timer);
      assert.equal(report.endReason, `${count} tasks finished`, output);
      return { report, output };
    }

    function assertVerdicts(report: TaskmemReport, minTraced: number, cleanMayBeUndecided = false): void {
      const byName = new Map(report.tasks.map((task) => [task.name, task]));
      const leaky = byName.get(LEAKY);
      const clean = byName.get(CLEAN);
      assert.ok(leaky && clean, describeTasks(report));
      // Every name was traced often enough for a verdict (the sampler's start-up allowance).
      assert.ok(leaky.runs >= minTraced && clean.runs >= minTraced, describeTasks(report));
      assert.equal(leaky.verdict, 'leak', describeTasks(report));
      // A receipt of 29 x 150 characters: 4,399 B of str per task, and the list's slots.
      assert.ok(leaky.bytesPerRun > 3_500 && leaky.bytesPerRun < 6_000, describeTasks(report));
      // In a 300-task burst the clean task has ~16 traced runs; a rare run can still read a block of
      // Celery's own (54 B of saferepr, one session in 14), which can leave it undecided. Never a leak.
      if (cleanMayBeUndecided) assert.ok(clean.verdict === 'no-leak' || clean.verdict === 'inconclusive', describeTasks(report));
      else assert.equal(clean.verdict, 'no-leak', describeTasks(report));
      assertTopSite(report, SHOP, '# LEAK');
    }

    let longRun: TaskmemReport | undefined;

    it('3,000 tasks, a mix of both: the leaky task is a leak on its line, the clean one is not', async () => {
      const { report } = await runWorker(3000);
      longRun = report;
      assertVerdicts(report, 8);
      // The recycling advisor: Celery's flags from the children's fresh RSS and the leak per task.
      const recycling = report.recycling;
      assert.ok(recycling, 'a worker session with tasks carries recycling advice');
      assert.ok(recycling.freshRssBytes > 10 * 1024 * 1024 && recycling.freshRssBytes < recycling.limitBytes, JSON.stringify(recycling));
      assert.ok(recycling.growthPerTaskBytes > 0, JSON.stringify(recycling));
      assert.ok(recycling.maxTasksPerChild !== undefined && recycling.maxMemoryPerChildKiB !== undefined, JSON.stringify(recycling));
      assert.ok(recycling.maxMemoryPerChildKiB * 1024 > recycling.freshRssBytes, JSON.stringify(recycling));
      assert.ok(
        recycling.lines.some((line) => line.includes(`--max-tasks-per-child=${recycling.maxTasksPerChild}`)),
        recycling.lines.join('\n'),
      );
    });

    it('recycling advice holds: plain Celery with the recommended limits keeps every child under the limit over 3,000 tasks; a limit a fresh child exceeds is refused', async () => {
      assert.ok(longRun?.recycling, 'needs the 3,000-task session above');
      const measured = longRun.recycling;
      // A limit that binds within the run: room for the worst task and ~250 tasks of growth.
      const limitBytes = Math.ceil((measured.freshRssBytes + measured.worstTaskBytes + 250 * measured.growthPerTaskBytes) / 0.9);
      const inputs = {
        freshRssBytes: measured.freshRssBytes,
        growthPerTaskBytes: measured.growthPerTaskBytes,
        worstTaskBytes: measured.worstTaskBytes,
        supervisor: 'celery' as const,
        limitSource: 'setting' as const,
      };
      const advice = adviseRecycling({ ...inputs, limitBytes });
      assert.ok(advice?.maxTasksPerChild !== undefined && advice.maxMemoryPerChildKiB !== undefined, JSON.stringify(advice));
      const refused = adviseRecycling({ ...inputs, limitBytes: measured.freshRssBytes });
      assert.equal(refused?.maxMemoryPerChildKiB, undefined);
      assert.match(refused?.warnings[0] ?? '', /no --max-memory-per-child fits/);

      // The same worker without the profiler, with the recommended flags; children's RSS sampled from /proc.
      const worker = spawn(
        PYTHON,
        [
          '-m',
          'celery',
          '-A',
          'shop',
          'worker',
          '-P',
          'prefork',
          '-c',
          '2',
          '--loglevel',
          'WARNING',
          `--max-tasks-per-child=${advice.maxTasksPerChild}`,
          `--max-memory-per-child=${advice.maxMemoryPerChildKiB}`,
        ],
        { cwd: dir, env: { ...process.env, SHOP_BROKER: broker, PYTHONPATH: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let stderr = '';
      worker.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        const children = new Set<number>();
        let peak = 0;
        const sample = (): void => {
          for (const pid of descendantsOf([worker.pid!])) {
            children.add(pid);
            peak = Math.max(peak, residentBytes(pid));
          }
        };
        for (let i = 0; i < 300 && descendantsOf([worker.pid!]).length < 2; i++) await sleep(100);
        const producer = spawnSync(PYTHON, ['send_orders.py', '3000'], {
          cwd: dir,
          env: { ...process.env, SHOP_BROKER: broker, PYTHONPATH: '' },
          encoding: 'utf8',
        });
        assert.equal(producer.status, 0, producer.stderr);
        const deadline = Date.now() + 90_000;
        let drainedAt: number | undefined;
        while (Date.now() < deadline) {
          sample();
          const queued = Number(spawnSync('redis-cli', ['-u', broker, 'llen', 'celery'], { encoding: 'utf8' }).stdout.trim());
          if (queued === 0) drainedAt ??= Date.now();
          // Prefetched tasks finish within moments of the queue draining.
          if (drainedAt !== undefined && Date.now() - drainedAt > 2000) break;
          await sleep(25);
        }
        assert.ok(drainedAt !== undefined, `the queue did not drain\n${stderr}`);
        const detail = `limit ${limitBytes} B, --max-tasks-per-child=${advice.maxTasksPerChild} --max-memory-per-child=${advice.maxMemoryPerChildKiB}, peak child RSS ${peak} B, ${children.size} children`;
        console.log(`      ${detail}`);
        assert.ok(peak > 0 && peak <= limitBytes, detail);
        // 3,000 tasks over two children at that count: children were replaced, so the limits acted.
        assert.ok(children.size > 2, detail);
      } finally {
        worker.kill('SIGKILL');
        for (const pid of descendantsOf([worker.pid!])) process.kill(pid, 'SIGKILL');
      }
    });

    it('a burst of 300 tasks: the leaky task concludes, the clean one is never a leak', async () => {
      const { report } = await runWorker(300);
      assertVerdicts(report, 8, true);
    });
  });

  describe('Python worker, a leak under the floor of its traced figures', () => {
    it("a task that keeps ~350 B a task is undecided with what it keeps (never 'no-leak'); the clean one is no-leak", async () => {
      assert.ok(hasCelery(), `${PYTHON} with celery is required (apt-get install python3-celery)`);
      const file = path.join(dir, 'small_keeps.py');
      const { report, output } = await runSession({ mode: 'worker', cwd: dir, command: [PYTHON, file, '20000'] }, 110_000);
      const byName = new Map(report.tasks.map((task) => [task.name, task]));
      const small = byName.get('visits.remember_visit');
      const clean = byName.get('visits.score_visit');
      assert.ok(small && clean, `${describeTasks(report)}\n${output}`);
      // Under the 1 KiB per task a Python worker figure stands behind: not a confirmed leak, and
      // every traced run kept memory, so not "no-leak" either.
      assert.equal(small.verdict, 'inconclusive', describeTasks(report));
      assert.ok(small.bytesPerRun > 300 && small.bytesPerRun < 1024, describeTasks(report));
      assert.match(small.summary, /typical traced run keeps \+\d+ B .*Python worker/, describeTasks(report));
      assert.equal(clean.verdict, 'no-leak', describeTasks(report));
      assertTopSite(report, file, '# LEAK');
    });
  });

  describe('Python worker, persistence probes (a paced worker: the tracing budget has credit to spare)', () => {
    it('a task whose kept string the next one replaces is no-leak; one that keeps appending stays undecided, still referenced', async () => {
      assert.ok(hasCelery(), `${PYTHON} with celery is required (apt-get install python3-celery)`);
      const file = path.join(dir, 'small_keeps.py');
      const { report, output } = await runSession({ mode: 'worker', cwd: dir, command: [PYTHON, file, '4000', '0.002'] }, 110_000);
      const byName = new Map(report.tasks.map((task) => [task.name, task]));
      const replaced = byName.get('visits.note_last_visit');
      const appended = byName.get('visits.remember_visit');
      const clean = byName.get('visits.score_visit');
      assert.ok(replaced && appended && clean, `${describeTasks(report)}\n${output}`);
      assert.equal(replaced.verdict, 'no-leak', describeTasks(report));
      assert.match(replaced.summary, /no longer referenced some tasks later \(\d+ of \d+ probes found none of it/, describeTasks(report));
      assert.equal(appended.verdict, 'inconclusive', describeTasks(report));
      const share = Number(/Persistence probes found (\d+)% of it/.exec(appended.summary)?.[1]);
      assert.ok(share >= 50, describeTasks(report));
      assert.equal(clean.verdict, 'no-leak', describeTasks(report));
    });
  });

  describe('Python harness', () => {
    it('one short new string kept in a set per run, 100 runs: a leak, on the adding line', async () => {
      const file = path.join(dir, 'seen_ids.py');
      const { report } = await runSession({ mode: 'harness', harness: harness(file, 'handle', 100, 2) });
      const task = report.tasks[0];
      assert.ok(task, describeTasks(report));
      assert.equal(task.verdict, 'leak', describeTasks(report));
      // A 10-character str is 59 B; the set's table grows in steps on top.
      assert.ok(task.bytesPerRun > 40 && task.bytesPerRun < 400, describeTasks(report));
      assertTopSite(report, file, '# LEAK');
    });

    it('a bounded lru_cache and temporaries, 100 runs: not a leak', async () => {
      const file = path.join(dir, 'tax_rates.py');
      const { report } = await runSession({ mode: 'harness', harness: harness(file, 'handle', 100, 2) });
      const task = report.tasks[0];
      assert.ok(task, describeTasks(report));
      // Not a leak. The cache fills over the first 32 runs and then stays flat, which the verdict
      // calls a plateau or, when the later runs still move by a few bytes, "slowing, may plateau".
      assert.notEqual(task.verdict, 'leak', describeTasks(report));
      assert.ok(['no-leak', 'plateau', 'inconclusive'].includes(task.verdict), describeTasks(report));
      assert.ok(Math.abs(task.bytesPerRun) < 1024, describeTasks(report));
    });
  });
});

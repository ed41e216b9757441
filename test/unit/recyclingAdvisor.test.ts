import assert from 'node:assert/strict';
import { adviseRecycling, growthPerTask, type RecyclingInput } from '../../src/core/recyclingAdvisor';
import { cgroupMemoryLimit } from '../../src/session/recyclingInputs';

const K = 1024;
const M = 1024 * K;

const base: RecyclingInput = {
  freshRssBytes: 60 * M,
  growthPerTaskBytes: 4 * K,
  worstTaskBytes: 20 * M,
  limitBytes: 500 * M,
  limitSource: 'setting',
  supervisor: 'celery',
};

describe('recycling advisor', () => {
  it('leaves room for the worst task under the limit, and counts tasks from the growth per task', () => {
    const advice = adviseRecycling(base)!;
    // 500 MiB less 10% less the 20 MiB worst task.
    assert.equal(advice.maxMemoryPerChildKiB, Math.floor((500 * M * 0.9 - 20 * M) / K));
    // A child that starts at 60 MiB and grows 4 KiB per task reaches that after this many tasks.
    assert.equal(advice.maxTasksPerChild, Math.floor((advice.maxMemoryPerChildKiB * K - 60 * M) / (4 * K)));
    // The limit is never reached within the recommended count, even with the worst task on top.
    assert.ok(60 * M + advice.maxTasksPerChild * 4 * K + 20 * M <= 500 * M);
    assert.ok(advice.lines.some((line) => line.startsWith('celery -A <app> worker --max-tasks-per-child=')));
    assert.ok(advice.lines.some((line) => /^worker_max_memory_per_child = \d+ {2}# KiB$/.test(line)));
    assert.match(advice.note, /does not fix the leak/);
    assert.deepEqual(advice.warnings, []);
  });

  it('refuses a memory limit at or below a fresh child, with a clear warning (celery#4125)', () => {
    const advice = adviseRecycling({ ...base, limitBytes: 70 * M })!;
    assert.equal(advice.maxMemoryPerChildKiB, undefined);
    assert.equal(advice.maxTasksPerChild, undefined);
    assert.match(advice.warnings[0], /no --max-memory-per-child fits/);
  });

  it("warns when the command line's own --max-memory-per-child is below a fresh child", () => {
    const advice = adviseRecycling({ ...base, current: { maxMemoryPerChildKiB: 50_000 } })!;
    assert.ok(
      advice.warnings.some((warning) => /every child is replaced after its first task/.test(warning)),
      advice.warnings.join('\n'),
    );
  });

  it('warns when the command line lets a child run more tasks than fit', () => {
    const advice = adviseRecycling({ ...base, current: { maxTasksPerChild: 10_000_000 } })!;
    assert.ok(advice.warnings.some((warning) => /grow past the limit/.test(warning)));
  });

  it('warns when the limit recycles a child every few tasks', () => {
    const advice = adviseRecycling({ ...base, limitBytes: (60 * M + 20 * M + 5 * 4 * K) / 0.9 })!;
    assert.ok(advice.maxTasksPerChild !== undefined && advice.maxTasksPerChild < 10, JSON.stringify(advice));
    assert.ok(
      advice.warnings.some((warning) => /replaced every \d+ task/.test(warning)),
      advice.warnings.join('\n'),
    );
  });

  it('recommends no task count when children do not grow, and says the limit is a safety net', () => {
    const advice = adviseRecycling({ ...base, growthPerTaskBytes: 0 })!;
    assert.equal(advice.maxTasksPerChild, undefined);
    assert.ok(advice.maxMemoryPerChildKiB !== undefined);
    assert.match(advice.note, /safety net/);
  });

  it('offers pm2 and pool lines, not Celery flags, for other workers', () => {
    const advice = adviseRecycling({ ...base, supervisor: 'pm2' })!;
    assert.ok(advice.lines.some((line) => /max_memory_restart: '\d+M'/.test(line)));
    assert.ok(advice.lines.every((line) => !line.includes('celery')));
  });

  it("turns the task count into a time at the session's pace", () => {
    const advice = adviseRecycling({ ...base, tasksPerSecond: 120 })!;
    // (500 MiB × 0.9 - 20 MiB - 60 MiB) / 4 KiB = 94,720 tasks; at 120 tasks/s, 789 s.
    assert.equal(advice.maxTasksPerChild, 94_720);
    assert.equal(advice.pace, "about every 13 min at this session's pace (120 tasks/s per child)");
    assert.match(adviseRecycling({ ...base, tasksPerSecond: 0.05 })!.pace ?? '', /about every 3.1 weeks .*\(3\.0 tasks\/min per child\)/);
    assert.equal(adviseRecycling(base)!.pace, undefined);
    assert.equal(adviseRecycling({ ...base, growthPerTaskBytes: 0, tasksPerSecond: 120 })!.pace, undefined);
  });

  it('says when the whole machine stands in for a limit nobody gave, and how to give one', () => {
    // The e2e worker's case: one child, no limit, 23.5 GiB of RAM: a child every 16 M tasks.
    const advice = adviseRecycling({ ...base, limitBytes: 23.5 * 1024 * M, limitSource: 'ram-per-child', growthPerTaskBytes: 1.4 * K })!;
    assert.match(advice.note, /machine's RAM divided among the children stands in: give each child's real budget \(in MiB\) with --memory-limit\./);
    assert.doesNotMatch(adviseRecycling(base)!.note, /stands in/);
  });

  it('has nothing to say without figures', () => {
    assert.equal(adviseRecycling({ ...base, freshRssBytes: Number.NaN }), undefined);
    assert.equal(adviseRecycling({ ...base, limitBytes: 0 }), undefined);
  });

  it('weights each leaking task by how often it runs', () => {
    const growth = growthPerTask([
      { runs: 100, bytesPerRun: 4 * K, leaks: true },
      { runs: 300, bytesPerRun: 900, leaks: false },
    ]);
    assert.equal(growth, K);
  });

  it('reads the cgroup v2 limit, and treats "max" and v1 "unlimited" as no limit', () => {
    assert.equal(
      cgroupMemoryLimit((file) => (file.endsWith('memory.max') ? '1073741824\n' : '')),
      1073741824,
    );
    assert.equal(
      cgroupMemoryLimit((file) => (file.endsWith('memory.max') ? 'max\n' : '9223372036854771712\n')),
      undefined,
    );
    assert.equal(
      cgroupMemoryLimit((file) => {
        if (file.endsWith('memory.max')) throw new Error('ENOENT');
        return '536870912\n';
      }),
      536870912,
    );
  });
});

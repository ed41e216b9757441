import assert from 'node:assert/strict';
import { abSchedule, compareAb, type AbRun } from '../../src/core/abCompare';
import { parseAbArgs, parseChange } from '../../src/cli/ab';
import { UsageError } from '../../src/cli/args';

const M = 1024 * 1024;

function run(variant: 'A' | 'B', round: number, finalMiB: number, seconds = 1, tasks = 0): AbRun {
  return {
    variant,
    round,
    finalRssBytes: finalMiB * M,
    peakRssBytes: (finalMiB + 5) * M,
    tasks,
    durationMs: seconds * 1000,
    endReason: 'the command exited with code 0',
  };
}

describe('taskmem ab', () => {
  it('interleaves the variants so drift falls on both', () => {
    assert.deepEqual(
      abSchedule(3).map((step) => `${step.round}${step.variant}`),
      ['1A', '1B', '2B', '2A', '3A', '3B'],
    );
  });

  it('calls a difference clear only when the ranges do not overlap', () => {
    const clear = compareAb([run('A', 1, 100), run('B', 1, 60), run('B', 2, 62), run('A', 2, 98)], { a: 'as it is', b: 'jemalloc' })!;
    assert.ok(Math.abs(clear.finalRssRatio - 61 / 99) < 1e-9);
    assert.match(clear.findings[0], /^RSS at the end: B is clearly lower/);
    const noisy = compareAb([run('A', 1, 100), run('B', 1, 90), run('B', 2, 120), run('A', 2, 80)], { a: 'as it is', b: 'jemalloc' })!;
    assert.match(noisy.findings[0], /within the noise/);
  });

  it('compares throughput when every run counted tasks, else wall time', () => {
    const withTasks = compareAb([run('A', 1, 100, 10, 1000), run('B', 1, 100, 10, 2000)], { a: 'a', b: 'b' })!;
    assert.equal(withTasks.throughputRatio, 2);
    assert.match(withTasks.findings[2], /^Throughput: B is clearly higher/);
    const withoutTasks = compareAb([run('A', 1, 100), run('B', 1, 100, 2)], { a: 'a', b: 'b' })!;
    assert.equal(withoutTasks.throughputRatio, undefined);
    assert.match(withoutTasks.findings[2], /^Wall time: B is clearly higher.*worse/);
    assert.equal(compareAb([run('A', 1, 100)], { a: 'a', b: 'b' }), undefined);
  });

  it('knows the changes users try, and refuses others with the list', () => {
    assert.deepEqual(parseChange('arena-max=2').env, { MALLOC_ARENA_MAX: '2' });
    assert.deepEqual(parseChange('pymalloc=malloc').env, { PYTHONMALLOC: 'malloc' });
    assert.deepEqual(parseChange('env:FOO=bar baz').env, { FOO: 'bar baz' });
    assert.deepEqual(parseChange('arg:--max-tasks-per-child=100').extraArgs, ['--max-tasks-per-child=100']);
    assert.equal(parseChange('jemalloc', (file) => file === '/usr/lib64/libjemalloc.so.2').env.LD_PRELOAD, '/usr/lib64/libjemalloc.so.2');
    assert.throws(
      () => parseChange('jemalloc', () => false),
      (error: Error) => error instanceof UsageError && /apt-get install libjemalloc2/.test(error.message),
    );
    assert.throws(() => parseChange('tcmalloc'), UsageError);
  });

  it('takes the worker options of taskmem run', () => {
    const plan = parseAbArgs(['--vary', 'arena-max=2', '--rounds', '5', '--duration', '30', '--', 'celery', '-A', 'app', 'worker'], '/tmp');
    assert.equal(plan.rounds, 5);
    assert.equal(plan.session.durationSec, 30);
    assert.deepEqual(plan.session.command, ['celery', '-A', 'app', 'worker']);
    assert.throws(() => parseAbArgs(['--', 'python3', 'x.py'], '/tmp'), /needs --vary/);
    assert.throws(() => parseAbArgs(['--vary', 'arena-max=2', '--rounds', '0', '--', 'x'], '/tmp'), /--rounds/);
  });
});

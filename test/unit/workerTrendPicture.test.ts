import * as assert from 'node:assert/strict';
import type { Checkpoint } from '../../src/core/workerTrend';
import { workerTrendPicture } from '../../src/extension/panel/workerTrendPicture';
import { RETAINED_POINTS, type PanelTask } from '../../src/shared/protocol';

const row = (name: string, bytesPerRun: number): PanelTask => ({
  name,
  runs: 100,
  bytesPerRun,
  verdict: { kind: bytesPerRun > 0 ? 'leak' : 'no-leak', confidence: 1, summary: '', advice: '', evidence: [] },
});

/** Checkpoints every `step` tasks of a mix (`a` then `b` in a 2:1 mix), the heap growing `perA` per `a` task plus noise. */
function checkpoints(n: number, perA: number, mix = true): Checkpoint[] {
  const out: Checkpoint[] = [];
  for (let i = 0; i < n; i++) {
    const a = i * 20;
    const b = mix ? i * 10 : 0;
    out.push({ heap: 5e6 + a * perA + ((i * 7919) % 13) * 100, counts: mix ? { a, b } : { a } });
  }
  return out;
}

describe('worker trend picture (panel)', () => {
  it('draws the heap after each GC against the tasks finished, relative to the first, with the rows growth through the later half', () => {
    const pic = workerTrendPicture(
      new Map([['node:1', checkpoints(40, 1000, false)]]),
      [row('a', 1000)],
      [{ id: 'node:1', pid: 42, runtime: 'node', title: 'worker', argv: ['node', 'worker.js'] }],
    );
    assert.ok(pic);
    const [p] = pic.processes;
    assert.equal(p.label, 'pid 42');
    assert.equal(p.x[0], 0);
    assert.equal(p.y[0], 0);
    assert.equal(p.x[p.x.length - 1], 39 * 20);
    assert.equal(p.perTask, 1000);
    assert.ok(p.fitLine);
    assert.ok(p.fitLine.x[0] >= 390 && p.fitLine.x[1] === 780, `line over ${p.fitLine.x.join('-')}`);
    assert.equal(p.fitLine.y[1] - p.fitLine.y[0], 1000 * (p.fitLine.x[1] - p.fitLine.x[0]));
    // The line passes through the data (within the noise of 1.2 KiB).
    assert.ok(Math.abs(p.fitLine.y[1] - p.y[p.y.length - 1]) < 1300, `${p.fitLine.y[1]} vs ${p.y[p.y.length - 1]}`);
  });

  it('weights each name by its share of the tasks: a leaking name in a 2:1 mix grows the worker two thirds as fast per task', () => {
    const pic = workerTrendPicture(new Map([['node:1', checkpoints(40, 900)]]), [row('a', 900), row('b', 0)]);
    assert.ok(pic);
    assert.ok(Math.abs(pic.processes[0].perTask! - 600) < 1e-9, String(pic.processes[0].perTask));
    assert.equal(pic.processes[0].label, 'node:1');
  });

  it('a row of names judged together stands for each of them', () => {
    const pic = workerTrendPicture(new Map([['node:1', checkpoints(40, 900)]]), [row('a + b', 600), row('a', 0), row('b', 0)]);
    assert.ok(Math.abs(pic!.processes[0].perTask! - 600) < 1e-9);
  });

  it('nothing to draw under five checkpoints or without tasks finished; long series are thinned and keep their last point', () => {
    assert.equal(workerTrendPicture(new Map([['node:1', checkpoints(4, 1000)]]), [row('a', 1000)]), undefined);
    const idle: Checkpoint[] = Array.from({ length: 10 }, () => ({ heap: 5e6, counts: { a: 3 } }));
    assert.equal(workerTrendPicture(new Map([['node:1', idle]]), [row('a', 1000)]), undefined);
    const long = checkpoints(2000, 10, false);
    const p = workerTrendPicture(new Map([['node:1', long]]), [row('a', 10)])!.processes[0];
    assert.ok(p.x.length <= RETAINED_POINTS + 1, String(p.x.length));
    assert.equal(p.x[p.x.length - 1], 1999 * 20);
  });

  it('no line where no row names the tasks counted', () => {
    const p = workerTrendPicture(new Map([['node:1', checkpoints(20, 1000)]]), [])!.processes[0];
    assert.equal(p.fitLine, undefined);
    assert.equal(p.perTask, undefined);
  });
});

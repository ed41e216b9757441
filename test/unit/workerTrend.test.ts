import assert from 'node:assert/strict';
import { rng } from '../support/prng';
import { site } from '../support/sites';
import { DEFAULT_FLOOR_BYTES } from '../../src/core/verdict';
import {
  attributeBySites,
  collinearGroups,
  fitOverallTrend,
  fitWorkerTrends,
  judgeTrend,
  measuredSeriesDecides,
  multipleRegression,
  splitByMeasuredDifferences,
  taskFunctionNames,
  type Checkpoint,
  type TaskTrend,
} from '../../src/core/workerTrend';

const K = 1024;
const M = 1024 * 1024;
const FLOOR = DEFAULT_FLOOR_BYTES;

const close = (actual: number, expected: number, tolerance: number, label = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label} expected ${expected} ± ${tolerance}, got ${actual}`);

interface WorkerOptions {
  seed: number;
  /** Stretches of mixed tasks between checkpoints. */
  stretches?: number;
  stretchSize?: number;
  /** A measured single task (checkpoint before and after it) after every stretch, as the bootloader emits. */
  measured?: boolean;
  /** Bytes the task keeps, given its name and how many tasks of any name finished before it. */
  keep: (name: string, finished: number) => number;
  /** Level noise of each checkpoint: uniform in ±noise. */
  noise?: number;
  names?: readonly string[];
}

/** A worker process running a seeded random 50/50 mix of task names, with a checkpoint after each full GC. */
function worker(options: WorkerOptions): Checkpoint[] {
  const { seed, stretches = 60, stretchSize = 200, measured = true, keep, noise = 2 * K, names = ['A', 'B'] } = options;
  const random = rng(seed);
  const counts: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  let finished = 0;
  let retained = 30 * M;
  const points: Checkpoint[] = [];
  const checkpoint = () => points.push({ heap: Math.round(retained + (random() * 2 - 1) * noise), counts: { ...counts } });
  const task = () => {
    const name = names[Math.floor(random() * names.length)];
    retained += keep(name, finished);
    counts[name]++;
    finished++;
  };
  checkpoint();
  for (let s = 0; s < stretches; s++) {
    for (let i = 0; i < stretchSize; i++) task();
    checkpoint();
    if (measured) {
      task();
      checkpoint();
    }
  }
  return points;
}

const byName = (trends: readonly TaskTrend[], name: string) => {
  const trend = trends.find((t) => t.names.includes(name));
  assert.ok(trend, `no trend for ${name} in ${JSON.stringify(trends.map((t) => t.names))}`);
  return trend;
};

describe('workerTrend', () => {
  describe('multipleRegression', () => {
    const n = 20;
    const x1 = Array.from({ length: n }, (_, i) => i);
    const x2 = Array.from({ length: n }, (_, i) => (i * i) % 7);

    it('recovers exact coefficients with an intercept, on heap-sized figures', () => {
      const y = x1.map((v, i) => 100 * M + 3 * v - 2 * x2[i]);
      const fit = multipleRegression([x1, x2], y)!;
      assert.equal(fit.df, 17);
      close(fit.coef[0], 3, 1e-6, 'coef 0');
      close(fit.coef[1], -2, 1e-6, 'coef 1');
      assert.equal(fit.residuals.length, n);
      for (const r of fit.residuals) close(r, 0, 1e-5, 'residual');
      for (const e of fit.stdErr) close(e, 0, 1e-5, 'stdErr');
    });

    it('recovers exact coefficients through the origin', () => {
      const y = x1.map((v, i) => 2000 * v + 7 * x2[i]);
      const fit = multipleRegression([x1, x2], y, false)!;
      assert.equal(fit.df, 18);
      close(fit.coef[0], 2000, 1e-6, 'coef 0');
      close(fit.coef[1], 7, 1e-6, 'coef 1');
    });

    it('through the origin is not fooled into an intercept, with one it is', () => {
      const y = x1.map((v) => 1000 + 5 * v);
      close(multipleRegression([x1], y)!.coef[0], 5, 1e-9);
      assert.ok(multipleRegression([x1], y, false)!.coef[0] > 50);
    });

    it('gives errors that grow with the noise', () => {
      const jitter = [0.3, -0.8, 0.5, -0.1, 0.9, -0.6, 0.2, -0.4, 0.7, -0.9];
      const y = x1.map((v, i) => 10 * v + 4 * x2[i] + jitter[i % 10] * 50);
      const fit = multipleRegression([x1, x2], y)!;
      close(fit.coef[0], 10, 5, 'coef 0');
      close(fit.coef[1], 4, 20, 'coef 1');
      assert.ok(
        fit.stdErr.every((e) => e > 0 && Number.isFinite(e)),
        String(fit.stdErr),
      );
    });

    it('is undefined for singular data or no degrees of freedom', () => {
      const y = x1.map((v) => 3 * v);
      assert.equal(multipleRegression([x1, x1.map((v) => 2 * v)], y), undefined);
      assert.equal(multipleRegression([x1, x1.map((v) => 2 * v)], y, false), undefined);
      // A constant column is singular against the intercept.
      assert.equal(multipleRegression([x1, x1.map(() => 5)], y), undefined);
      assert.equal(multipleRegression([[1, 2]], [3, 4]), undefined);
      assert.equal(multipleRegression([], y), undefined);
    });
  });

  describe('collinearGroups', () => {
    it('groups names whose counts are proportional, keeps the others apart', () => {
      const points: Checkpoint[] = [
        { heap: 0, counts: { A: 1, B: 2, C: 5 } },
        { heap: 0, counts: { A: 2, B: 4, C: 1 } },
        { heap: 0, counts: { A: 3, B: 6, C: 4 } },
        { heap: 0, counts: { A: 4, B: 8, C: 2 } },
      ];
      const groups = collinearGroups(points, ['C', 'B', 'A']);
      assert.deepEqual(groups.map((g) => g.join(',')).sort(), ['A,B', 'C']);
    });

    it('groups names whose counts are constant over the rows: proportional through the origin', () => {
      // The rows fitWorkerTrends fits are the tasks between checkpoints, through the origin: a fixed
      // 100 A and 100 B (or 100 A and 50 B) in every row cannot be told apart, although their
      // centred correlation is undefined (no spread).
      const even: Checkpoint[] = [0, 1, 2, 3].map(() => ({ heap: 0, counts: { A: 100, B: 100 } }));
      assert.deepEqual(collinearGroups(even, ['A', 'B']), [['A', 'B']]);
      const twoToOne: Checkpoint[] = [0, 1, 2, 3].map(() => ({ heap: 0, counts: { A: 100, B: 50 } }));
      assert.deepEqual(collinearGroups(twoToOne, ['A', 'B']), [['A', 'B']]);
    });
  });

  describe('fitWorkerTrends', () => {
    const leakInA = (name: string) => (name === 'A' ? 2000 : 0);

    it('splits a 50/50 mix: A keeps 2,000 B per task (leak), B nothing (no leak)', () => {
      const trends = fitWorkerTrends([worker({ seed: 15, keep: leakInA })]);
      assert.equal(trends.length, 2);
      const a = byName(trends, 'A');
      const b = byName(trends, 'B');
      assert.deepEqual(a.names, ['A']);
      assert.deepEqual(b.names, ['B']);
      close(a.whole.perTask, 2000, 0.03 * 2000, 'A whole');
      close(a.later!.perTask, 2000, 0.05 * 2000, 'A later');
      close(b.whole.perTask, 0, 60, 'B whole');
      // 60 stretches, each followed by one measured task: 121 checkpoints, 12,060 tasks.
      assert.equal(a.checkpoints, 121);
      assert.equal(a.tasks + b.tasks, 60 * 201);
      const judgedA = judgeTrend(a, FLOOR);
      assert.equal(judgedA.verdict.kind, 'leak');
      assert.ok(judgedA.verdict.confidence >= 0.99);
      close(judgedA.perTask, 2000, 0.05 * 2000);
      assert.match(judgedA.verdict.summary, /grows by \+[\d.]+ KiB per task/);
      assert.notEqual(judgeTrend(b, FLOOR).verdict.kind, 'leak');
      assert.equal(judgeTrend(b, FLOOR).verdict.kind, 'no-leak');
    });

    it('reaches the same split with other seeds', () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const trends = fitWorkerTrends([worker({ seed, keep: leakInA })]);
        close(byName(trends, 'A').whole.perTask, 2000, 0.05 * 2000, `seed ${seed} A`);
        assert.equal(judgeTrend(byName(trends, 'A'), FLOOR).verdict.kind, 'leak', `seed ${seed} A`);
        assert.notEqual(judgeTrend(byName(trends, 'B'), FLOOR).verdict.kind, 'leak', `seed ${seed} B`);
      }
    });

    it('leaves out a V8 accounting step and still finds the leak', () => {
      const points = worker({ seed: 7, keep: leakInA });
      // The retained heap jumps by 1.5 MB at one checkpoint onwards (a large-object page).
      for (let i = 50; i < points.length; i++) points[i] = { ...points[i], heap: points[i].heap + 1.5 * M };
      const a = byName(fitWorkerTrends([points]), 'A');
      assert.ok(a.outliers >= 1, String(a.outliers));
      close(a.whole.perTask, 2000, 0.05 * 2000, 'A whole');
      assert.equal(judgeTrend(a, FLOOR).verdict.kind, 'leak');
      assert.match(judgeTrend(a, FLOOR).verdict.evidence.join('\n'), /far off the trend/);
    });

    // A level read ~190 KiB high at one checkpoint and back at the next (seen at the GC ending a
    // measured task in attached BullMQ workers): the rows are differences, so it counted twice.
    const misreadAt = (points: Checkpoint[], indices: readonly number[], by: number) =>
      points.map((point, i) => (indices.includes(i) ? { ...point, heap: point.heap + by } : point));

    it('a few checkpoints read off and back at the next do not widen the trend, in the whole session or its halves', () => {
      for (const seed of [3, 8, 13]) {
        const clean = worker({ seed, keep: leakInA, noise: 32 * K });
        const misread = misreadAt(clean, [31, 70, 95, 110], 190 * K);
        const [asRead, repaired] = [fitOverallTrend([clean])!, fitOverallTrend([misread])!];
        assert.equal(repaired.misread, 4, `seed ${seed}`);
        for (const half of ['whole', 'early', 'later'] as const) {
          const [a, b] = [asRead[half]!, repaired[half]!];
          assert.ok(b.stdErr <= 1.2 * a.stdErr, `seed ${seed} ${half}: ${b.stdErr} B against ${a.stdErr} B without the misreads`);
          close(b.perTask, a.perTask, 3 * a.stdErr, `seed ${seed} ${half}`);
        }
        assert.match(judgeTrend(repaired, FLOOR).verdict.evidence.join('\n'), /1 checkpoint|4 checkpoint\(s\) read off and back at the next/);
      }
    });

    // Every task measured (a GC at its start and end), names in turn, and the session's captures
    // between them: rows of one task each read the leaking name's growth and 0 alternately, and one fit
    // on the total count took one kind for outliers (a 28 KiB/task leak read "+100 B/task, levelled off").
    it('the overall trend of names that keep differently, every task measured, is their mix, not one of them', () => {
      const perTaskOfA = 28 * K;
      for (const seed of [1, 2, 3]) {
        const random = rng(seed);
        const counts = { A: 0, B: 0 };
        let retained = 30 * M;
        const points: Checkpoint[] = [];
        // Now and then a level reads 200 KiB high and is back at the next (V8 accounting).
        let misread = false;
        const read = (phase: Checkpoint['phase']) => {
          points.push({ heap: Math.round(retained + (random() * 2 - 1) * 512) + (misread ? 200 * K : 0), counts: { ...counts }, phase });
          misread = false;
        };
        for (let task = 0; task < 240; task++) {
          misread = task % 40 === 20;
          read('start');
          const name = task % 2 ? 'B' : 'A';
          if (name === 'A') retained += perTaskOfA;
          counts[name]++;
          read('end');
          // The session's own captures add checkpoints between tasks.
          if (task % 8 === 7) read('capture');
        }
        const overall = fitOverallTrend([points])!;
        for (const half of ['whole', 'early', 'later'] as const) close(overall[half]!.perTask, perTaskOfA / 2, 0.05 * perTaskOfA, `seed ${seed} ${half}`);
        assert.equal(judgeTrend(overall, FLOOR).verdict.kind, 'leak', `seed ${seed}`);
        const a = byName(fitWorkerTrends([points]), 'A');
        close((a.later ?? a.whole).perTask, perTaskOfA, 0.05 * perTaskOfA, `seed ${seed} A`);
      }
    });

    it('a lasting step or a clean worker with misreads is not repaired into growth', () => {
      // A step that stays (a large-object page) is one row off, not a pair: it is not a misread.
      const stepped = worker({ seed: 9, keep: () => 0, noise: 32 * K }).map((point, i) => (i >= 60 ? { ...point, heap: point.heap + 400 * K } : point));
      assert.equal(fitOverallTrend([stepped])!.misread, 0);
      for (const seed of [4, 5, 6]) {
        const misread = misreadAt(worker({ seed, keep: () => 0, noise: 32 * K }), [20, 41, 90, 101], seed % 2 ? 190 * K : -190 * K);
        const trend = fitOverallTrend([misread])!;
        assert.notEqual(judgeTrend(trend, FLOOR).verdict.kind, 'leak', `seed ${seed}: ${judgeTrend(trend, FLOOR).verdict.summary}`);
      }
    });

    it('growth that stops half way is a plateau', () => {
      // A keeps 2,000 B per task until half of the 12,060 tasks have run, then nothing.
      const trends = fitWorkerTrends([worker({ seed: 21, keep: (name, finished) => (name === 'A' && finished < 6030 ? 2000 : 0) })]);
      const a = byName(trends, 'A');
      assert.ok(a.early!.perTask > 1000, String(a.early!.perTask));
      close(a.later!.perTask, 0, 60, 'A later');
      const judged = judgeTrend(a, FLOOR);
      assert.equal(judged.verdict.kind, 'plateau');
      assert.match(judged.verdict.summary, /levelled off/);
      assert.equal(judgeTrend(byName(trends, 'B'), FLOOR).verdict.kind, 'no-leak');
    });

    it('a flat worker is no leak for every name', () => {
      const trends = fitWorkerTrends([worker({ seed: 33, keep: () => 0 })]);
      assert.equal(trends.length, 2);
      for (const trend of trends) {
        close(trend.whole.perTask, 0, 60, trend.names.join());
        const judged = judgeTrend(trend, FLOOR);
        assert.equal(judged.verdict.kind, 'no-leak', trend.names.join());
        assert.ok(judged.verdict.confidence >= 0.5);
      }
    });

    it('groups two names that always run together and fits their shared growth', () => {
      const random = rng(99);
      const points: Checkpoint[] = [];
      let a = 0;
      let b = 0;
      let heap = 40 * M;
      points.push({ heap, counts: { A: a, B: b } });
      for (let s = 0; s < 40; s++) {
        // A then B, in turn: 50 to 150 pairs between checkpoints.
        const pairs = 50 + Math.floor(random() * 100);
        a += pairs;
        b += pairs;
        heap += pairs * 2000;
        points.push({ heap: heap + Math.round((random() * 2 - 1) * 2 * K), counts: { A: a, B: b } });
      }
      const trends = fitWorkerTrends([points]);
      assert.equal(trends.length, 1);
      assert.deepEqual(trends[0].names, ['A', 'B']);
      // 2,000 B per pair: 1,000 B per task of the group.
      close(trends[0].whole.perTask, 1000, 20);
      assert.equal(trends[0].tasks, a + b);
      const judged = judgeTrend(trends[0], FLOOR, ['B']);
      assert.equal(judged.verdict.kind, 'leak');
      assert.ok(judged.verdict.evidence.some((e) => e.startsWith('judged together with B')));
    });

    it('groups two names in a fixed rotation between evenly spaced checkpoints (constant counts per row)', () => {
      // A then B in turn, a checkpoint every 200 tasks: every row has exactly 100 A and 100 B.
      const points: Checkpoint[] = [];
      let heap = 40 * M;
      for (let s = 0; s <= 40; s++) {
        points.push({ heap: heap + (((s * 37) % 11) - 5) * 300, counts: { A: 100 * s, B: 100 * s } });
        heap += 100 * 2000;
      }
      // The worker as a whole: exactly 1,000 B per task.
      close(fitOverallTrend([points])!.whole.perTask, 1000, 20, 'overall');
      const trends = fitWorkerTrends([points]);
      assert.deepEqual(
        trends.map((t) => t.names),
        [['A', 'B']],
      );
      close(trends[0].whole.perTask, 1000, 20);
      assert.equal(judgeTrend(trends[0], FLOOR, ['B']).verdict.kind, 'leak');
    });

    it('combines processes: tasks and checkpoints add up, the estimate stays', () => {
      const first = worker({ seed: 41, keep: leakInA, stretches: 30 });
      const second = worker({ seed: 42, keep: leakInA, stretches: 30 });
      const trends = fitWorkerTrends([first, second]);
      const a = byName(trends, 'A');
      assert.equal(a.checkpoints, first.length + second.length);
      assert.equal(a.tasks, first[first.length - 1].counts.A + second[second.length - 1].counts.A);
      close(a.whole.perTask, 2000, 0.05 * 2000);
    });

    it('needs three checkpoints and a name whose count moved', () => {
      assert.deepEqual(
        fitWorkerTrends([
          [
            { heap: 1, counts: { A: 1 } },
            { heap: 2, counts: { A: 2 } },
          ],
        ]),
        [],
      );
      const still: Checkpoint[] = [1, 2, 3, 4].map((heap) => ({ heap, counts: { A: 5 } }));
      assert.deepEqual(fitWorkerTrends([still]), []);
    });
  });

  describe('judgeTrend', () => {
    const trend = (perTask: number, stdErr: number): TaskTrend => ({
      names: ['ingest'],
      whole: { perTask, stdErr, df: 40 },
      later: { perTask, stdErr, df: 20 },
      early: { perTask, stdErr: stdErr * 1.4, df: 20 },
      tasks: 4000,
      checkpoints: 42,
      outliers: 0,
      misread: 0,
    });

    it('calls growth 99% sure a leak, 95-99% sure inconclusive (never "no leak"), below that no leak', () => {
      // 128 B floor: growth of floor + t·stdErr is as sure as a one-sided t test at t says.
      assert.equal(judgeTrend(trend(128 + 3.5 * 100, 100), 128).verdict.kind, 'leak');
      const probable = judgeTrend(trend(128 + 2.0 * 100, 100), 128).verdict;
      assert.equal(probable.kind, 'inconclusive');
      assert.ok(probable.confidence >= 0.95 && probable.confidence < 0.99, String(probable.confidence));
      assert.match(probable.summary, /^Probably growing, not yet sure: \+328 B\/task ± 100 B over 4,000 tasks/);
      assert.equal(judgeTrend(trend(128 + 1.0 * 100, 100), 128).verdict.kind, 'no-leak');
      assert.equal(judgeTrend(trend(0, 100), 128).verdict.kind, 'no-leak');
    });
  });

  describe('fitOverallTrend', () => {
    it('sums the names: growth per task of any name', () => {
      // Both names keep 1,500 B per task, no noise: exactly 1,500 B per task overall.
      const points = worker({ seed: 5, keep: () => 1500, noise: 0 });
      const overall = fitOverallTrend([points])!;
      assert.deepEqual(overall.names, ['A', 'B']);
      close(overall.whole.perTask, 1500, 1e-6);
      const last = points[points.length - 1];
      assert.equal(overall.tasks, last.counts.A + last.counts.B);
      assert.equal(overall.tasks, 60 * 201);
    });

    it('averages a 50/50 mix of 2,000 B and nothing to about 1,000 B per task', () => {
      const overall = fitOverallTrend([worker({ seed: 15, keep: (name) => (name === 'A' ? 2000 : 0) })])!;
      close(overall.whole.perTask, 1000, 60);
      assert.equal(judgeTrend(overall, FLOOR).verdict.kind, 'leak');
    });

    it('is undefined without usable checkpoints', () => {
      assert.equal(fitOverallTrend([]), undefined);
    });
  });

  describe('taskFunctionNames', () => {
    it('compares loosely and takes the last part of a dotted name', () => {
      assert.deepEqual(taskFunctionNames('record-shipment'), ['recordshipment']);
      assert.deepEqual(taskFunctionNames('shop.ingest'), ['shopingest', 'ingest']);
      assert.deepEqual(taskFunctionNames('tasks:Send_Mail'), ['taskssendmail', 'sendmail']);
    });
  });

  describe('attributeBySites', () => {
    it("matches the functions the process said handled a name (an HTTP route's named handler)", () => {
      const names = ['POST /api/users/:name/sessions', 'GET /api/users/:name'];
      const sites = [site('openSession', 900 * K, { stack: ['openSession', 'createSession', 'handle'] })];
      assert.equal(attributeBySites(names, sites), undefined);
      const handlers = (name: string) => (name.startsWith('POST') ? ['createSession'] : ['showUser']);
      assert.equal(attributeBySites(names, sites, handlers), 'POST /api/users/:name/sessions');
      // A handler shared by both routes tells nothing.
      assert.equal(
        attributeBySites(names, sites, () => ['createSession']),
        undefined,
      );
    });

    const names = ['record-shipment', 'shop.ingest'];

    it("picks the name whose function is the growing site (recordShipment ↔ 'record-shipment')", () => {
      assert.equal(attributeBySites(names, [site('recordShipment', 900 * K), site('helper', 10 * K)]), 'record-shipment');
    });

    it("picks the name whose function is on the site's stack ('shop.ingest' ↔ ingest)", () => {
      const sites = [site('push', 800 * K, { stack: ['push', 'ingest', 'main'] }), site('record_shipment', 50 * K)];
      assert.equal(attributeBySites(names, sites), 'shop.ingest');
    });

    it('is undefined when two names share the growing sites', () => {
      assert.equal(attributeBySites(names, [site('recordShipment', 500 * K), site('ingest', 500 * K)]), undefined);
      // One site whose stack passes through both functions.
      assert.equal(attributeBySites(names, [site('store', 1 * M, { stack: ['store', 'recordShipment', 'ingest'] })]), undefined);
      // 70% / 30%: below the 80% a name needs.
      assert.equal(attributeBySites(names, [site('recordShipment', 700 * K), site('ingest', 300 * K)]), undefined);
    });

    it('looks only at growing user sites', () => {
      const sites = [
        site('recordShipment', 100 * K),
        site('ingest', 5 * M, { category: 'dependency' }),
        site('ingest', 5 * M, { bytesPerRun: -200 }),
        site('ingest', 5 * M, { bytesPerRun: 0 }),
      ];
      assert.equal(attributeBySites(names, sites), 'record-shipment');
      // A site with no growth figure yet counts as growing.
      assert.equal(attributeBySites(names, [site('ingest', 1 * M, { bytesPerRun: undefined })]), 'shop.ingest');
    });

    it('is undefined when no growing site names either task', () => {
      assert.equal(attributeBySites(names, [site('somethingElse', 1 * M)]), undefined);
      // A name's own small site does not take the growth of a bigger one no name matches.
      assert.equal(attributeBySites(['mail:send', 'mail:render'], [site('recordDelivery', 4 * M), site('render', 200 * K)]), undefined);
      assert.equal(attributeBySites(names, []), undefined);
    });
  });

  describe('splitByMeasuredDifferences', () => {
    it('recovers each name from the group trend and figures that share one offset', () => {
      // Truth: A 2,100 B, B 0 B per task; two A to one B: the group grows 1,400 B per task.
      const group = { perTask: 1400, stdErr: 30, df: 40 };
      const split = splitByMeasuredDifferences(group, [
        { perRun: 2100 - 3000, stdErr: 10, df: 200, tasks: 2000 },
        { perRun: 0 - 3000, stdErr: 10, df: 100, tasks: 1000 },
      ])!;
      close(split[0].perTask, 2100, 1, 'A');
      close(split[1].perTask, 0, 1, 'B');
      // The trend's error carries over; the measured differences add theirs.
      assert.ok(split[0].stdErr > 30 && split[0].stdErr < 40, String(split[0].stdErr));
      // Degrees of freedom of the sum (Welch–Satterthwaite): the trend's dominate its error here.
      assert.ok(split[0].df > 40 && split[0].df < 60, String(split[0].df));
    });

    it('a share resting on a dozen measured tasks has the degrees of freedom of a dozen, not of the trend', () => {
      const split = splitByMeasuredDifferences({ perTask: 2000, stdErr: 90, df: 60 }, [
        { perRun: 2000, stdErr: 1300, df: 8, tasks: 1500 },
        { perRun: 0, stdErr: 1300, df: 8, tasks: 1500 },
      ])!;
      close(split[0].perTask, 3000, 1, 'A');
      close(split[1].perTask, 1000, 1, 'B');
      assert.ok(split[0].df < 20, String(split[0].df));
    });

    it('needs two names with figures and tasks', () => {
      assert.equal(splitByMeasuredDifferences({ perTask: 1, stdErr: 1, df: 10 }, [{ perRun: 1, stdErr: 1, df: 4, tasks: 5 }]), undefined);
      assert.equal(
        splitByMeasuredDifferences({ perTask: 1, stdErr: 1, df: 10 }, [
          { perRun: 1, stdErr: Number.NaN, df: 4, tasks: 5 },
          { perRun: 1, stdErr: 1, df: 4, tasks: 5 },
        ]),
        undefined,
      );
    });
  });

  describe('measuredSeriesDecides', () => {
    const trend = { perTask: 2 * K, stdErr: 150, df: 40 };

    it('lets a tighter per-task series decide when it agrees with the trend', () => {
      assert.equal(measuredSeriesDecides({ perRun: 2.1 * K, stdErr: 40 }, trend), true);
    });

    it('keeps the trend when the tight per-task series is far from it (a biased in-task GC, steps it misses)', () => {
      // A burst worker: per-task readings around -1 KiB with rare backing-store steps trimmed away,
      // tight around a figure the whole heap does not show.
      assert.equal(measuredSeriesDecides({ perRun: 96, stdErr: 20 }, trend), false);
    });

    it('keeps the trend when the per-task series is less precise, whatever it says', () => {
      assert.equal(measuredSeriesDecides({ perRun: 2 * K, stdErr: 400 }, trend), false);
      assert.equal(measuredSeriesDecides({ perRun: 2 * K, stdErr: Number.NaN }, trend), false);
    });
  });
});

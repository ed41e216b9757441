import assert from 'node:assert/strict';
import type { TaskRun, TaskSummary } from '../../src/core/model';
import { judgeHighWater, judgeOverall, judgeTask, summarizeTask } from '../../src/core/verdict';

const K = 1024;
const M = 1024 * 1024;
// Fixed "noise" so every expectation is reproducible: zero mean, ±1.
const JITTER = [0.3, -0.8, 0.5, -0.1, 0.9, -0.6, 0.2, -0.4, 0.7, -0.9, 0.1, 0.1];

function runs(ys: number[], rss?: number[]): TaskRun[] {
  return ys.map((y, i) => ({ index: i, retainedBytes: y, durationMs: 5, ...(rss ? { rssBytes: rss[i] } : {}) }));
}
function series(n: number, f: (i: number) => number): number[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

describe('verdict', () => {
  describe('judgeTask', () => {
    it('needs minRuns runs', () => {
      const v = judgeTask(runs([1, 2, 3]));
      assert.equal(v.kind, 'inconclusive');
      assert.match(v.summary, /needs at least 4 runs/);
      // With minRuns 3 three runs are judged (not refused), but three exact points are not yet proof:
      // two increments that both went up happen one time in four by chance.
      assert.doesNotMatch(judgeTask(runs([0, 100 * K, 200 * K]), { minRuns: 3 }).summary, /needs at least/);
      assert.equal(judgeTask(runs([0, 100 * K, 200 * K, 300 * K, 400 * K, 500 * K, 600 * K, 700 * K]), { minRuns: 3 }).kind, 'leak');
    });

    it('four later runs in rising order are not proof: they happen by chance once in 24 (the order test)', () => {
      // Python's allocator noise moves in steps of ~0.5 KiB: a clean burst read like this in CI
      // (6 runs, no warm-up), and its three near-equal increments passed the size tests at 99%.
      const burst = judgeTask(runs([2083, 22343, 22872, 23424, 23900, 24398]));
      assert.equal(burst.kind, 'inconclusive', burst.summary);
      assert.match(burst.summary, /but 4 runs can rise in that order by chance \(96% sure/);
      assert.match(burst.advice, /--runs 20/);
      // Six runs of an exact 100 KiB/run leak are no different by their order alone; eight are.
      assert.equal(judgeTask(runs([0, 100 * K, 200 * K, 300 * K, 400 * K, 500 * K])).kind, 'inconclusive');
      const eight = judgeTask(runs([0, 100 * K, 200 * K, 300 * K, 400 * K, 500 * K, 600 * K, 700 * K]));
      assert.equal(eight.kind, 'leak', eight.summary);
      assert.ok(eight.evidence.includes('order test (Kendall): 99% sure the runs rise'), eight.evidence.join('\n'));
    });

    it("one run's kept memory read a run late does not hide a steady leak, nor make a clean series one", () => {
      // leaky-worker.js#handleJob with the default then (10 runs), 1 session in 24 (and the extension host
      // suite in CI): every run keeps ~20.5 KiB, but one read -1.4 KiB and the next +45 KiB. The pair
      // took the typical run's test to 98% and split the level trend's steps.
      const readings = [3958511, 3979887, 4000439, 4021031, 4041559, 4040103, 4085679, 4106223, 4127015, 4147943];
      const late = judgeTask(runs(readings), { separateReadings: true });
      assert.equal(late.kind, 'leak', late.summary);
      // A worker's series is a running total of what each task was charged: no level is misread there.
      assert.notEqual(judgeTask(runs(readings)).kind, 'leak');
      assert.ok(
        late.evidence.some((e) => e.startsWith('1 run read off by a step the next run undid')),
        late.evidence.join('\n'),
      );
      // The same deferred pair in a flat series is not growth.
      const flat = judgeTask(
        runs([4 * M, 4 * M + 310, 4 * M - 120, 4 * M + 90, 4 * M + 200, 4 * M - 22 * K, 4 * M + 260, 4 * M - 40, 4 * M + 150, 4 * M + 60]),
        { separateReadings: true },
      );
      assert.notEqual(flat.kind, 'leak', flat.summary);
    });

    it("a short Node series whose whole rise fits V8's warm-up is not a leak yet; the same rise over 60+ runs, or a larger one, is", () => {
      const node = (ys: number[]): TaskRun[] => runs(ys).map((run) => ({ ...run, runtime: 'node' as const }));
      // A task of temporaries over 10 runs reads like this in CI: ~450 B more on every run (V8 warm-up).
      const warmUp = node(series(10, (i) => 5 * M + 450 * i + JITTER[i]! * 20));
      const early = judgeTask(warmUp);
      assert.equal(early.kind, 'inconclusive');
      assert.match(early.summary, /V8's warm-up/);
      assert.match(early.advice, /at least 60 runs/);
      // The same shape without a runtime (Python, or not known) is judged on its figures alone.
      assert.equal(judgeTask(runs(warmUp.map((r) => r.retainedBytes))).kind, 'leak');
      // 500 B per run over 60 runs: past the warm-up's span, a leak.
      assert.equal(judgeTask(node(series(60, (i) => 5 * M + 500 * i + JITTER[i % JITTER.length]! * 50))).kind, 'leak');
      // 20 KiB per run over 10 runs: 180 KiB, far beyond any warm-up, a leak.
      assert.equal(judgeTask(node(series(10, (i) => 5 * M + 20 * K * i))).kind, 'leak');
    });

    it('a steady growth over a few noisy runs is never a plateau or "no leak": it is inconclusive until sure', () => {
      const steady = (pattern: number[], noise: number): TaskRun[] =>
        pattern.map((p, i) => ({ index: i, retainedBytes: 30 * M + 24 * K * i + p * noise, durationMs: 3, runtime: 'node' }));
      // The later runs grow as fast as the first ones: the old fallback called this a plateau "with 0% confidence".
      const stillRising = judgeTask(steady([0, 0, 1, -1, 1, -1], 3000));
      assert.equal(stillRising.kind, 'inconclusive', stillRising.summary);
      assert.match(stillRising.summary, /still grows at \+23\.0 KiB\/run/);
      // 95-99% sure of growth: "probably grows, not yet sure", not "no leak".
      const probable = judgeTask(steady([0, 1, -1, 1, -1, 0], 6000));
      assert.equal(probable.kind, 'inconclusive', probable.summary);
      assert.ok(probable.confidence >= 0.95 && probable.confidence < 0.99, String(probable.confidence));
      assert.match(probable.summary, /^Retained heap probably grows, not yet sure/);
      // A cache that fills over 20 of 100 runs is still a plateau.
      const cache = judgeTask(runs(series(100, (i) => 30 * M + Math.min(i, 20) * 10 * K + ((i * 7919) % 13) * 50)));
      assert.equal(cache.kind, 'plateau', cache.summary);
    });

    it('a steady 41 KiB per run is a leak, with figures', () => {
      const v = judgeTask(runs(series(12, (i) => 20 * M + 41 * K * i)));
      assert.equal(v.kind, 'leak');
      assert.equal(v.summary, 'Retained heap grows by +41.0 KiB per run: +3.9 GiB per 100,000 runs (over 12 measured runs).');
      assert.ok(v.confidence >= 0.99);
      assert.match(v.advice, /listeners/);
      assert.ok(
        v.evidence.some((e) => e.startsWith('later half +41.0 KiB/run (Theil-Sen), typical run +41.0 KiB/run')),
        v.evidence.join('\n'),
      );
      assert.ok(v.evidence.includes('12 runs'));
      assert.ok(v.evidence.includes('first half +41.0 KiB/run'));
    });

    it('a noisy leak is still a leak', () => {
      const v = judgeTask(runs(series(12, (i) => 20 * M + 41 * K * i + JITTER[i] * 30 * K)));
      assert.equal(v.kind, 'leak');
      assert.ok(v.confidence > 0.99);
    });

    it('growth that starts late is a leak (second half steeper)', () => {
      assert.equal(judgeTask(runs(series(12, (i) => 20 * M + 60 * K * Math.max(0, i - 5)))).kind, 'leak');
    });

    it('a cache that fills then stops is a plateau', () => {
      const v = judgeTask(runs(series(12, (i) => 20 * M + 100 * K * Math.min(i, 4) + JITTER[i] * 2 * K)));
      assert.equal(v.kind, 'plateau');
      assert.match(v.summary, /levelled off/);
      assert.match(v.advice, /bounded cache/);
      assert.ok(v.confidence > 0.9);
    });

    // The e2e's clean task in CI (30 runs after 10 warm-up): 33 KiB kept in its second run, as V8
    // installed optimized code, ~4 KiB more over the next eight, then flat, one reading 18 KiB low.
    const warmUpStep = (i: number) => 3 * M + (i === 0 ? 0 : 33 * K + 512 * Math.min(i - 1, 8)) + JITTER[i % JITTER.length] * 300 - (i === 23 ? 18 * K : 0);

    it('one run that keeps a warm-up step and little beside it is not a cache filling', () => {
      const v = judgeTask(runs(series(30, warmUpStep)));
      assert.notEqual(v.kind, 'plateau', `${v.summary} | ${v.evidence.join(' | ')}`);
      assert.notEqual(v.kind, 'leak', v.summary);
      // A one-time step of any size is not a leak either: a lazily built 1 MiB table.
      const lazy = judgeTask(runs(series(30, (i) => 3 * M + (i >= 1 ? M : 0) + JITTER[i % JITTER.length] * 300)));
      assert.ok(lazy.kind === 'no-leak', `${lazy.kind}: ${lazy.summary}`);
    });

    it('a cache that fills over several runs is still a plateau, whatever its largest step', () => {
      // Twelve 16 KiB entries over the first runs, one of them 64 KiB.
      const fill = (i: number) => 3 * M + 16 * K * Math.min(i, 12) + (i >= 3 ? 48 * K : 0) + JITTER[i % JITTER.length] * 300;
      const v = judgeTask(runs(series(30, fill)));
      assert.equal(v.kind, 'plateau', `${v.summary} | ${v.evidence.join(' | ')}`);
    });

    it('flat memory is no leak', () => {
      const v = judgeTask(runs(series(12, (i) => 20 * M + JITTER[i] * 4 * K)));
      assert.equal(v.kind, 'no-leak');
      // ±4 KiB between 12 runs: no growth to stand behind, and the bound says how much could hide.
      assert.match(v.summary, /no steady growth: \+410 B\/run .* \(at most \+1\.1 KiB\/run at 95%\)/);
      assert.match(v.advice, /allocator high water/);
      // The same series measured exactly flat is no leak with full confidence.
      const exact = judgeTask(runs(series(12, () => 20 * M)));
      assert.equal(exact.kind, 'no-leak');
      assert.equal(exact.confidence, 1);
    });

    it('a small steady growth is a leak: no fixed floor, only the measured noise', () => {
      assert.equal(judgeTask(runs(series(12, (i) => 20 * M + 2 * K * i))).kind, 'leak');
      // 496 B on every run of 100, as an audit trail keeps: a leak, sized per run and projected.
      const audit = judgeTask(runs(series(100, (i) => 20 * M + 496 * i)));
      assert.equal(audit.kind, 'leak');
      assert.match(audit.summary, /\+496 B per run: \+47\.3 MiB per 100,000 runs/);
      // Under the method's floor (8 B: one pointer-sized word) it is not, however steady.
      assert.equal(judgeTask(runs(series(100, (i) => 20 * M + 4 * i))).kind, 'no-leak');
      assert.equal(judgeTask(runs(series(100, (i) => 20 * M + 4 * i)), { floorBytes: 2 }).kind, 'leak');
    });

    it('one small object per call is a leak even when the array backing store grows in steps', () => {
      // 16 B per object; the backing store is re-allocated at capacities 17, 41, 77, 131, … (grow by half + 16).
      let capacity = 17;
      let level = 20 * M;
      const ys: number[] = [];
      for (let i = 0; i < 300; i++) {
        level += 16;
        if (i + 1 > capacity) {
          const next = capacity + (capacity >> 1) + 16;
          level += 4 * (next - capacity);
          capacity = next;
        }
        ys.push(level);
      }
      assert.equal(judgeTask(runs(ys)).kind, 'leak');
    });

    it('a warm-up bump that goes flat is no leak, and neither are occasional steps up and down', () => {
      // What a clean task measured in the harness: one-time steps in the first runs, then exact zeros.
      const warm = series(150, (i) => 20 * M + (i > 0 ? 88 : 0) + (i > 5 ? 120 : 0) + (i > 11 ? 8448 : 0) + (i > 63 ? 616 : 0));
      assert.equal(judgeTask(runs(warm)).kind, 'no-leak');
      // A real library's pure function: flat, with ±1.5 MB accounting jumps now and then.
      const jumps = series(200, (i) => 22 * M + (i >= 40 && i < 90 ? 1.5 * M : 0) + (i >= 150 ? 1.5 * M : 0) + JITTER[i % 12] * 1024);
      assert.notEqual(judgeTask(runs(jumps)).kind, 'leak');
    });

    it('wild swings are inconclusive', () => {
      const v = judgeTask(runs(series(12, (i) => 20 * M + JITTER[i] * 8 * M)));
      assert.equal(v.kind, 'inconclusive');
      assert.match(v.summary, /varies too much/);
      assert.match(v.advice, /--warmup/);
    });

    it('growth that is slowing but not flat is inconclusive', () => {
      const v = judgeTask(runs(series(12, (i) => 20 * M + 400 * K * Math.log1p(i))));
      assert.equal(v.kind, 'inconclusive');
      assert.match(v.summary, /slowing/);
    });

    it('growth that V8 compiling the task can explain is not a leak yet; growth beyond it, or with no code compiled, is', () => {
      // 200 runs: retained +900 B/run with ~±2 KiB of noise; compiled code grows by `code` B/run in
      // steps (one function every few runs), as TypeScript's transpileModule reads at 200 runs.
      const withCode = (perRun: number, code: number, noise = 2 * K): TaskRun[] =>
        series(200, (i) => i).map((i) => ({
          index: i,
          retainedBytes: 40 * M + perRun * i + JITTER[i % JITTER.length]! * noise,
          compiledCodeBytes: 3 * M + Math.floor(i / 4) * 4 * code,
          durationMs: 14,
          runtime: 'node',
        }));
      const compiling = judgeTask(withCode(900, 900));
      assert.equal(compiling.kind, 'inconclusive', compiling.summary);
      assert.match(compiling.summary, /while V8 was still compiling the task's code \(\+(899|900) B\/run of compiled code\)/);
      assert.match(compiling.advice, /--runs 1000/);
      assert.ok(compiling.evidence.some((line) => /^compiled code \+(899|900) B\/run over the later runs/.test(line)));
      // Far more growth than the compiled code could carry: a leak, whatever V8 compiles beside it.
      assert.equal(judgeTask(withCode(4 * K, 900)).kind, 'leak');
      // A small leak while V8 compiles a little now and then (a ~57 B/run leak read ~14 B/run of code).
      assert.equal(judgeTask(withCode(57, 14, 100)).kind, 'leak');
      // A small leak whose later runs saw one function compiled (6 KiB of code at once, +120 B/run by
      // least squares): one tier-up is not V8 still compiling, and it keeps no metadata worth the name.
      const oneTierUp = withCode(56, 0, 20).map((run) => ({ ...run, compiledCodeBytes: run.compiledCodeBytes! + (run.index >= 150 ? 6 * K : 0) }));
      assert.equal(judgeTask(oneTierUp).kind, 'leak');
      // The same growth with no code compiled, or with no code figures (Python, or not known), is a leak.
      assert.equal(judgeTask(withCode(900, 0)).kind, 'leak');
      assert.equal(judgeTask(withCode(900, 900).map(({ compiledCodeBytes: _code, ...run }) => run)).kind, 'leak');
    });

    it('orders runs by index', () => {
      const shuffled = runs(series(8, (i) => 50 * K * i)).reverse();
      assert.equal(judgeTask(shuffled).kind, 'leak');
    });
  });

  describe('judgeHighWater', () => {
    it('fires when RSS climbs and live memory returns', () => {
      const rss = series(10, (i) => 100 * M + 3 * M * i);
      const live = series(10, (i) => 30 * M + JITTER[i] * 64 * K);
      const v = judgeHighWater(rss, live);
      assert.ok(v);
      assert.equal(v.kind, 'allocator-high-water');
      assert.match(v.summary, /RSS rose by 27\.0 MiB over 10 runs/);
      assert.match(v.advice, /not a leak: RSS rose by 27.0 MiB/);
      assert.match(v.advice, /--max-tasks-per-child/);
      assert.match(v.advice, /PYTHONMALLOC/);
      assert.match(v.advice, /malloc_trim/);
      assert.ok(v.evidence.some((e) => e.includes('RSS rise 27.0 MiB')));
    });

    it('counts a peak even when RSS comes back down', () => {
      const rss = [100 * M, 140 * M, 101 * M];
      assert.equal(judgeHighWater(rss, [10 * M, 10 * M, 10 * M])?.kind, 'allocator-high-water');
    });

    it('stays quiet for a small RSS rise, growing live memory, or bad input', () => {
      assert.equal(judgeHighWater([100 * M, 103 * M], [10 * M, 10 * M]), undefined);
      assert.equal(judgeHighWater([100 * M, 140 * M], [10 * M, 30 * M]), undefined);
      assert.equal(judgeHighWater([100 * M, 140 * M], [10 * M]), undefined);
      assert.equal(judgeHighWater([100 * M], [10 * M]), undefined);
    });
  });

  describe('summarizeTask', () => {
    it('fits retained bytes and keeps a leak verdict even when RSS also climbs', () => {
      const ys = series(8, (i) => 10 * M + 100 * K * i);
      const s = summarizeTask(
        'sendEmail',
        runs(
          ys,
          series(8, (i) => 50 * M + 10 * M * i),
        ),
      );
      assert.equal(s.name, 'sendEmail');
      assert.equal(s.runs, 8);
      assert.ok(Math.abs(s.bytesPerRun - 100 * K) < 1e-6);
      assert.equal(s.verdict.kind, 'leak');
      assert.equal(s.fit?.n, 8);
    });

    it('prefers high water over no-leak when RSS is known', () => {
      const ys = series(8, (i) => 10 * M + JITTER[i] * K);
      const s = summarizeTask(
        'resize',
        runs(
          ys,
          series(8, (i) => 50 * M + 10 * M * i),
        ),
      );
      assert.equal(s.verdict.kind, 'allocator-high-water');
      // Without RSS on every run it cannot tell.
      const partial = runs(
        ys,
        series(8, (i) => 50 * M + 10 * M * i),
      );
      delete partial[3].rssBytes;
      assert.equal(summarizeTask('resize', partial).verdict.kind, 'no-leak');
    });

    it('handles no runs', () => {
      const s = summarizeTask('idle', []);
      assert.equal(s.bytesPerRun, 0);
      assert.equal(s.fit, undefined);
      assert.equal(s.verdict.kind, 'inconclusive');
    });
  });

  describe('judgeOverall', () => {
    const leak = summarizeTask('sendEmail', runs(series(8, (i) => 41 * K * i)));
    const flat = summarizeTask('ping', runs(series(8, () => 5 * M)));
    const cache = summarizeTask('warm', runs(series(12, (i) => 100 * K * Math.min(i, 4))));

    it('says so when nothing was measured', () => {
      const v = judgeOverall([]);
      assert.equal(v.kind, 'inconclusive');
      assert.match(v.summary, /no tasks were measured/i);
    });

    it('names the worst task', () => {
      const v = judgeOverall([flat, cache, leak]);
      assert.equal(v.kind, 'leak');
      assert.equal(v.summary, 'sendEmail keeps +41.0 KiB per run (+3.9 GiB per 100,000 runs): a leak.');
      // The leak's own figures (no line that only repeats the headline), then one line per other task.
      assert.deepEqual(
        v.evidence.slice(0, leak.verdict.evidence.length),
        leak.verdict.evidence.map((e) => `sendEmail: ${e}`),
      );
      assert.ok(
        v.evidence.some((e) => /least squares \+41\.0 KiB\/run ± .*R²/.test(e)),
        v.evidence.join(' | '),
      );
      assert.equal(v.evidence.length, leak.verdict.evidence.length + 2);
      assert.equal(judgeOverall([flat, cache]).kind, 'plateau');
      assert.match(judgeOverall([flat, cache]).summary, /^warm:/);
    });

    it('lists several leaks', () => {
      const other = summarizeTask('resize', runs(series(8, (i) => 200 * K * i)));
      const v = judgeOverall([leak, other]);
      assert.match(v.summary, /^resize \(\+200\.0 KiB\/run\) and sendEmail \(\+41\.0 KiB\/run\) keep memory/);
    });

    it('ranks high water above plateau and no-leak last', () => {
      const hw: TaskSummary = { ...flat, verdict: { ...flat.verdict, kind: 'allocator-high-water' } };
      assert.equal(judgeOverall([cache, hw, flat]).kind, 'allocator-high-water');
      assert.equal(judgeOverall([flat]).kind, 'no-leak');
      assert.match(judgeOverall([flat]).summary, /ping does not keep memory/);
    });

    it('a no-leak task with a slope inside its noise is "no steady growth", not "does not keep memory"', () => {
      const noisy: TaskSummary = { ...flat, bytesPerRun: 97 };
      assert.match(judgeOverall([noisy]).summary, /^ping shows no steady growth \(\+97 B per run is within the noise between runs\): no leak\.$/);
    });
  });
});

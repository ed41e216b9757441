import assert from 'node:assert/strict';
import { compiledCodeGrowth } from '../../src/core/assess';
import { HARNESS_READINGS, isReadRun, readingStride } from '../../src/core/harnessReadings';
import type { TaskRun } from '../../src/core/model';
import { summarizeTask } from '../../src/core/verdict';

/** A reproducible level noise in [-1, 1) (a small LCG; no Math.random in tests). */
function noise(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
}

/** A harness session of `runs` runs read as the driver reads them: level noise ±`jitter` B on each reading. */
function session(runs: number, perRun: number, jitter: number, seed: number, code?: (run: number) => number): TaskRun[] {
  const next = noise(seed);
  const stride = readingStride(runs);
  const out: TaskRun[] = [];
  for (let run = 0; run < runs; run++) {
    if (!isReadRun(run, runs, stride)) continue;
    out.push({
      index: run,
      retainedBytes: 20_000_000 + perRun * run + jitter * next(),
      durationMs: 10,
      runtime: 'node',
      ...(code ? { compiledCodeBytes: code(run) } : {}),
    });
  }
  return out;
}

describe('harness readings (one run in several on long sessions)', () => {
  it('reads every run up to twice HARNESS_READINGS runs, then about HARNESS_READINGS of them, the first and the last always', () => {
    assert.equal(readingStride(20), 1);
    assert.equal(readingStride(2 * HARNESS_READINGS - 1), 1);
    assert.equal(readingStride(200), 6);
    assert.equal(readingStride(Number.NaN), 1);
    for (const runs of [20, 60, 100, 200, 1000, 12_345]) {
      const read = Array.from({ length: runs }, (_, run) => run).filter((run) => isReadRun(run, runs));
      assert.equal(read[0], 0);
      assert.equal(read[read.length - 1], runs - 1);
      if (runs >= 2 * HARNESS_READINGS) assert.ok(read.length >= HARNESS_READINGS && read.length <= 2 * HARNESS_READINGS + 1, `${runs}: ${read.length}`);
      else assert.equal(read.length, runs);
    }
  });

  it('a steady leak read one run in six is a leak per run, counted over all the runs', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const summary = summarizeTask('handleOrder', session(200, 88, 600, seed));
      assert.equal(summary.verdict.kind, 'leak', summary.verdict.summary);
      assert.equal(summary.runs, 200);
      assert.ok(Math.abs(summary.bytesPerRun - 88) < 20, `${summary.bytesPerRun}`);
      assert.match(summary.verdict.summary, /over 200 measured runs/);
      assert.ok(summary.verdict.evidence.includes('200 runs, 35 of them read (one in 6)'), summary.verdict.evidence.join('\n'));
    }
  });

  it('a flat series read one run in six is no leak, and V8 warm-up rules count runs, not readings', () => {
    for (const seed of [6, 7, 8, 9, 10]) {
      const summary = summarizeTask('handleOrder', session(200, 0, 600, seed));
      assert.equal(summary.verdict.kind, 'no-leak', summary.verdict.summary);
    }
    // 35 readings of 200 runs: past the 60 runs of V8's warm-up, so a small steady leak whose whole
    // rise is under 32 KiB is called (the warm-up rule would hold 35 runs back).
    const small = summarizeTask('handleOrder', session(200, 40, 50, 11));
    assert.equal(small.verdict.kind, 'leak', small.verdict.summary);
  });

  it('a long session stopped after three readings says readings are missing, not runs', () => {
    const read = [0, 100, 149].map((index) => ({ index, retainedBytes: 20_000_000 + 20_000 * index, durationMs: 1, runtime: 'node' as const }));
    const summary = summarizeTask('handleJob', read);
    assert.equal(summary.verdict.kind, 'inconclusive');
    assert.equal(summary.runs, 150);
    assert.match(summary.verdict.summary, /^Only 3 of 150 runs were read .*needs at least 4 readings\.$/);
  });

  it('V8 still compiling: half of the readings with more code, where every run read needs 10 runs of it', () => {
    const read = session(200, 0, 0, 12);
    const laterHalf = read.slice(Math.floor((read.length - 1) / 2));
    // Code that grows at every reading (a large library compiled function after function).
    const compiling = laterHalf.map((run) => ({ ...run, compiledCodeBytes: 1_000_000 + 50 * run.index }));
    assert.ok((compiledCodeGrowth(compiling, 8) ?? 0) > 40);
    // Code that grew at two readings only (a small task's few functions optimized): not compiling.
    const settled = laterHalf.map((run, i) => ({ ...run, compiledCodeBytes: 1_000_000 + (i >= 3 ? 3000 : 0) + (i >= 9 ? 3000 : 0) }));
    assert.equal(compiledCodeGrowth(settled, 8), undefined);
  });
});

describe('growth that slows after the first runs (Node)', () => {
  /** 100 runs read one in three: V8's warm-up adds `warmUp` bytes over the first 30 runs, then `perRun` B/run throughout. */
  function warmingUp(perRun: number, warmUp: number, seed: number): TaskRun[] {
    const next = noise(seed);
    return session(100, 0, 0, seed).map((run) => ({
      ...run,
      retainedBytes: 20_000_000 + perRun * run.index + warmUp * Math.min(1, run.index / 30) + 40 * next(),
    }));
  }

  it('a steady small leak whose first runs also warmed V8 up (7 KiB) is a leak, not a cache about to plateau', () => {
    for (const seed of [1, 2, 3]) {
      const summary = summarizeTask('keepDoubles', warmingUp(56, 7 * 1024, seed));
      assert.equal(summary.verdict.kind, 'leak', summary.verdict.summary);
    }
  });

  it('a cache filling 64 KiB over the first runs with a little growth after is not called a leak', () => {
    for (const seed of [4, 5, 6]) {
      const summary = summarizeTask('fillCache', warmingUp(40, 64 * 1024, seed));
      assert.notEqual(summary.verdict.kind, 'leak', summary.verdict.summary);
    }
  });
});

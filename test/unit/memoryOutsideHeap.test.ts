import assert from 'node:assert/strict';
import { rng } from '../support/prng';
import type { TaskRun } from '../../src/core/model';
import { NATIVE_FLOOR_BYTES, judgeNativeGrowth, outsideHeapGrowth, trimmedEvidence } from '../../src/core/memoryOutsideHeap';
import { judgeOverall, summarizeTask } from '../../src/core/verdict';

const K = 1024;
const M = 1024 * K;

/** Python harness runs: traced memory flat, RSS after malloc_trim as given, in whole pages. */
function pythonRuns(untraced: (i: number) => number, n = 40, seed = 1): TaskRun[] {
  const random = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const native = Math.round(untraced(i) / 4096) * 4096;
    const traced = 20 * K + Math.round((random() - 0.5) * 200);
    return {
      index: i,
      retainedBytes: traced,
      untracedBytes: native,
      rssBytes: 30 * M + native + traced,
      trimmedBytes: 8 * M,
      durationMs: 1,
      runtime: 'python',
    };
  });
}

describe('memory outside the heap', () => {
  describe('judgeNativeGrowth (Python: RSS after malloc_trim less the traces)', () => {
    it('calls 64 KiB of C memory kept per run a leak in native memory, at its size', () => {
      const native = judgeNativeGrowth(pythonRuns((i) => 25 * M + i * 64 * K));
      assert.ok(native);
      assert.equal(native.verdict.kind, 'leak');
      assert.equal(native.verdict.memory, 'native');
      assert.ok(Math.abs(native.perRun - 64 * K) <= 4096, `${native.perRun}`);
    });

    it('calls 4 KiB per run (the one-page floor) nothing, and 12 KiB per run in 24 KiB steps a native leak', () => {
      const native = judgeNativeGrowth(pythonRuns((i) => 25 * M + Math.floor(i / 4) * 16 * K, 100));
      // 4 KiB per run on average, the floor itself: not called (the floor is one page).
      assert.equal(native, undefined);
      const larger = judgeNativeGrowth(pythonRuns((i) => 25 * M + Math.floor(i / 2) * 24 * K, 100));
      assert.ok(larger, '12 KiB per run in steps of 24 KiB');
      assert.equal(larger.verdict.memory, 'native');
    });

    it('does not call allocator high water (a rise that levels off) native growth', () => {
      assert.equal(judgeNativeGrowth(pythonRuns((i) => 25 * M + Math.min(i, 3) * 2 * M)), undefined);
    });

    it('does not call flat native memory with page-sized jitter growth', () => {
      const random = rng(7);
      assert.equal(judgeNativeGrowth(pythonRuns(() => 25 * M + Math.floor(random() * 3) * 4096)), undefined);
    });

    it('needs every run to carry the figure (a Node run has none)', () => {
      const runs = pythonRuns((i) => 25 * M + i * 64 * K);
      delete runs[5].untracedBytes;
      assert.equal(judgeNativeGrowth(runs), undefined);
    });
  });

  describe('summarizeTask with native memory', () => {
    it('turns "allocator high water, not a leak" into a native leak when RSS after malloc_trim keeps growing', () => {
      const summary = summarizeTask(
        'thumbnail_leak',
        pythonRuns((i) => 25 * M + i * 64 * K),
      );
      assert.equal(summary.verdict.kind, 'leak');
      assert.equal(summary.verdict.memory, 'native');
      assert.match(summary.verdict.summary, /Native memory grows/);
      assert.ok(Math.abs(summary.bytesPerRun - 64 * K) <= 4096);
      assert.match(judgeOverall([summary]).summary, /in native memory/);
    });

    it('keeps high water for a rise that levels off, with what malloc_trim returned as evidence', () => {
      const runs = pythonRuns(() => 25 * M).map((run, i) => ({ ...run, rssBytes: 30 * M + Math.min(i, 3) * 3 * M }));
      const summary = summarizeTask('parse_burst', runs);
      assert.equal(summary.verdict.kind, 'allocator-high-water');
      assert.ok(
        summary.verdict.evidence.some((line) => /malloc_trim\(0\) returned a median 8\.0 MiB/.test(line)),
        summary.verdict.evidence.join('\n'),
      );
    });
  });

  describe('outsideHeapGrowth (Node: Buffers and ArrayBuffers)', () => {
    const nodeRuns = (outside: (i: number) => number): TaskRun[] =>
      Array.from({ length: 30 }, (_, i) => ({
        index: i,
        retainedBytes: 5 * M + i * 400 + outside(i),
        outsideHeapBytes: outside(i),
        durationMs: 1,
        runtime: 'node',
      }));

    it('says a Buffer leak lives outside the V8 heap', () => {
      const runs = nodeRuns((i) => 100 * K + i * 64 * K);
      assert.equal(outsideHeapGrowth(runs), 64 * K);
      const summary = summarizeTask('captureFrame', runs);
      assert.equal(summary.verdict.kind, 'leak');
      assert.equal(summary.verdict.memory, 'outside-heap');
      assert.match(summary.verdict.summary, /outside the V8 heap/);
    });

    it('calls a leak of heap objects a heap leak, though some Buffer memory is around', () => {
      const runs = Array.from({ length: 30 }, (_, i): TaskRun => ({
        index: i,
        retainedBytes: 5 * M + i * 2 * K + 100 * K,
        outsideHeapBytes: 100 * K,
        durationMs: 1,
        runtime: 'node',
      }));
      const summary = summarizeTask('recordShipment', runs);
      assert.equal(summary.verdict.kind, 'leak');
      assert.equal(summary.verdict.memory, 'heap');
    });
  });

  it('has a one-page floor and says what malloc_trim returned', () => {
    assert.equal(NATIVE_FLOOR_BYTES, 4096);
    assert.equal(trimmedEvidence([{ index: 0, retainedBytes: 0, durationMs: 1 }]), undefined);
  });
});

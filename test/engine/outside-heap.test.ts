/**
 * Memory outside the heap on real processes (issue 14): Node Buffers and ArrayBuffers kept per run
 * are leaks outside the V8 heap; a Python task whose C code (through ctypes, as a leaky extension
 * does) keeps 64 KiB per run is a leak in native memory, never "allocator high water, not a leak";
 * the same C code that frees, and a burst of freed Python objects, are never leaks.
 */
import { strict as assert } from 'node:assert';
import type { TaskmemReport } from '../../src/core/report';
import { fixture, harness, runSession } from './helpers';

const BUFFERS = fixture('node', 'outside-heap', 'buffers.js');
const NATIVE = fixture('python', 'native', 'native_cache.py');
/** The fixtures keep 64 KiB per run (FRAME_BYTES, THUMBNAIL_BYTES). */
const KEPT_PER_RUN = 64 * 1024;
/** Node: the Buffer object on the heap and the array's slot; Python: RSS moves in 4 KiB pages. */
const NODE_ROOM = 2 * 1024;
const PAGE = 4096;
/** buffer-worker.js keeps one 16 KiB Buffer per cache-thumbnail run. */
const THUMBNAIL_BYTES = 16 * 1024;

function describeTask(report: TaskmemReport): string {
  const tasks = report.tasks.map(
    (t) => `${t.name}: ${t.verdict} (${t.memory ?? '-'}) ${Math.round(t.bytesPerRun)} B/run: ${t.summary}\n  ${t.evidence.join('\n  ')}`,
  );
  return [`ended: ${report.endReason}`, ...tasks].join('\n');
}

/**
 * A worker that finished: exit code 0, or Node 20 crashing at exit with the profiler attached after
 * the program had finished, which the session reports as such and is not the program's failure.
 */
const FINISHED = /exited with code 0|crashed at exit, after the program had finished/;

async function profile(file: string, exportName: string, runs: number): Promise<TaskmemReport['tasks'][number] & { report: TaskmemReport }> {
  const { report } = await runSession({ mode: 'harness', harness: harness(file, exportName, runs, 2) });
  assert.equal(report.endReason, 'completed', describeTask(report));
  const task = report.tasks[0];
  assert.ok(task, describeTask(report));
  return { ...task, report };
}

describe('memory outside the heap (real processes)', function () {
  this.timeout(120_000);

  describe('Node harness', () => {
    for (const exportName of ['captureFrame', 'recordSamples']) {
      it(`${exportName}: 64 KiB kept per run outside the V8 heap is a leak there, at its size`, async () => {
        const task = await profile(BUFFERS, exportName, 30);
        assert.equal(task.verdict, 'leak', describeTask(task.report));
        assert.equal(task.memory, 'outside-heap', describeTask(task.report));
        assert.ok(task.bytesPerRun >= KEPT_PER_RUN && task.bytesPerRun <= KEPT_PER_RUN + NODE_ROOM, describeTask(task.report));
        assert.match(task.report.verdict.summary, /outside the V8 heap/);
      });
    }

    it('encodeFrame: the same Buffer dropped after use is not a leak', async () => {
      const task = await profile(BUFFERS, 'encodeFrame', 60);
      // Never a leak. V8 may still be warming up (a few dozen bytes per run for tens of runs), which
      // reads inconclusive at worst.
      assert.notEqual(task.verdict, 'leak', describeTask(task.report));
    });
  });

  describe('Node worker, default settings', () => {
    it('a paced queue worker: the task that keeps a 16 KiB Buffer per run leaks, the one that drops its Buffers does not', async () => {
      const { report } = await runSession({ mode: 'worker', command: ['node', fixture('node', 'outside-heap', 'buffer-worker.js')] });
      assert.match(report.endReason, FINISHED, describeTask(report));
      const cache = report.tasks.find((t) => t.name === 'cache-thumbnail');
      const resize = report.tasks.find((t) => t.name === 'resize-image');
      assert.ok(cache && resize, describeTask(report));
      // The leak is charged to cache-thumbnail: alone, or in the row of the names whose counts move
      // with it when nothing splits them (the heap sampler sees a Buffer's small object, not its
      // 16 KiB backing store, so on a loaded machine no growing site may stand out). Never to
      // resize-image alone. 16 KiB of Buffer memory and a Map entry per run: what the row keeps in all.
      const leaks = report.tasks.filter((t) => t.verdict === 'leak');
      assert.equal(leaks.length, 1, describeTask(report));
      assert.ok(leaks[0].name.split(' + ').includes('cache-thumbnail'), describeTask(report));
      const kept = leaks[0].bytesPerRun * leaks[0].runs;
      assert.ok(kept >= 0.5 * THUMBNAIL_BYTES * cache.runs && kept <= 1.5 * THUMBNAIL_BYTES * cache.runs, describeTask(report));
      assert.notEqual(resize.verdict, 'leak', describeTask(report));
      assert.equal(report.verdict.kind, 'leak', describeTask(report));
      // Where the worker's RSS goes: the V8 heap, outside it, and the rest.
      assert.ok(
        report.notes.some((note) => /RSS .* at the last reading: V8 heap .*outside the heap .*\(Buffers and ArrayBuffers .*the rest /.test(note)),
        report.notes.join('\n'),
      );
    });
  });

  describe('Python worker with --malloc-trim', () => {
    it("says how much RSS malloc_trim(0) returned after the session's full GCs (allocator high water, measured)", async () => {
      const { report } = await runSession({
        mode: 'worker',
        command: ['python3', fixture('python', 'native', 'arenas.py')],
        pythonMallocTrim: true,
        windowMs: 1000,
      });
      assert.match(report.endReason, /exited with code 0/);
      const note = report.notes.find((line) => line.includes('malloc_trim(0) after'));
      assert.ok(note, report.notes.join('\n'));
      assert.match(note, /after [1-9]\d* full GC\(s\) returned \d+(\.\d)? (B|KiB|MiB) of RSS in all/);
    });

    it('leaves the process alone without the flag', async () => {
      const { report } = await runSession({ mode: 'worker', command: ['python3', fixture('python', 'native', 'arenas.py')], env: { ARENA_ROUNDS: '20' } });
      assert.ok(!report.notes.some((line) => line.includes('malloc_trim')), report.notes.join('\n'));
    });
  });

  describe('Python harness (glibc malloc_trim after each measured run)', () => {
    it('thumbnail_leak: 64 KiB of C memory never freed is a leak in native memory, at its size', async () => {
      const task = await profile(NATIVE, 'thumbnail_leak', 40);
      assert.equal(task.verdict, 'leak', describeTask(task.report));
      assert.equal(task.memory, 'native', describeTask(task.report));
      assert.ok(Math.abs(task.bytesPerRun - KEPT_PER_RUN) <= PAGE, describeTask(task.report));
      assert.match(task.report.verdict.summary, /in native memory/);
      assert.ok(
        task.series.every((run) => typeof run.untracedBytes === 'number'),
        'every run carries RSS after malloc_trim less the traces',
      );
    });

    it('thumbnail_freed: the same C memory, freed, is never a leak', async () => {
      const task = await profile(NATIVE, 'thumbnail_freed', 40);
      assert.notEqual(task.verdict, 'leak', describeTask(task.report));
    });

    it('parse_burst: 20,000 small objects made and freed per run are not a leak; malloc_trim returns what the allocator kept', async () => {
      const task = await profile(NATIVE, 'parse_burst', 40);
      assert.ok(task.verdict === 'allocator-high-water' || task.verdict === 'no-leak', describeTask(task.report));
      const trimmed = task.series.map((run) => run.trimmedBytes ?? 0);
      // Each run frees ~2 MB of dicts and strings; malloc_trim gives some of it back on most runs.
      assert.ok(trimmed.filter((bytes) => bytes > 0).length >= trimmed.length / 2, `trimmed per run: ${trimmed.join(', ')}`);
    });
  });
});

/**
 * The harness against real Node processes under the real inspector: known leaks, a plateau, a
 * clean task, ES modules and TypeScript (tsx and tsc output with source maps).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { ProfilingSession } from '../../src/session/session';
import { example, fixture, harness, repoRoot, runSession } from './helpers';

describe('node harness (real processes)', function () {
  this.timeout(60_000);

  it('finds the Map cache leak, its bytes per run, and puts the leaking function first', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(example('node', 'leaky-worker.js'), 'handleJob', 12, 2) });
    assert.equal(report.endReason, 'completed');
    // What the verdict stood on, should it ever not be a leak (once in ~100 runs on a loaded machine it read 'inconclusive').
    assert.equal(
      report.verdict.kind,
      'leak',
      `${report.verdict.summary} | ${report.tasks[0]?.evidence.join(' | ')} | ${report.tasks[0]?.series.map((run) => run.retainedBytes).join(', ')}`,
    );
    const task = report.tasks[0];
    assert.ok(task);
    assert.equal(task.runs, 12);
    // Each job keeps a 2,500-element array (~20 KB) plus its Map entry.
    assert.ok(task.bytesPerRun > 18_000 && task.bytesPerRun < 26_000, `bytesPerRun ${task.bytesPerRun}`);
    const top = report.sites[0];
    assert.ok(top);
    assert.equal(top.function, 'enrichOrder');
    assert.equal(path.basename(top.file), 'leaky-worker.js');
    assert.equal(top.line, 8);
    assert.equal(top.precision, 'function');
    // Module loading and warm-up are excluded: nothing from the harness or bootloader is a user site.
    assert.ok(report.sites.every((site) => !site.file.includes(`${path.sep}dist${path.sep}`)));
  });

  it('calls a bounded LRU cache a plateau', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(example('node', 'lru-cache.js'), 'quote', 12, 2) });
    assert.equal(report.tasks[0]?.verdict, 'plateau', report.tasks[0]?.summary);
  });

  it('never calls a task with only temporaries a leak, even over 10 runs while V8 still warms up', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(example('node', 'temporaries.js'), 'parseBatch', 10, 2) });
    // Its retained heap climbs a few hundred bytes per run for tens of runs (V8's warm-up): over 10
    // runs that is no leak, or undecided with the warm-up named, never a leak.
    const task = report.tasks[0];
    assert.ok(task);
    assert.ok(task.verdict === 'no-leak' || (task.verdict === 'inconclusive' && /V8's warm-up/.test(task.summary)), `${task.verdict}: ${task.summary}`);
    assert.ok(Math.abs(task.bytesPerRun) < 4096);
  });

  it('awaits an ES module async export and passes --args', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(fixture('node', 'esm-task.mjs'), 'handle', 8, 1, [4000]) });
    assert.equal(report.endReason, 'completed');
    assert.equal(report.verdict.kind, 'leak');
    // new Array(4000).fill(7): 4,000 slots of 8 bytes.
    const perRun = report.tasks[0]?.bytesPerRun ?? 0;
    assert.ok(perRun > 30_000 && perRun < 40_000, `bytesPerRun ${perRun}`);
    assert.equal(report.sites[0]?.function, 'handle');
  });

  it('reports a tsx-loaded TypeScript task on the .ts line', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(example('node', 'ts', 'orders.ts'), 'processOrder', 10, 2) });
    assert.equal(report.verdict.kind, 'leak', report.verdict.summary);
    const top = report.sites[0];
    assert.ok(top, 'a site');
    assert.ok(top.file.endsWith('orders.ts'), top.file);
    assert.equal(top.line, 10);
    assert.equal(top.function, 'processOrder');
  });

  /** leak.ts compiled by tsc into dist/ with a source map file; returns the temporary project folder. */
  function compileLeakTs(): { outDir: string; srcDir: string; distDir: string } {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-tsc-'));
    const srcDir = path.join(outDir, 'src');
    fs.mkdirSync(srcDir);
    const source = fs.readFileSync(fixture('node', 'compiled-ts', 'src', 'leak.ts'), 'utf8');
    fs.writeFileSync(path.join(srcDir, 'leak.ts'), source);
    const compiled = ts.transpileModule(source, {
      fileName: 'leak.ts',
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, sourceMap: true },
    });
    const distDir = path.join(outDir, 'dist');
    fs.mkdirSync(distDir);
    const map = JSON.parse(compiled.sourceMapText as string) as { sources: string[] };
    map.sources = ['../src/leak.ts'];
    fs.writeFileSync(path.join(distDir, 'leak.js'), compiled.outputText.replace(/\/\/# sourceMappingURL=.*$/m, '//# sourceMappingURL=leak.js.map'));
    fs.writeFileSync(path.join(distDir, 'leak.js.map'), JSON.stringify(map));
    return { outDir, srcDir, distDir };
  }

  it('maps tsc output back to the .ts source through its source map', async () => {
    const { outDir, srcDir, distDir } = compileLeakTs();
    try {
      const { report } = await runSession({ mode: 'harness', harness: harness(path.join(distDir, 'leak.js'), 'register', 10, 2) });
      const top = report.sites[0];
      assert.ok(top);
      assert.equal(top.file, path.join(srcDir, 'leak.ts'));
      assert.equal(top.line, 4, 'the line of `export function register()` in leak.ts');
      assert.equal(report.verdict.kind, 'leak');
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  it('a long session stopped between two readings ends its series where the runs did', async () => {
    // 3,000 runs read one in 100 (core/harnessReadings): stopped after ~150 runs, the runs since the
    // reading at run 100 get one more reading at stop, and the figures count every run done (progress
    // says 150 done as run 151 starts).
    const session = new ProfilingSession({ cwd: repoRoot, mode: 'harness', harness: harness(example('node', 'leaky-worker.js'), 'handleJob', 3000, 2) });
    let stopAt: number | undefined;
    session.onProgress((progress) => {
      if (stopAt === undefined && (progress.done ?? 0) >= 150) {
        stopAt = progress.done;
        void session.stop('stopped by the test');
      }
    });
    await session.start();
    const report = await session.done;
    assert.ok(stopAt !== undefined, 'the session reached 150 runs');
    const task = report.tasks[0];
    assert.ok(task, 'a task');
    const indexes = task.series.map((run) => run.index);
    assert.deepEqual(indexes.slice(0, 2), [0, 100], indexes.join(', '));
    const last = indexes[indexes.length - 1];
    assert.ok(last >= 149 && last < 200, indexes.join(', '));
    assert.equal(task.runs, last + 1);
    // The run read at stop was counted when it ran: once.
    assert.equal(session.finishedTasks, task.runs);
    assert.ok(task.bytesPerRun > 18_000 && task.bytesPerRun < 26_000, `bytesPerRun ${task.bytesPerRun}`);
  });

  it('source-maps a module first required during the measured runs (the Debugger is off by then)', async () => {
    const { outDir, srcDir, distDir } = compileLeakTs();
    // Warm-up is 2 calls: leak.js is loaded by the first measured run, after the session turned the Debugger off.
    fs.writeFileSync(
      path.join(distDir, 'lazy.js'),
      "let calls = 0;\nlet leak;\nexports.register = () => (++calls > 2 ? (leak ??= require('./leak.js')).register() : 0);\n",
    );
    try {
      const { report } = await runSession({ mode: 'harness', harness: harness(path.join(distDir, 'lazy.js'), 'register', 10, 2) });
      const top = report.sites[0];
      assert.ok(top, 'a site');
      assert.equal(top.file, path.join(srcDir, 'leak.ts'), report.sites.map((s) => `${s.file}:${s.line}`).join(', '));
      assert.equal(top.line, 4);
      assert.equal(report.verdict.kind, 'leak');
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });
});

describe('precise attribution (real V8 inlining)', function () {
  this.timeout(60_000);

  it('credits allocations to the inlined helper that made them, not its caller', async () => {
    const { report } = await runSession({ mode: 'harness', preciseAttribution: true, harness: harness(fixture('node', 'inlined.js'), 'processBatch', 10, 3) });
    assert.equal(report.sites[0]?.function, 'makeRecord', report.sites.map((s) => `${s.function} ${s.share}`).join(', '));
    assert.ok((report.sites[0]?.share ?? 0) > 0.7);
  });
});

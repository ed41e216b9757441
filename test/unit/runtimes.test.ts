import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RawProfileNode, RawSamplingProfile } from '../../src/core/model';
import type { SessionOptions } from '../../src/session/api';
import { launchPlan } from '../../src/session/launchPlan';
import { parseRegistration } from '../../src/launch/registry';
import { allRuntimes, isRuntimeKind, runtimeOf } from '../../src/runtimes/registry';
import { checkpointReply, collectReply, readRss, unknownScripts, validCounts } from '../../src/runtimes/replies';
import { parsePythonStats, pythonStatsPoint } from '../../src/runtimes/python/stats';

const harnessOptions = (file: string, runtime: 'node' | 'python', extra: Partial<SessionOptions> = {}): SessionOptions => ({
  mode: 'harness',
  cwd: path.dirname(file),
  harness: { file, exportName: 'task', runs: 4, warmup: 1, args: [1], runtime },
  ...extra,
});

function node(id: number, scriptId: string, url: string, children: RawProfileNode[] = []): RawProfileNode {
  return { id, selfSize: 0, children, callFrame: { functionName: `f${id}`, scriptId, url, lineNumber: 0, columnNumber: 0 } };
}

describe('runtimes: the registry and what each runtime says without a process', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-runtimes-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has one description per runtime, under its own name, Node first', () => {
    assert.deepEqual(
      allRuntimes().map((runtime) => runtime.kind),
      ['node', 'python'],
    );
    for (const runtime of allRuntimes()) assert.equal(runtimeOf(runtime.kind), runtime);
  });

  it("launches Python's harness as the agent's module with the chosen interpreter; a missing file is refused for any runtime", () => {
    // Node's plan names dist/harness.js (after a build): the engine tests run it.
    const pyFile = path.join(dir, 'task.py');
    fs.writeFileSync(pyFile, 'def task(n):\n    return n\n');
    const plan = launchPlan(harnessOptions(pyFile, 'python', { pythonPath: '/opt/py/bin/python3.12' }));
    assert.deepEqual(plan.command, ['/opt/py/bin/python3.12', '-m', 'taskmem_agent.harness']);
    assert.deepEqual([plan.shell, plan.env], [false, {}]);
    assert.equal(launchPlan(harnessOptions(pyFile, 'python')).command[0], 'python3');
    for (const runtime of allRuntimes()) assert.throws(() => launchPlan(harnessOptions(path.join(dir, 'missing'), runtime.kind)), /does not exist/);
  });

  it('leaves no test of a runtime by name in the session, its drivers or its launch plan (they ask the description)', () => {
    const sessionDir = path.join(__dirname, '../../src/session');
    const branches = fs
      .readdirSync(sessionDir)
      .filter((name) => name.endsWith('.ts'))
      .flatMap((name) =>
        fs
          .readFileSync(path.join(sessionDir, name), 'utf8')
          .split('\n')
          .map((line, i) => ({ where: `${name}:${i + 1}`, line }))
          .filter(({ line }) => /[!=]==?\s*'(node|python)'|'(node|python)'\s*[!=]==?/.test(line)),
      );
    assert.deepEqual(branches, []);
  });

  it('knows a runtime only by a name in the registry', () => {
    assert.equal(isRuntimeKind('node'), true);
    assert.equal(isRuntimeKind('python'), true);
    for (const name of ['ruby', 'constructor', '__proto__', 'toString', '', 3, null]) assert.equal(isRuntimeKind(name), false, String(name));
  });

  it("checks where a registered process listens by its runtime's rule", () => {
    const token = 'a'.repeat(32);
    const register = (record: Record<string, unknown>) => parseRegistration(JSON.stringify({ token, pid: 42, ...record }), token, dir);
    const nodeReg = register({ runtime: 'node', url: 'ws://127.0.0.1:9229/abc' });
    assert.deepEqual(typeof nodeReg === 'string' ? nodeReg : nodeReg.endpoint, { kind: 'inspector', url: 'ws://127.0.0.1:9229/abc' });
    assert.equal(register({ runtime: 'node', url: 'ws://10.0.0.1:9229/abc' }), 'registration url is not a loopback ws:// url');
    // A Node registration's URL does not make a Python one valid, nor the other way round.
    assert.equal(register({ runtime: 'python', url: 'ws://127.0.0.1:9229/abc' }), 'registration has no socket');
    assert.equal(register({ runtime: 'node', socket: path.join(dir, '42-ab.sock') }), 'registration has no url');
    const pyReg = register({ runtime: 'python', socket: path.join(dir, '42-ab.sock') });
    assert.deepEqual(typeof pyReg === 'string' ? pyReg : pyReg.endpoint, { kind: 'agent', socketPath: path.join(dir, '42-ab.sock'), token });
    assert.equal(register({ runtime: 'python', socket: path.join(os.tmpdir(), '42-ab.sock') }), 'registration socket is not in the session directory');
    assert.equal(register({ runtime: 'constructor', url: 'ws://127.0.0.1:1/x' }), 'registration has an unknown runtime');
  });

  it('says how each runtime measures: ordered samples and budgeted profiles for Node, a capture per run for Python', () => {
    const [nodeRuntime, pythonRuntime] = [runtimeOf('node'), runtimeOf('python')];
    assert.equal(nodeRuntime.harness.measurement, 'budgeted-profiles');
    assert.equal(pythonRuntime.harness.measurement, 'capture-per-run');
    assert.deepEqual([nodeRuntime.sitePrecision, pythonRuntime.sitePrecision], ['function', 'line']);
    assert.equal(nodeRuntime.orderedSamples, true);
    assert.equal(pythonRuntime.orderedSamples, false);
    assert.equal(nodeRuntime.tracksTaskCounts, true);
    assert.equal(pythonRuntime.tracksTaskCounts, false);
    assert.deepEqual([nodeRuntime.markedTaskSource, pythonRuntime.markedTaskSource], ['marks', 'python-agent']);
    // Only Node's inspector is known to crash at exit after the program ended (Node 20).
    assert.match(nodeRuntime.crashAtExitNote ?? '', /^Node crashed \(SIGSEGV\) after the program had finished/);
    assert.equal(pythonRuntime.crashAtExitNote, undefined);
  });

  it("gives each runtime's worker notes only when they apply", () => {
    const worker: SessionOptions = { mode: 'worker', cwd: dir, command: ['x'] };
    const context = { options: worker, sawTaskMarks: false, taskSources: [] };
    assert.match(runtimeOf('node').workerNotes(context).join('\n'), /precise attribution is off/);
    assert.deepEqual(runtimeOf('node').workerNotes({ ...context, options: { ...worker, preciseAttribution: true } }), []);
    // A Python program without tasks is traced whole (script mode): the note says what that costs.
    assert.match(runtimeOf('python').workerNotes(context).join('\n'), /traced the whole run with tracemalloc/);
    const python = runtimeOf('python').workerNotes({ ...context, sawTaskMarks: true, taskSources: ['celery'] });
    assert.equal(python.length, 2);
    assert.match(python[0], /Celery's task signals/);
    assert.match(python[1], /sampled runs kept/);
  });
});

describe('runtimes: replies read from a target', () => {
  it("reads the Python agent's statistics under their own names", () => {
    const stats = parsePythonStats({
      rss: 40_000_000,
      allocatedBlocks: 9000,
      gcCollections: 3,
      tracing: true,
      tracedCurrent: 1_500_000,
      tracedPeak: 2_000_000,
      mallocTrim: { last: 4096, total: 8192, count: 2 },
      taskSources: ['celery', 7, 'rq'],
    });
    assert.deepEqual(stats, {
      tracedBytes: 1_500_000,
      tracedPeak: 2_000_000,
      rss: 40_000_000,
      allocatedBlocks: 9000,
      gcCollections: 3,
      mallocTrim: { last: 4096, total: 8192, count: 2 },
      taskSources: ['celery', 'rq'],
    });
    // No V8 heap figures: traced memory and RSS as what they are.
    assert.deepEqual(pythonStatsPoint(stats), {
      rss: 40_000_000,
      tracedBytes: 1_500_000,
      allocatedBlocks: 9000,
      gcCollections: 3,
    });
  });

  it('has no traced figure while the agent is not tracing, and drops fields of the wrong shape', () => {
    const stats = parsePythonStats({
      rss: -1,
      tracing: false,
      tracedCurrent: 5,
      tracedPeak: 9,
      allocatedBlocks: '12',
      mallocTrim: { last: 1, total: 'x', count: 1 },
    });
    assert.equal(stats.tracedBytes, undefined);
    assert.equal(stats.rss, undefined);
    assert.equal(stats.allocatedBlocks, undefined);
    assert.equal(stats.mallocTrim, undefined);
    assert.equal(stats.taskSources, undefined);
    const point = pythonStatsPoint(stats);
    assert.equal(point.tracedBytes, undefined);
    assert.equal('heapUsed' in point, false);
    assert.deepEqual(parsePythonStats(null), parsePythonStats({}));
  });

  it('keeps task counts that are whole positive numbers, names cut to 500 characters', () => {
    assert.deepEqual(validCounts({ a: 2, b: 0, c: -1, d: 1.5, e: '3', f: 1e9, ['x'.repeat(600)]: 1 }), { a: 2, ['x'.repeat(500)]: 1 });
    assert.deepEqual(validCounts([3]), { 0: 3 });
    assert.deepEqual(validCounts(null), {});
  });

  it("reads the bootloader's checkpoint reply only when both figures are sizes", () => {
    assert.deepEqual(checkpointReply({ code: 10, outsideHeap: 0 }), { code: 10, outsideHeap: 0 });
    assert.equal(checkpointReply({ code: 10 }), undefined);
    assert.equal(checkpointReply({ code: -1, outsideHeap: 3 }), undefined);
    assert.equal(checkpointReply(undefined), undefined);
  });

  it("reads the harness's reading after its GC: the heap must be a size, the checkpoint is optional", () => {
    assert.deepEqual(collectReply({ usedHeap: 100, checkpoint: { code: 10, outsideHeap: 5 } }), {
      usedHeap: 100,
      checkpoint: { code: 10, outsideHeap: 5 },
    });
    assert.deepEqual(collectReply({ usedHeap: 100 }), { usedHeap: 100, checkpoint: undefined });
    assert.deepEqual(collectReply({ usedHeap: 100, checkpoint: { code: 'x' } }), { usedHeap: 100, checkpoint: undefined });
    assert.equal(collectReply({ usedHeap: Number.NaN }), undefined);
    assert.equal(collectReply({ usedHeap: -1 }), undefined);
    assert.equal(collectReply(undefined), undefined);
  });

  it('names the scripts of a profile that are not known yet (not the ones without a URL)', () => {
    const head = node(1, '0', '', [node(2, '11', 'file:///a.js', [node(3, '12', 'file:///b.js')]), node(4, '13', '')]);
    const profile: RawSamplingProfile = { head, samples: [] };
    assert.deepEqual([...unknownScripts(profile, (id) => id === '11')], ['12']);
  });

  it("reads this process's RSS from /proc, and nothing for a pid that is not there", () => {
    const rss = readRss(process.pid);
    assert.ok(rss !== undefined && rss > 10 * 1024 * 1024 && rss === Math.floor(rss), String(rss));
    assert.equal(readRss(0x7ffffff0), undefined);
  });
});

import assert from 'node:assert/strict';
import type { RawProfileNode, RawSample, RawSamplingProfile, SourceMapper } from '../../src/core/model';
import { aggregateSites } from '../../src/core/sites';

function node(id: number, functionName: string, url: string, lineNumber: number, children: RawProfileNode[] = [], selfSize = 0): RawProfileNode {
  return { id, selfSize, children, callFrame: { functionName, url, scriptId: url === '' ? '0' : `s${url}`, lineNumber, columnNumber: 2 } };
}
function sample(nodeId: number, size: number, ordinal: number): RawSample {
  return { nodeId, size, ordinal };
}

/**
 * (root)
 *  └ main /app/main.js:0
 *     ├ handle /app/handler.js:9
 *     │   ├ processOrder /app/orders.js:41   ← 3000 B (ord 1,2), 1000 B (ord 5)
 *     │   └ cloneDeep /app/node_modules/lodash/lodash.js:99
 *     │        └ baseClone (same file):199  ← 2000 B (ord 3): site is baseClone (dependency)
 *     └ processOrder /app/orders.js:41   ← 500 B (ord 4), second path to the same site
 *  └ (garbage collector)                 ← 700 B runtime
 *  └ open /opt/taskmem/boot.js:3 → (program) ← 300 B profiler
 *  └ parse node:internal/json:5          ← 100 B runtime
 */
function sampleProfile(): RawSamplingProfile {
  const head = node(1, '(root)', '', -1, [
    node(2, 'main', '/app/main.js', 0, [
      node(3, 'handle', '/app/handler.js', 9, [
        node(4, 'processOrder', '/app/orders.js', 41),
        node(5, 'cloneDeep', '/app/node_modules/lodash/lodash.js', 99, [node(6, 'baseClone', '/app/node_modules/lodash/lodash.js', 199)]),
      ]),
      node(7, 'processOrder', '/app/orders.js', 41),
    ]),
    node(8, '(garbage collector)', '', -1),
    node(9, 'open', '/opt/taskmem/boot.js', 3, [node(10, '(program)', '', -1)]),
    node(11, 'parse', 'node:internal/json', 5),
  ]);
  const samples = [
    sample(4, 1000, 1),
    sample(4, 2000, 2),
    sample(6, 2000, 3),
    sample(7, 500, 4),
    sample(4, 1000, 5),
    sample(8, 700, 6),
    sample(10, 300, 7),
    sample(11, 100, 8),
    sample(999, 5000, 9), // unknown node: ignored, ordinal still counted
    sample(4, Number.NaN, 10),
    sample(4, -5, 11),
  ];
  return { head, samples };
}

describe('aggregateSites', () => {
  const options = { precision: 'function' as const, profilerPaths: ['/opt/taskmem'] };

  it('groups bytes by the innermost user or dependency frame', () => {
    const agg = aggregateSites(sampleProfile(), options);
    assert.equal(agg.totalBytes, 7600);
    assert.equal(agg.sampleCount, 8);
    assert.equal(agg.maxOrdinal, 11);
    assert.deepEqual(agg.byCategory, { user: 4500, dependency: 2000, runtime: 800, profiler: 300 });
    assert.deepEqual(
      agg.sites.map((s) => [s.key, s.retainedBytes, s.count, s.category]),
      [
        ['/app/orders.js:42:processOrder', 4500, 4, 'user'],
        ['/app/node_modules/lodash/lodash.js:200:baseClone', 2000, 1, 'dependency'],
      ],
    );
    const top = agg.sites[0];
    assert.equal(top.line, 42);
    assert.equal(top.column, 3);
    assert.equal(top.precision, 'function');
    assert.equal(top.share, 4500 / 7600);
    assert.equal(top.bytesPerRun, undefined);
  });

  it("charges what our own code allocates to the profiler, even when the user's line called it (a task mark's subscriber)", () => {
    // run /app/worker.js:22 → publish node:diagnostics_channel → onMark /opt/taskmem/marks.js ← 400 B (ours)
    // harness /opt/taskmem/harness.js → task /app/task.js:4 ← 900 B (the user's task the harness called)
    const head = node(1, '(root)', '', -1, [
      node(2, 'run', '/app/worker.js', 22, [node(3, 'publish', 'node:diagnostics_channel', 40, [node(4, 'onMark', '/opt/taskmem/marks.js', 7)])]),
      node(5, 'harness', '/opt/taskmem/harness.js', 3, [node(6, 'task', '/app/task.js', 4)]),
    ]);
    const agg = aggregateSites({ head, samples: [sample(4, 400, 1), sample(6, 900, 2)] }, options);
    assert.deepEqual(agg.byCategory, { user: 900, dependency: 0, runtime: 0, profiler: 400 });
    assert.deepEqual(
      agg.sites.map((s) => [s.key, s.retainedBytes]),
      [['/app/task.js:5:task', 900]],
    );
  });

  it('lists the heaviest stacks from the site outward, without pseudo frames', () => {
    const top = aggregateSites(sampleProfile(), options).sites[0];
    assert.equal(top.stacks.length, 2);
    assert.equal(top.stacks[0].bytes, 4000);
    assert.deepEqual(
      top.stacks[0].frames.map((f) => f.function),
      ['processOrder', 'handle', 'main'],
    );
    assert.equal(top.stacks[1].bytes, 500);
    assert.deepEqual(
      top.stacks[1].frames.map((f) => f.function),
      ['processOrder', 'main'],
    );
    assert.equal(aggregateSites(sampleProfile(), { ...options, maxStacksPerSite: 1 }).sites[0].stacks.length, 1);
  });

  it('names the user lines that call into a site', () => {
    const agg = aggregateSites(sampleProfile(), options);
    assert.deepEqual(agg.sites[0].callers, [
      { function: 'handle', file: '/app/handler.js', line: 10, via: 'processOrder', bytes: 4000 },
      { function: 'main', file: '/app/main.js', line: 1, via: 'processOrder', bytes: 500 },
    ]);
    // A dependency site's caller is the user frame above the dependency frames.
    assert.deepEqual(agg.sites[1].callers, [{ function: 'handle', file: '/app/handler.js', line: 10, via: 'baseClone', bytes: 2000 }]);
    assert.equal(aggregateSites(sampleProfile(), { ...options, maxCallersPerSite: 1 }).sites[0].callers.length, 1);
  });

  it('counts only samples after minOrdinalExclusive, but reports the highest ordinal seen', () => {
    const agg = aggregateSites(sampleProfile(), { ...options, minOrdinalExclusive: 3 });
    assert.equal(agg.sampleCount, 5);
    assert.equal(agg.totalBytes, 500 + 1000 + 700 + 300 + 100);
    assert.equal(agg.maxOrdinal, 11);
    assert.deepEqual(
      agg.sites.map((s) => [s.key, s.retainedBytes]),
      [['/app/orders.js:42:processOrder', 1500]],
    );
  });

  it('falls back to selfSize without samples (Python: line precision, <module> kept)', () => {
    const head = node(1, '(root)', '', -1, [
      node(2, '<module>', '/srv/app/tasks.py', 0, [node(3, 'send_email', '/srv/app/tasks.py', 11, [node(4, '', '/srv/app/mail.py', 30, [], 4096)], 1024)]),
      node(5, 'decode', '/usr/lib/python3.11/json/decoder.py', 336, [], 64),
      node(6, 'f', '/srv/app/x.py', 1, [], Number.POSITIVE_INFINITY),
    ]);
    const agg = aggregateSites({ head, samples: [] }, { precision: 'line', minOrdinalExclusive: 10 });
    assert.equal(agg.totalBytes, 4096 + 1024 + 64);
    assert.equal(agg.sampleCount, 3);
    assert.equal(agg.maxOrdinal, 0);
    assert.deepEqual(
      agg.sites.map((s) => s.key),
      ['/srv/app/mail.py:31:(anonymous)', '/srv/app/tasks.py:12:send_email'],
    );
    assert.equal(agg.sites[0].precision, 'line');
    assert.deepEqual(agg.sites[1].callers, [{ function: '<module>', file: '/srv/app/tasks.py', line: 1, via: 'send_email', bytes: 1024 }]);
    assert.equal(agg.byCategory.runtime, 64);
  });

  it('maps frames through the source mapper, once per distinct frame', () => {
    let calls = 0;
    const mapper: SourceMapper = {
      original(scriptId, url, line) {
        calls++;
        if (url === '/app/dist/orders.js') return { file: '/app/src/orders.ts', line: line * 2 + 1, column: 5 };
        assert.ok(scriptId.length > 0);
        return undefined;
      },
    };
    const head = node(1, '(root)', '', -1, [
      node(2, 'a', '/app/dist/main.js', 0, [node(3, 'processOrder', '/app/dist/orders.js', 10, [], 100)]),
      node(4, 'processOrder', '/app/dist/orders.js', 10, [], 50),
    ]);
    const agg = aggregateSites({ head, samples: [] }, { precision: 'function', mapper });
    assert.equal(agg.sites.length, 1);
    assert.equal(agg.sites[0].key, '/app/src/orders.ts:21:processOrder');
    assert.equal(agg.sites[0].retainedBytes, 150);
    assert.equal(agg.sites[0].column, 5);
    assert.equal(calls, 2); // (root) is not mapped; the two processOrder nodes share one lookup
  });

  it('sorts ties by key and gives shares that add up', () => {
    const head = node(1, '(root)', '', -1, [node(2, 'b', '/b.js', 0, [], 10), node(3, 'a', '/a.js', 0, [], 10)]);
    const agg = aggregateSites({ head, samples: [] }, { precision: 'function' });
    assert.deepEqual(
      agg.sites.map((s) => s.function),
      ['a', 'b'],
    );
    assert.equal(
      agg.sites.reduce((sum, s) => sum + s.share, 0),
      1,
    );
  });

  it('survives cycles, duplicate ids and junk without hanging', () => {
    const a = node(2, 'a', '/a.js', 0, [], 10);
    const b = node(3, 'b', '/b.js', 0, [a], 20);
    a.children.push(b); // cycle
    const dup = node(2, 'dup', '/dup.js', 0, [], 999); // duplicate id: skipped
    const head = node(1, '(root)', '', -1, [a, dup]);
    (head.children as unknown[]).push(null, 42, { id: 7 });
    const agg = aggregateSites({ head, samples: [] }, { precision: 'function' });
    assert.deepEqual(
      agg.sites.map((s) => [s.function, s.retainedBytes]),
      [
        ['b', 20],
        ['a', 10],
      ],
    );
    assert.deepEqual(
      agg.sites[0].callers.map((c) => c.function),
      ['a'],
    );
    const empty = aggregateSites({ head: undefined as unknown as RawProfileNode, samples: [] }, { precision: 'function' });
    assert.equal(empty.totalBytes, 0);
    assert.equal(empty.sites.length, 0);
  });

  it('handles a million-node recursive chain iteratively, skipping recursion for callers', function () {
    // What is checked is that a deep chain does not overflow the stack, not how fast: mocha's 2 s
    // default timed out once on a loaded machine.
    this.timeout(60_000);
    const depth = 1_000_000;
    const leaf = node(depth + 2, 'alloc', '/app/leaf.js', 5, [], 0);
    let current = leaf;
    for (let id = depth + 1; id >= 2; id--) current = node(id, 'walk', '/app/tree.js', 9, [current]);
    const entry = node(depth + 3, 'main', '/app/main.js', 0, [current]);
    const head = node(1, '(root)', '', -1, [entry]);
    const samples = [sample(depth + 2, 4096, 1), sample(depth + 1, 1024, 2), sample(2, 512, 3)];
    const started = Date.now();
    const agg = aggregateSites({ head, samples }, { precision: 'function', maxStackDepth: 10 });
    assert.ok(Date.now() - started < 20_000);
    assert.deepEqual(
      agg.sites.map((s) => [s.function, s.retainedBytes]),
      [
        ['alloc', 4096],
        ['walk', 1536],
      ],
    );
    const walk = agg.sites[1];
    assert.deepEqual(
      walk.callers.map((c) => [c.function, c.bytes]),
      [['main', 1536]],
    );
    assert.equal(walk.stacks[0].frames.length, 10);
    assert.deepEqual(
      agg.sites[0].callers.map((c) => c.function),
      ['walk'],
    );
  });
});

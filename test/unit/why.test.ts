/**
 * Why retained, the pure parts: the streaming snapshot parser (whatever the chunk boundaries), the
 * retainer grouping on hand-made heap graphs (a Map's entries, a linked list reached from both ends,
 * a one-off), the holding-line finder on syntax trees (never a guessed line), and the check of an
 * agent's answer.
 */
import { strict as assert } from 'node:assert';
import { holderMarks, holderText } from '../../src/core/holderAnnotations';
import { formatEntries, pathText } from '../../src/core/why/describe';
import { findJsHoldingLine } from '../../src/core/why/jsHoldingLine';
import type { RetainerStep } from '../../src/core/why/model';
import { analyseSnapshots } from '../../src/core/why/retainerPaths';
import { SnapshotParser } from '../../src/core/why/snapshotParser';
import { parseWhyRetained } from '../../src/core/why/validate';

const META = {
  node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
  node_types: [
    [
      'hidden',
      'array',
      'string',
      'object',
      'code',
      'closure',
      'regexp',
      'number',
      'native',
      'synthetic',
      'concatenated string',
      'sliced string',
      'symbol',
      'bigint',
      'object shape',
    ],
    'string',
    'number',
    'number',
    'number',
    'number',
    'number',
  ],
  edge_fields: ['type', 'name_or_index', 'to_node'],
  edge_types: [['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'], 'string_or_number', 'node'],
};
const NODE_TYPES = META.node_types[0] as string[];
const EDGE_TYPES = META.edge_types[0] as string[];

interface Node {
  type: string;
  name: string;
  id: number;
  size: number;
  edges: Array<{ type: string; name: string | number; to: number }>;
}

/** A snapshot's JSON text from nodes given by index (edges point at node indices). */
function snapshotText(nodes: Node[]): string {
  const strings: string[] = [];
  const str = (s: string): number => {
    const at = strings.indexOf(s);
    return at >= 0 ? at : strings.push(s) - 1;
  };
  const flatNodes: number[] = [];
  const flatEdges: number[] = [];
  for (const node of nodes) {
    flatNodes.push(NODE_TYPES.indexOf(node.type), str(node.name), node.id, node.size, node.edges.length, 0, 0);
    for (const edge of node.edges) {
      flatEdges.push(EDGE_TYPES.indexOf(edge.type), typeof edge.name === 'number' ? edge.name : str(edge.name), edge.to * META.node_fields.length);
    }
  }
  const header = { meta: META, node_count: nodes.length, edge_count: flatEdges.length / 3, trace_function_count: 0 };
  return `{"snapshot":${JSON.stringify(header)},\n"nodes":[${flatNodes.join(',')}],\n"edges":[${flatEdges.join(',\n')}],\n"trace_function_infos":[],"trace_tree":[],"samples":[],"locations":[1,2,3,4],\n"strings":${JSON.stringify(strings)}}`;
}

function parseInChunks(text: string, size: number) {
  const parser = new SnapshotParser();
  for (let at = 0; at < text.length; at += size) parser.push(text.slice(at, at + size));
  return parser.finish();
}

/**
 * A module scope holding `cache` (a Map) with `entries` new records, each a record and its array; and
 * `runs` more objects that exist in both snapshots.
 */
function heapWithMap(entries: number, firstNewId: number): Node[] {
  const nodes: Node[] = [
    { type: 'synthetic', name: '', id: 1, size: 0, edges: [{ type: 'element', name: 1, to: 1 }] },
    { type: 'synthetic', name: '(GC roots)', id: 3, size: 0, edges: [{ type: 'element', name: 1, to: 2 }] },
    { type: 'closure', name: 'handleJob', id: 5, size: 32, edges: [{ type: 'internal', name: 'context', to: 3 }] },
    { type: 'object', name: 'system / Context', id: 7, size: 40, edges: [{ type: 'context', name: 'cache', to: 4 }] },
    { type: 'object', name: 'Map', id: 9, size: 32, edges: [{ type: 'internal', name: 'table', to: 5 }] },
    { type: 'array', name: 'system / OrderedHashMap', id: 11, size: 200, edges: [] },
  ];
  for (let i = 0; i < entries; i++) {
    const record = nodes.length;
    nodes[5].edges.push({ type: 'internal', name: i, to: record });
    nodes.push({ type: 'object', name: 'Object', id: firstNewId + 4 * i, size: 24, edges: [{ type: 'property', name: 'history', to: record + 1 }] });
    nodes.push({ type: 'object', name: 'Array', id: firstNewId + 4 * i + 2, size: 16, edges: [] });
  }
  return nodes;
}

describe('why retained: the snapshot parser', () => {
  it('reads the same graph whatever the chunk boundaries (inside numbers, markers and strings)', () => {
    const text = snapshotText(heapWithMap(5, 1001));
    const whole = parseInChunks(text, text.length);
    for (const size of [1, 2, 3, 7, 64]) {
      const graph = parseInChunks(text, size);
      assert.equal(graph.nodeCount, whole.nodeCount, `chunks of ${size}`);
      for (let node = 0; node < graph.nodeCount; node++) {
        assert.equal(graph.id(node), whole.id(node));
        assert.equal(graph.name(node), whole.name(node));
        assert.deepEqual(graph.edgeRange(node), whole.edgeRange(node));
      }
    }
    assert.equal(whole.nodeCount, 16);
    assert.equal(whole.name(4), 'Map');
    assert.equal(whole.edgeName(whole.edgeRange(3)[0]), 'cache');
  });

  it('says where a cut-off snapshot ended', () => {
    const text = snapshotText(heapWithMap(2, 1001));
    const parser = new SnapshotParser();
    parser.push(text.slice(0, text.indexOf('"edges"') + 12));
    assert.throws(() => parser.finish(), /ended early \(in its edges section\)/);
  });
});

describe('why retained: grouping what the runs kept', () => {
  it("a Map's new entries are one group with the variable that holds it, one entry per run", () => {
    const earlier = parseInChunks(snapshotText(heapWithMap(0, 1001)), 100);
    const later = parseInChunks(snapshotText(heapWithMap(20, 1001)), 100);
    const why = analyseSnapshots(earlier.sortedIds(), later, 20);
    assert.equal(why.groups.length, 1);
    const [group] = why.groups;
    assert.equal(pathText(group.path), 'scope > cache (Map) > {entry} (Object)');
    assert.equal(group.entriesPerRun, 1);
    assert.equal(group.bytes, 20 * (24 + 16));
    assert.equal(group.objects, 40);
    assert.equal(why.keptBytes, 20 * 40);
  });

  it("a Map's string keys, also in V8's string table nearer the root, are the Map's", () => {
    const build = (entries: number): Node[] => {
      const nodes = heapWithMap(0, 1001);
      const table: Node = { type: 'synthetic', name: '(Internalized strings)', id: 13, size: 0, edges: [] };
      nodes[0].edges.unshift({ type: 'element', name: 0, to: nodes.length });
      nodes.push(table);
      for (let i = 0; i < entries; i++) {
        const key = nodes.length;
        nodes.push({ type: 'string', name: `customer-${i}`, id: 3001 + 2 * i, size: 20, edges: [] });
        table.edges.push({ type: 'element', name: i, to: key });
        nodes[5].edges.push({ type: 'internal', name: i, to: key });
      }
      return nodes;
    };
    const earlier = parseInChunks(snapshotText(build(0)), 100);
    const later = parseInChunks(snapshotText(build(15)), 100);
    const why = analyseSnapshots(earlier.sortedIds(), later, 15);
    assert.deepEqual(
      why.groups.map((g) => [pathText(g.path), g.bytes]),
      [['scope > cache (Map) > {entry} (string)', 15 * 20]],
    );
  });

  it('a Map also seen on the stack (a snapshot that interrupted running code) is named by its variable', () => {
    const build = (entries: number): Node[] => {
      const nodes = heapWithMap(entries, 1001);
      // The root reaches the stack first, and the stack holds the Map (a register of the running callback).
      nodes[0].edges.unshift({ type: 'element', name: 0, to: nodes.length });
      nodes.push({ type: 'synthetic', name: '(Stack roots)', id: 15, size: 0, edges: [{ type: 'element', name: 0, to: 4 }] });
      return nodes;
    };
    const earlier = parseInChunks(snapshotText(build(0)), 100);
    const later = parseInChunks(snapshotText(build(12)), 100);
    const why = analyseSnapshots(earlier.sortedIds(), later, 12);
    assert.deepEqual(
      why.groups.map((g) => pathText(g.path)),
      ['scope > cache (Map) > {entry} (Object)'],
    );
  });

  it('a holder that grew once (under one entry per ten runs) is not reported', () => {
    const earlier = parseInChunks(snapshotText(heapWithMap(0, 1001)), 100);
    const later = parseInChunks(snapshotText(heapWithMap(3, 1001)), 100);
    assert.deepEqual(analyseSnapshots(earlier.sortedIds(), later, 100).groups, []);
  });

  it('a doubly linked list (a timer list) reached from both ends is one group with an entry per link', () => {
    const build = (links: number): Node[] => {
      const nodes: Node[] = [
        { type: 'synthetic', name: '', id: 1, size: 0, edges: [{ type: 'element', name: 1, to: 1 }] },
        { type: 'object', name: 'system / Context', id: 3, size: 40, edges: [{ type: 'context', name: 'timerListMap', to: 2 }] },
        { type: 'object', name: 'Object', id: 5, size: 32, edges: [{ type: 'element', name: 1000, to: 3 }] },
        { type: 'object', name: 'TimersList', id: 7, size: 48, edges: [] },
      ];
      for (let i = 0; i < links; i++) nodes.push({ type: 'object', name: 'Timeout', id: 2001 + 2 * i, size: 96, edges: [] });
      const first = 4;
      const last = 4 + links - 1;
      if (links > 0) nodes[3].edges.push({ type: 'property', name: '_idleNext', to: first }, { type: 'property', name: '_idlePrev', to: last });
      for (let i = first; i <= last; i++) {
        if (i < last) nodes[i].edges.push({ type: 'property', name: '_idleNext', to: i + 1 });
        if (i > first) nodes[i].edges.push({ type: 'property', name: '_idlePrev', to: i - 1 });
      }
      return nodes;
    };
    const earlier = parseInChunks(snapshotText(build(0)), 50);
    const later = parseInChunks(snapshotText(build(30)), 50);
    const why = analyseSnapshots(earlier.sortedIds(), later, 30);
    assert.equal(why.groups.length, 1, JSON.stringify(why.groups.map((g) => pathText(g.path))));
    assert.match(pathText(why.groups[0].path), /^scope > timerListMap \(Object\) > \[\] \(TimersList\) > _idle(Next|Prev)(\|_idle(Next|Prev))? \(Timeout\)$/);
    assert.equal(why.groups[0].objects, 30);
    assert.equal(why.groups[0].entriesPerRun, 1);
  });
});

describe('why retained: the holding line', () => {
  const step = (edge: string, kind: RetainerStep['kind'], holder: string): RetainerStep => ({ edge, kind, holder });
  const file = (text: string, language: 'javascript' | 'typescript' = 'javascript') => ({ file: '/w/jobs.js', text, language });

  it('finds the one statement that stores into a module variable, a static property or an instance property', () => {
    const text = [
      'const cache = new Map();', // 1
      'class Registry { static entries = []; add(x) { this.items.push(x); } }', // 2
      'function a(k) {', // 3
      '  const note = `cache.set(${k})`; // cache.set in a comment', // 4
      '  cache.set(k, { k });', // 5
      '  Registry.entries.push(k);', // 6
      '}', // 7
    ].join('\n');
    assert.deepEqual(findJsHoldingLine([step('', 'variable', 'scope'), step('cache', 'variable', 'Map'), step('{entry}', 'entry', 'Object')], [file(text)]), {
      file: '/w/jobs.js',
      line: 5,
      operation: 'cache.set',
      confidence: 'exact',
      candidates: 1,
    });
    assert.equal(
      findJsHoldingLine([step('', 'variable', 'function Registry'), step('entries', 'property', 'Array'), step('[]', 'element', 'Object')], [file(text)])?.line,
      6,
    );
    const instance = findJsHoldingLine(
      [step('', 'variable', 'scope'), step('registry', 'variable', 'Registry'), step('items', 'property', 'Array'), step('[]', 'element', 'Object')],
      [file(text)],
    );
    assert.deepEqual([instance?.line, instance?.operation], [2, 'this.items.push']);
  });

  it('listeners by their event name, timers by their call; TypeScript as written', () => {
    const text = [
      'const bus = new EventEmitter();',
      "bus.on('other', () => 1);",
      'export function f(x: number): void {',
      "  bus.on('order', () => x);",
      '  setInterval(() => x, 1000);',
      '}',
    ].join('\n');
    const listener = findJsHoldingLine(
      [step('', 'variable', 'scope'), step('bus', 'variable', 'EventEmitter'), step('_events', 'listener', 'Object'), step('order', 'property', 'Array')],
      [file(text, 'typescript')],
    );
    assert.deepEqual([listener?.line, listener?.operation], [4, "bus.on('order')"]);
    const timer = findJsHoldingLine(
      [step('', 'variable', 'scope'), step('timerListMap', 'variable', 'Object'), step('_idleNext', 'property', 'Timeout')],
      [file(text, 'typescript')],
    );
    assert.deepEqual([timer?.line, timer?.operation], [5, 'setInterval']);
  });

  it('several candidates: likely, the one nearest the allocation stack; none: no line', () => {
    const text = ['const log = [];', 'function a(x) { log.push(x); }', '', '', '', 'function b(x) {', '  log.push(x);', '}'].join('\n');
    const path = [step('', 'variable', 'scope'), step('log', 'variable', 'Array'), step('[]', 'element', 'Object')];
    const found = findJsHoldingLine(path, [file(text)], new Map([['/w/jobs.js', [6]]]));
    assert.deepEqual([found?.line, found?.confidence, found?.candidates], [7, 'likely', 2]);
    assert.equal(findJsHoldingLine([step('', 'variable', 'scope'), step('other', 'variable', 'Map')], [file(text)]), undefined);
    assert.equal(findJsHoldingLine(path, [file('const log = [; broken')]), undefined, 'a file that does not parse gives no line');
  });
});

describe('why retained: an agent answer and the editor marks', () => {
  it('keeps what has the shape and drops what does not', () => {
    const why = parseWhyRetained({
      runs: 10,
      keptBytes: 500,
      pauseMs: 12,
      groups: [
        {
          path: [{ edge: '', kind: 'variable', holder: 'module jobs.py' }],
          objects: 10,
          bytes: 400,
          bytesPerRun: 40,
          entriesPerRun: 1,
          holdingLine: { file: '/w/jobs.py', line: 3, operation: '_log.append', confidence: 'exact', candidates: 1 },
        },
        { path: [{ edge: '', kind: 'bogus', holder: 'x' }], objects: 1, bytes: 1, bytesPerRun: 0.1, entriesPerRun: 0.1 },
        {
          path: [{ edge: '', kind: 'variable', holder: 'y' }],
          objects: 1,
          bytes: 1,
          bytesPerRun: 0.1,
          entriesPerRun: 0.1,
          holdingLine: { file: '/w/y.py', line: 0 },
        },
      ],
    });
    assert.equal(why.groups.length, 2);
    assert.equal(why.groups[0].holdingLine?.operation, '_log.append');
    assert.equal(why.groups[1].holdingLine, undefined, 'a line 0 is no line');
    assert.throws(() => parseWhyRetained({ groups: [] }), /without runs, keptBytes and groups/);
  });

  it('marks the holding lines of leaks, never of clean tasks', () => {
    const why = (operation: string, bytesPerRun: number) => ({
      runs: 10,
      keptBytes: 1000,
      pauseMs: 1,
      groups: [
        {
          path: [{ edge: '', kind: 'variable' as const, holder: 'scope' }],
          objects: 10,
          bytes: 10 * bytesPerRun,
          bytesPerRun,
          entriesPerRun: 1,
          holdingLine: { file: '/w/a.js', line: 3, operation, confidence: 'exact' as const, candidates: 1 },
        },
      ],
    });
    const marks = holderMarks([
      { name: 'clean', verdict: 'no-leak', why: why('other.set', 900) },
      { name: 'leaky', verdict: 'leak', why: why('seen.set', 632) },
    ]);
    assert.deepEqual(
      marks.map((m) => m.task),
      ['leaky'],
    );
    assert.equal(holderText(marks), '◆ keeps +632 B/run: seen.set');
  });
});

describe('why retained: entries in words', () => {
  it('says entries per run as the report, the panel and the hover show them', () => {
    assert.equal(formatEntries(1), '1.0 entry');
    assert.equal(formatEntries(0.98), '1.0 entry');
    assert.equal(formatEntries(0.5), '0.5 entries');
    assert.equal(formatEntries(2.46), '2.5 entries');
    assert.equal(formatEntries(12.4), '12 entries');
  });
});

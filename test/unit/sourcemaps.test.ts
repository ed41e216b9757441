import assert from 'node:assert/strict';
import ts from 'typescript';
import { aggregateSites } from '../../src/core/sites';
import { decodeDataUrl, SourceMapStore } from '../../src/core/sourcemaps';

const SOURCE = [
  'export interface Job { id: string }', // 1
  'const cache = new Map<string, Job[]>();', // 2
  'export function processOrder(job: Job): number {', // 3
  '  const list: Job[] = cache.get(job.id) ?? [];', // 4
  '  list.push(job);', // 5
  '  cache.set(job.id, list);', // 6
  '  return list.length;', // 7
  '}', // 8
  'export const enrich = (job: Job): Job => ({ ...job });', // 9
  '',
].join('\n');

/** A real tsc map; `sources` is ["orders.ts"], and sourceRoot "../src/" moves it next to dist/. */
function compiled(): { js: string[]; map: string } {
  const out = ts.transpileModule(SOURCE, {
    fileName: 'orders.ts',
    compilerOptions: { sourceMap: true, sourceRoot: '../src/', module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 },
  });
  assert.ok(out.sourceMapText);
  return { js: out.outputText.split('\n'), map: out.sourceMapText };
}

/** 0-based position of `needle` in the generated code. */
function where(js: string[], needle: string): { line: number; column: number } {
  const line = js.findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, needle);
  return { line, column: js[line].indexOf(needle) };
}

describe('SourceMapStore', () => {
  const { js, map } = compiled();

  it('maps generated positions to the original TypeScript lines', () => {
    const store = new SourceMapStore();
    assert.equal(store.add('42', 'file:///proj/dist/orders.js', map, '/proj/dist/orders.js.map'), undefined);
    assert.ok(store.has('42'));
    assert.equal(store.has('43'), false);
    const push = where(js, 'list.push');
    assert.deepEqual(store.original('42', '/proj/dist/orders.js', push.line, push.column), {
      file: '/proj/src/orders.ts',
      line: 5,
      column: 3,
    });
  });

  it('falls back to the nearest mapped column on the same line (V8 function starts)', () => {
    const store = new SourceMapStore();
    store.add('42', '/proj/dist/orders.js', map, '/proj/dist/orders.js.map');
    // tsc maps `function processOrder` only from the name on: column 0 needs the upper bound.
    const fn = where(js, 'function processOrder');
    assert.equal(fn.column, 0);
    const start = store.original('42', '', fn.line, 0);
    assert.equal(start?.line, 3);
    assert.equal(start?.file, '/proj/src/orders.ts');
    // The arrow function's start column ("(job) =>") is not a segment start: lower bound.
    const arrow = where(js, '(job) =>');
    assert.equal(store.original('42', '', arrow.line, arrow.column)?.line, 9);
    // A line without mappings ("use strict") and unknown scripts give undefined.
    assert.equal(store.original('42', '', 0, 0), undefined);
    assert.equal(store.original('nope', '', fn.line, 0), undefined);
    assert.equal(store.original('42', '', 10_000, 0), undefined);
  });

  it('finds the map by generated path when the scriptId is unknown', () => {
    const store = new SourceMapStore();
    store.add('1', 'file:///proj/dist/orders.js', map, '/proj/dist/orders.js.map');
    const push = where(js, 'list.push');
    assert.equal(store.original('other-target', '/proj/dist/orders.js', push.line, push.column)?.line, 5);
  });

  it('resolves sources against file URLs (decoded) and Windows paths', () => {
    const store = new SourceMapStore();
    store.add('a', '', map, 'file:///my%20proj/dist/orders.js.map');
    store.add('b', '', map, 'C:\\proj\\dist\\orders.js.map');
    const push = where(js, 'list.push');
    assert.equal(store.original('a', '', push.line, push.column)?.file, '/my proj/src/orders.ts');
    assert.equal(store.original('b', '', push.line, push.column)?.file, 'C:/proj/src/orders.ts');
  });

  it('returns names from the map and keeps non-file sources as they are', () => {
    // Line 0: column 0 → webpack://app/src/x.ts line 3 col 5, name "handler".
    const handMade = JSON.stringify({ version: 3, sources: ['webpack://app/src/x.ts'], names: ['handler'], mappings: 'AAEKA' });
    const store = new SourceMapStore();
    assert.equal(store.add('w', '/dist/bundle.js', handMade, '/dist/bundle.js.map'), undefined);
    assert.deepEqual(store.original('w', '', 0, 7), { file: 'webpack://app/src/x.ts', line: 3, column: 6, name: 'handler' });
  });

  it('reports broken maps instead of throwing', () => {
    const store = new SourceMapStore();
    assert.match(store.add('x', '', '{not json', '/m.map') ?? '', /invalid source map JSON/);
    assert.match(store.add('x', '', '{"version":2,"sources":[],"mappings":""}', '/m.map') ?? '', /unsupported version/);
    assert.match(store.add('x', '', '{"version":3,"sources":[]}', '/m.map') ?? '', /mappings/);
    assert.match(store.add('x', '', '[]', '/m.map') ?? '', /not an object/);
    assert.equal(store.has('x'), false);
  });

  it('leaves a frame unmapped where the map names a source past its "sources" (it used to crash the analysis)', () => {
    // Line 0: column 0 → source 1 of 1 (broken); column 4 → source 0, line 2.
    const broken = JSON.stringify({ version: 3, sources: ['a.ts'], names: [], mappings: 'ACAA,IDCA' });
    const store = new SourceMapStore();
    assert.equal(store.add('b', '/dist/b.js', broken, '/dist/b.js.map'), undefined);
    assert.deepEqual(store.original('b', '', 0, 4), { file: '/dist/a.ts', line: 2, column: 1 });
    // Column 2: the lower bound is the broken segment, so the upper bound answers; column 0 is only broken.
    assert.deepEqual(store.original('b', '', 0, 2), { file: '/dist/a.ts', line: 2, column: 1 });
    assert.equal(store.original('b', '', 0, 0), undefined);
    const head = {
      id: 1,
      selfSize: 0,
      callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
      children: [{ id: 2, selfSize: 64, children: [], callFrame: { functionName: 'f', scriptId: 'b', url: '/dist/b.js', lineNumber: 0, columnNumber: 0 } }],
    };
    assert.equal(aggregateSites({ head, samples: [] }, { precision: 'function', mapper: store }).sites[0]?.key, '/dist/b.js:1:f');
  });

  it('drives aggregateSites to original files and lines', () => {
    const store = new SourceMapStore();
    store.add('42', 'file:///proj/dist/orders.js', map, '/proj/dist/orders.js.map');
    const fn = where(js, 'function processOrder');
    const head = {
      id: 1,
      selfSize: 0,
      callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
      children: [
        {
          id: 2,
          selfSize: 2048,
          children: [],
          callFrame: { functionName: 'processOrder', scriptId: '42', url: '/proj/dist/orders.js', lineNumber: fn.line, columnNumber: fn.column },
        },
      ],
    };
    const agg = aggregateSites({ head, samples: [] }, { precision: 'function', mapper: store });
    assert.equal(agg.sites[0]?.key, '/proj/src/orders.ts:3:processOrder');
    assert.equal(agg.sites[0]?.category, 'user');
  });
});

describe('decodeDataUrl', () => {
  const json = '{"version":3,"sources":["é.ts"]}';
  const b64 = Buffer.from(json, 'utf8').toString('base64');
  it('decodes base64 variants', () => {
    assert.equal(decodeDataUrl(`data:application/json;base64,${b64}`), json);
    assert.equal(decodeDataUrl(`data:application/json;charset=utf-8;base64,${b64}`), json);
    assert.equal(decodeDataUrl(`DATA:application/json;charset=UTF-8;BASE64,${b64}`), json);
  });
  it('decodes percent-encoded data', () => {
    assert.equal(decodeDataUrl(`data:application/json,${encodeURIComponent(json)}`), json);
    assert.equal(decodeDataUrl('data:,a%20b'), 'a b');
  });
  it('rejects what is not a decodable data URL', () => {
    assert.equal(decodeDataUrl('file:///x.map'), undefined);
    assert.equal(decodeDataUrl('data:application/json;base64'), undefined);
    assert.equal(decodeDataUrl('data:application/json;base64,@@@'), undefined);
    assert.equal(decodeDataUrl('data:,%E0%A4%A'), undefined);
  });
});

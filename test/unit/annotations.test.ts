import assert from 'node:assert/strict';
import {
  buildFileAnnotations,
  callerText,
  commandUri,
  fileKey,
  heatLevel,
  hoverMarkdown,
  indexSitesByFile,
  lineEdit,
  shiftAnnotations,
  siteText,
  sitesFromReport,
  type FileAnnotation,
} from '../../src/core/annotations';
import type { Frame, RetainedSite } from '../../src/core/model';

const MiB = 1024 * 1024;

function frame(fn: string, file: string, line: number): Frame {
  return { function: fn, file, line, column: 1, category: 'user' };
}

function site(over: Partial<RetainedSite> & Pick<RetainedSite, 'function' | 'file' | 'line'>): RetainedSite {
  return {
    key: `${over.file}:${over.line}:${over.function}`,
    column: 1,
    category: 'user',
    precision: 'function',
    retainedBytes: MiB,
    count: 10,
    share: 0.1,
    stacks: [],
    callers: [],
    ...over,
  };
}

const orders = site({
  function: 'processOrder',
  file: '/ws/src/orders.ts',
  line: 10,
  retainedBytes: 4.2 * MiB,
  share: 0.38,
  bytesPerRun: 41 * 1024,
  stacks: [{ bytes: 4.2 * MiB, frames: [frame('processOrder', '/ws/src/orders.ts', 10), frame('main', '/ws/src/main.ts', 3)] }],
  callers: [{ function: 'main', file: '/ws/src/main.ts', line: 7, via: 'processOrder', bytes: 3.1 * MiB }],
});
const enrich = site({
  function: 'enrich',
  file: '/ws/src/enrich.py',
  line: 22,
  precision: 'line',
  retainedBytes: 0.5 * MiB,
  share: 0.04,
  callers: [{ function: 'main', file: '/ws/src/main.ts', line: 7, via: 'enrich', bytes: 0.5 * MiB }],
});

describe('annotations: heat and texts', () => {
  it('heat levels by share', () => {
    assert.deepEqual([0, 0.049, 0.05, 0.19, 0.2, 0.49, 0.5, 1, Number.NaN].map(heatLevel), [0, 0, 1, 1, 2, 2, 3, 3, 0]);
  });

  it('after the line: only what was kept and its growth (short enough beside a half-width panel; the rest is in the hover)', () => {
    assert.equal(siteText([orders]), '▲ 4.2 MiB kept · +41.0 KiB/run');
    assert.equal(siteText([enrich]), '▲ 512.0 KiB kept');
    // A worker's sites grow per task of any name, as the panel says.
    assert.equal(siteText([orders], 'task'), '▲ 4.2 MiB kept · +41.0 KiB/task');
    assert.ok(siteText([orders]).length <= 32);
  });

  it('memory kept that does not grow is marked as such, not like a leak; one growing site on the line makes it a leak line', () => {
    const table = site({ function: 'loadTable', file: '/f.js', line: 3, share: 0.3, retainedBytes: 1.1 * MiB, bytesPerRun: 0 });
    const shrinking = site({ function: 'loadTable', file: '/f.js', line: 3, share: 0.01, retainedBytes: 0.1 * MiB, bytesPerRun: -12 });
    assert.equal(siteText([table]), '● 1.1 MiB kept · not growing');
    const [steady] = buildFileAnnotations([table, shrinking], '/f.js');
    assert.equal(steady.notGrowing, true);
    const growing = site({ function: 'append', file: '/f.js', line: 3, share: 0.1, bytesPerRun: 64 });
    const [mixed] = buildFileAnnotations([table, growing], '/f.js');
    assert.equal(mixed.notGrowing, undefined);
    assert.match(mixed.text, /^▲ [\d.]+ MiB kept · \+64 B\/run$/);
    // A site whose growth was never measured (one capture) says nothing either way: it keeps the heat.
    assert.equal(buildFileAnnotations([site({ function: 'f', file: '/g.js', line: 1 })], '/g.js')[0].notGrowing, undefined);
  });

  it('sums sites sharing a line', () => {
    const a = site({ function: 'a', file: '/f.js', line: 1, share: 0.1 });
    const b = site({ function: 'b', file: '/f.js', line: 1, share: 0.2 });
    const c = site({ function: 'c', file: '/f.js', line: 1, share: 0.05 });
    assert.equal(siteText([a, b, c]), '▲ 3.0 MiB kept');
  });

  it('sanitizes and shortens names in the caller text', () => {
    const evil = site({
      function: 'f',
      file: '/f.js',
      line: 1,
      callers: [{ function: 'main', file: '/m.js', line: 2, via: `x\u202e\x1b[31m${'n'.repeat(60)}`, bytes: MiB }],
    });
    const text = callerText([{ site: evil, caller: evil.callers[0] }], 20);
    assert.ok(!/[\u202e\x1b]/.test(text), text);
    assert.match(text, /via xn{18}…\(\)$/);
  });

  it('caller text names the first callee and counts the others', () => {
    assert.equal(callerText([{ site: orders, caller: orders.callers[0] }]), '→ 3.1 MiB via processOrder()');
    const other = { ...orders.callers[0], via: 'enrich' };
    assert.equal(
      callerText([
        { site: orders, caller: orders.callers[0] },
        { site: orders, caller: other },
      ]),
      '→ 6.2 MiB via processOrder() +1',
    );
  });
});

describe('annotations: per-file models', () => {
  it('indexes sites by file and callers by the caller file', () => {
    const index = indexSitesByFile([orders, enrich, site({ function: 'native', file: '', line: 0 })]);
    assert.deepEqual([...index.sites.keys()].sort(), ['/ws/src/enrich.py', '/ws/src/orders.ts']);
    assert.deepEqual([...index.callers.keys()], ['/ws/src/main.ts']);
    assert.equal(index.callers.get('/ws/src/main.ts')!.length, 2);
  });

  it('builds the site line (0-based) with heat, and caller marks merged per line', () => {
    const model = buildFileAnnotations([orders, enrich], '/ws/src/orders.ts');
    assert.equal(model.length, 1);
    assert.equal(model[0].line, 9);
    assert.equal(model[0].capturedLine, 10);
    assert.equal(model[0].kind, 'site');
    assert.equal(model[0].heat, 2);
    const main = buildFileAnnotations(indexSitesByFile([orders, enrich]), '/ws/src/main.ts');
    assert.equal(main.length, 1);
    assert.equal(main[0].kind, 'caller');
    assert.equal(main[0].line, 6);
    assert.equal(main[0].text, '→ 3.6 MiB via processOrder() +1');
    assert.equal(main[0].calls[0].site, orders);
  });

  it('a line that is both a site and a caller shows the site and lists the call in the hover', () => {
    const inner = site({ function: 'inner', file: '/a.js', line: 5, callers: [{ function: 'outer', file: '/a.js', line: 2, via: 'inner', bytes: 100 }] });
    const outer = site({ function: 'outer', file: '/a.js', line: 2 });
    const model = buildFileAnnotations([inner, outer], '/a.js');
    assert.deepEqual(
      model.map((a) => [a.line, a.kind]),
      [
        [1, 'site'],
        [4, 'site'],
      ],
    );
    assert.equal(model[0].calls.length, 1);
    assert.match(hoverMarkdown(model[0]), /This line also calls into/);
  });

  it('honours minShare and callers:false; Windows paths compare by fileKey', () => {
    assert.deepEqual(buildFileAnnotations([enrich], '/ws/src/enrich.py', { minShare: 0.05 }), []);
    assert.deepEqual(buildFileAnnotations([orders], '/ws/src/main.ts', { callers: false }), []);
    const win = site({ function: 'f', file: 'C:\\src\\a.ts', line: 3 });
    assert.equal(fileKey('C:\\src\\a.ts'), 'c:/src/a.ts');
    assert.equal(buildFileAnnotations([win], 'c:\\src\\a.ts').length, 1);
  });

  it('turns report sites back into sites', () => {
    const [s] = sitesFromReport([
      {
        file: '/a.ts',
        line: 3,
        column: 1,
        function: 'f',
        retainedBytes: 10,
        bytesPerRun: null,
        share: 1,
        count: 1,
        category: 'user',
        precision: 'function',
        stack: [frame('f', '/a.ts', 3)],
        callers: [],
      },
    ]);
    assert.equal(s.key, '/a.ts:3:f');
    assert.equal(s.bytesPerRun, undefined);
    assert.equal(s.stacks[0].frames.length, 1);
  });
});

describe('annotations: edits', () => {
  const at = (...lines: number[]): FileAnnotation[] =>
    lines.map((line) => ({ kind: 'site', line, capturedLine: line + 1, heat: 0, text: '', bytes: 1, share: 0, sites: [], calls: [] }));
  const lines = (a: FileAnnotation[]): number[] => a.map((x) => x.line);

  it('shifts lines below an edit by its delta and drops the ones on edited lines', () => {
    assert.deepEqual(lines(shiftAnnotations(at(2, 5, 9), 5, 5, 1)), [2, 9]);
    assert.deepEqual(lines(shiftAnnotations(at(2, 5, 9), 3, 3, 3)), [2, 7, 11]);
    assert.deepEqual(lines(shiftAnnotations(at(2, 5, 9), 3, 6, 1)), [2, 6]);
    assert.ok(shiftAnnotations(at(2), 5, 5, 1).every((a) => a.fileChanged));
  });

  it('reduces text changes to whole lines: Enter at the end or start of a line keeps that line', () => {
    const change = (startLine: number, startCharacter: number, endLine: number, endCharacter: number, text: string) => ({
      startLine,
      startCharacter,
      endLine,
      endCharacter,
      text,
    });
    assert.deepEqual(lineEdit(change(9, 3, 9, 3, 'x')), { start: 9, end: 9, newLineCount: 1 });
    assert.deepEqual(lineEdit(change(9, 40, 9, 40, '\n  '), true), { start: 10, end: 9, newLineCount: 1 });
    assert.deepEqual(lineEdit(change(9, 0, 9, 0, '\n')), { start: 9, end: 8, newLineCount: 1 });
    assert.deepEqual(lineEdit(change(4, 0, 7, 0, '')), { start: 4, end: 6, newLineCount: 0 });
    assert.deepEqual(lineEdit(change(9, 5, 10, 0, '')), { start: 9, end: 10, newLineCount: 1 });
    const enterAtEnd = lineEdit(change(9, 40, 9, 40, '\n'), true);
    assert.deepEqual(lines(shiftAnnotations(at(9, 12), enterAtEnd.start, enterAtEnd.end, enterAtEnd.newLineCount)), [9, 13]);
    const enterAtStart = lineEdit(change(9, 0, 9, 0, '\n'));
    assert.deepEqual(lines(shiftAnnotations(at(9, 12), enterAtStart.start, enterAtStart.end, enterAtStart.newLineCount)), [10, 13]);
    const deleteLines = lineEdit(change(4, 0, 7, 0, ''));
    assert.deepEqual(lines(shiftAnnotations(at(3, 5, 7), deleteLines.start, deleteLines.end, deleteLines.newLineCount)), [3, 4]);
  });
});

describe('annotations: hover markdown', () => {
  it('shows the figures, the precision caveat, stack links and a trusted "Show in panel" link', () => {
    const [a] = buildFileAnnotations([orders], '/ws/src/orders.ts');
    const md = hoverMarkdown(a, { sessionId: 's1', cwd: '/ws', tasks: [{ name: 'processOrder', bytesPerRun: 41 * 1024, verdict: 'leak' }] });
    assert.match(md, /\*\*4\.2 MiB\*\* kept · 38% of retained memory · \+41\.0 KiB\/run/);
    assert.match(md, /V8 attributes per function/);
    assert.match(md, /10 heap samples/);
    assert.ok(md.includes(`[processOrder](${commandUri('taskMemory.revealSource', ['/ws/src/orders.ts', 10])}`), md);
    assert.ok(md.includes('src/orders.ts:10'));
    assert.ok(md.includes(`[Show in panel](${commandUri('taskMemory.showSiteInPanel', [orders.key, 's1'])}`));
    assert.match(md, /processOrder: \+41\.0 KiB\/run \(leak\)/);
    const links = [...md.matchAll(/\]\((command:[^ )]+)/g)].map((m) => m[1].split('?')[0]);
    assert.deepEqual([...new Set(links)].sort(), ['command:taskMemory.revealSource', 'command:taskMemory.showSiteInPanel']);
  });

  it("a worker's site growth with several task names is per task of any name, not of one", () => {
    const [a] = buildFileAnnotations([orders], '/ws/src/orders.ts');
    const tasks = [
      { name: 'ingest', bytesPerRun: 2148, verdict: 'leak' },
      { name: 'validate', bytesPerRun: 0, verdict: 'no-leak' },
    ];
    assert.match(hoverMarkdown(a, { unit: 'task', tasks }), /\+41\.0 KiB\/task over the captures \(per task of any name\)/);
    assert.doesNotMatch(hoverMarkdown(a, { unit: 'task', tasks: tasks.slice(0, 1) }), /any name/);
    assert.doesNotMatch(hoverMarkdown(a, { unit: 'run', tasks }), /any name/);
  });

  it("leaves the profiler's own frames (the harness) out of stacks", () => {
    const s = site({
      function: 'f',
      file: '/ws/f.js',
      line: 1,
      stacks: [
        { bytes: 1, frames: [frame('f', '/ws/f.js', 1), frame('run', '/ext/src/launch/harness.ts', 96), { ...frame('x', '/p.js', 1), category: 'profiler' }] },
      ],
    });
    const md = hoverMarkdown(buildFileAnnotations([s], '/ws/f.js')[0], { hiddenPaths: ['/ext/src/launch/'] });
    assert.match(md, /1\. \[f\]/);
    assert.doesNotMatch(md, /harness|\[x\]/);
  });

  it('Python line sites speak of blocks on this line', () => {
    const [a] = buildFileAnnotations([enrich], '/ws/src/enrich.py');
    const md = hoverMarkdown(a);
    assert.match(md, /Allocated on this line in enrich\(\)/);
    assert.match(md, /10 live blocks/);
    assert.doesNotMatch(md, /V8/);
  });

  it('escapes every string from the profiled program, and command arguments cannot end the link', () => {
    const file = '/ws/a) [x](command:evil) <img src=x onerror=alert(1)>.js';
    const evil = site({
      function: '*bold* [link](https://evil) <script>alert(1)</script> `code` @user',
      file,
      line: 3,
      stacks: [{ bytes: 1, frames: [frame('](command:workbench.action.terminal.new)', file, 3)] }],
    });
    const [a] = buildFileAnnotations([evil], file);
    const md = hoverMarkdown(a, { tasks: [{ name: '<b>task</b>', bytesPerRun: 1, verdict: 'leak' }] });
    assert.ok(!md.includes('<script>') && !md.includes('<img') && !md.includes('<b>'), md);
    assert.ok(!md.includes('[link]'), md);
    // a link can only start at an unescaped "](": all of those are ours
    for (const m of md.matchAll(/(?<!\\)\]\(/g)) assert.ok(md.startsWith('command:taskMemory.', m.index + 2), md.slice(m.index, m.index + 40));
    // every link destination is one of ours and contains no raw parentheses or spaces
    for (const m of md.matchAll(/(?<!\\)\]\((command:[^\s)]*)/g)) assert.match(m[1], /^command:taskMemory\.(revealSource|showSiteInPanel)\?[^()\s]*$/);
    const uri = commandUri('taskMemory.revealSource', [file, 3]);
    assert.deepEqual(JSON.parse(decodeURIComponent(uri.slice(uri.indexOf('?') + 1))), [file, 3]);
  });

  it('says when the file changed since the capture', () => {
    const [a] = shiftAnnotations(buildFileAnnotations([orders], '/ws/src/orders.ts'), 0, 0, 2);
    assert.equal(a.line, 10);
    assert.match(hoverMarkdown(a), /file changed since the capture/);
  });
});

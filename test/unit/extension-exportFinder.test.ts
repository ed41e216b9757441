import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { blankCommentsAndStrings, findExports, languageOf } from '../../src/extension/exportFinder';

const names = (source: string, language: 'javascript' | 'python' = 'javascript'): string[] => findExports(source, language).map((e) => e.name);

describe('extension: export finder', () => {
  it('finds the CommonJS exports of the leaky example, with the line of the export', () => {
    const file = path.join(__dirname, '../../examples/node/leaky-worker.js');
    const found = findExports(fs.readFileSync(file, 'utf8'), 'javascript');
    assert.deepEqual(found, [{ name: 'handleJob', line: 27 }]);
  });

  it('reads module.exports object literals: shorthand, key: value, methods, async methods', () => {
    const src = 'module.exports = {\n  a,\n  b: helper,\n  c() { return { x: 1 }; },\n  async d(x, y) {},\n  e: (x) => [x, 2],\n};\n';
    assert.deepEqual(names(src), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(findExports(src, 'javascript').map((e) => e.line), [2, 3, 4, 5, 6]);
  });

  it('reads exports.name and module.exports.name assignments, not comparisons', () => {
    assert.deepEqual(names('exports.run = function () {};\nmodule.exports.other = async () => 1;\nif (exports.x == 1) {}\n'), ['run', 'other']);
  });

  it('reads ES module and TypeScript forms', () => {
    const src = [
      'export function plain() {}',
      'export async function later(): Promise<void> {}',
      'export const arrow = async (job: Job): Promise<number> => 1;',
      'export const typed: Handler = (x) => x;',
      'export const short = x => x;',
      'export const fn = function () {};',
      'export const notAFunction = 42;',
      'function inner() {}',
      'export { inner, plain as renamed, type Job };',
      'export default async function () {}',
    ].join('\n');
    assert.deepEqual(names(src).sort(), ['arrow', 'default', 'fn', 'inner', 'later', 'plain', 'renamed', 'short', 'typed'].sort());
  });

  it('ignores exports inside comments, strings and template literals', () => {
    const src = '// export function commented() {}\n/* module.exports = { hidden } */\nconst s = "export function inString() {}";\nconst t = `exports.tpl = 1`;\nexport function real() {}\n';
    assert.deepEqual(findExports(src, 'javascript'), [{ name: 'real', line: 5 }]);
  });

  it('keeps offsets and newlines when blanking', () => {
    const src = 'a /* x\ny */ "q\\"z" // c\nb';
    const out = blankCommentsAndStrings(src);
    assert.equal(out.length, src.length);
    assert.equal(out.split('\n').length, src.split('\n').length);
    assert.ok(!out.includes('q') && !out.includes('c\n'));
  });

  it('finds public top-level Python functions, not methods, private ones or docstring text', () => {
    const src = '"""Tasks.\n\ndef in_docstring():\n"""\nimport os\n\ndef process_order(order):\n    def inner():\n        pass\n\nasync def fetch():\n    pass\n\ndef _private():\n    pass\n\nclass A:\n    def method(self):\n        pass\n';
    assert.deepEqual(findExports(src, 'python'), [
      { name: 'process_order', line: 7 },
      { name: 'fetch', line: 11 },
    ]);
  });

  it('knows which files it can scan', () => {
    assert.equal(languageOf('/w/a.js'), 'javascript');
    assert.equal(languageOf('/w/a.mts'), 'javascript');
    assert.equal(languageOf('/w/a.cjs'), 'javascript');
    assert.equal(languageOf('/w/tasks.py'), 'python');
    assert.equal(languageOf('/w/readme.md'), undefined);
  });
});

import assert from 'node:assert/strict';
import { findTaskFunctions, parseTaskFunctions, taskLanguage, taskLanguageOfFile } from '../../src/core/taskFunctions';

const names = (text: string, lang: 'javascript' | 'typescript' | 'python'): string[] =>
  findTaskFunctions(text, lang).map((f) => `${f.name}@${f.line}:${f.kind}`);

describe('findTaskFunctions (JavaScript / TypeScript)', () => {
  it('finds export function, export async function and generators, 0-based lines', () => {
    const text = [
      '// tasks',
      'export function processOrder(): number {',
      '  return 1;',
      '}',
      'export async function sync() {}',
      'export function* gen() {}',
    ].join('\n');
    assert.deepEqual(names(text, 'typescript'), ['processOrder@1:function', 'sync@4:function', 'gen@5:function']);
  });

  it('finds the orders.ts example on line index 9', () => {
    const text = [
      '// x',
      'interface Order {',
      '  id: number;',
      '  lines: string[];',
      '}',
      '',
      'const auditLog: Order[] = [];',
      'let nextId = 0;',
      '',
      'export function processOrder(): number {',
      '}',
    ].join('\n');
    assert.deepEqual(findTaskFunctions(text, 'typescript'), [{ name: 'processOrder', line: 9, kind: 'function' }]);
  });

  it('finds exported arrow functions and function expressions, typed or not, but not values', () => {
    const text = [
      'export const a = () => 1;',
      'export const b = async (x: number) => x;',
      'export const c: Handler = (job) => job;',
      'export let d = function () {};',
      'export const e = x => x;',
      'export const f = <T,>(x: T) => x;',
      'export const VALUE = 42;',
      'export const config = { a: 1 };',
    ].join('\n');
    assert.deepEqual(names(text, 'typescript'), ['a@0:function', 'b@1:function', 'c@2:function', 'd@3:function', 'e@4:function', 'f@5:function']);
  });

  it('finds exports.x = function and module.exports.x = …, references to declared functions', () => {
    const text = [
      'function handle(job) {}',
      'exports.run = function (job) {};',
      'module.exports.handleJob = async (job) => job;',
      'exports.handle = handle;',
      'exports.limit = 10;',
    ].join('\n');
    assert.deepEqual(names(text, 'javascript'), ['handle@0:function', 'run@1:function', 'handleJob@2:function']);
  });

  it('finds module.exports = { … }: shorthand, pairs, methods; lenses sit on the declarations', () => {
    const text = [
      'const cache = new Map();',
      'function handleJob(job) {',
      '  return { a: 1, b: 2 };',
      '}',
      'const enrich = (x) => x;',
      'module.exports = {',
      '  handleJob,',
      '  other: enrich,',
      '  inline: function () {},',
      '  async method(job) { return job; },',
      '  cache,',
      '  limit: 5,',
      '};',
    ].join('\n');
    assert.deepEqual(names(text, 'javascript'), ['handleJob@1:function', 'other@4:function', 'inline@8:function', 'method@9:function']);
  });

  it('finds export { a, b as c } and export default function', () => {
    const text = ['function a() {}', 'const b = () => 2;', 'export { a, b as c };', 'export default function () {}'].join('\n');
    assert.deepEqual(names(text, 'javascript'), ['a@0:function', 'c@1:function', 'default@3:function']);
  });

  it('ignores commented-out code and strings', () => {
    const text = [
      '// export function commented() {}',
      '/*',
      'export function blocked() {}',
      '*/',
      'const s = "export function inString() {}";',
      'const t = `',
      'export function inTemplate() {}',
      '`;',
      'export function real() {}',
    ].join('\n');
    assert.deepEqual(names(text, 'javascript'), ['real@8:function']);
  });

  it('does not hang or throw on unbalanced input', () => {
    assert.deepEqual(names('module.exports = { a: (', 'javascript'), []);
    assert.deepEqual(names('export function', 'javascript'), []);
    assert.deepEqual(names('"unterminated', 'javascript'), []);
    // A file being typed does not parse: callers with an earlier result keep it.
    assert.equal(parseTaskFunctions('export function a() {}\nexport function b( {', 'typescript'), undefined);
  });

  it('is not fooled by templates, regular expressions, decorators or re-exports (it reads the syntax tree)', () => {
    const text = [
      "const quote = /'/; export function afterRegex() {}",
      'const doc = `',
      'export function inTemplate() {}',
      '${"export function inExpression() {}"}`;',
      '@Injectable()',
      'export class Service {',
      '  handle() {}',
      '}',
      'export default class {}',
      "export { other } from './other';",
      'export type Handler = (job: unknown) => void;',
      'export const wrapped = (async (job: unknown) => job) as Handler;',
      'export const notAFunction = handlers.get("x")!;',
    ].join('\n');
    assert.deepEqual(names(text, 'typescript'), ['afterRegex@0:function', 'wrapped@11:function']);
  });

  it('export default of a declared function, type-only specifiers, and JSX in TypeScript', () => {
    const text = [
      'function handle(job: Job): void {}',
      'type Job = { id: number };',
      'export { type Job, handle as run };',
      'export default handle;',
      'export function render() {',
      '  return <div title="export function fake() {}">{items.map((i) => <b>{i}</b>)}</div>;',
      '}',
    ].join('\n');
    assert.deepEqual(names(text, 'typescript'), ['default@0:function', 'run@0:function', 'render@4:function']);
  });

  it('CommonJS scripts: a top-level return, a hashbang, computed keys skipped', () => {
    const text = [
      '#!/usr/bin/env node',
      "if (require.main !== module) { module.exports = { a() {}, ['b' + 1]: () => 1, 'c': function () {} }; return; }",
      'exports.late = () => 1;',
    ].join('\n');
    assert.deepEqual(names(text, 'javascript'), ['late@2:function']);
    const flat = ['#!/usr/bin/env node', "module.exports = { a() {}, ['b' + 1]: () => 1, 'c': function () {} };"].join('\n');
    assert.deepEqual(names(flat, 'javascript'), ['a@1:function', 'c@1:function']);
  });
});

describe('findTaskFunctions (Python)', () => {
  it('finds module-level defs, skips private ones, methods and nested defs', () => {
    const text = [
      'import os',
      '',
      'def handle(job):',
      '    def inner():',
      '        pass',
      '    return 1',
      '',
      'async def fetch():',
      '    pass',
      '',
      'def _private():',
      '    pass',
      '',
      'class Worker:',
      '    def run(self):',
      '        pass',
    ].join('\n');
    assert.deepEqual(names(text, 'python'), ['handle@2:function', 'fetch@7:function']);
  });

  it('marks @app.task / @shared_task defs as Celery tasks, lens on the first decorator', () => {
    const text = [
      'from celery import shared_task',
      '@app.task',
      'def add(x, y):',
      '    return x + y',
      '',
      '@shared_task(bind=True)',
      'def process(self, order):',
      '    pass',
      '',
      '@app.task(',
      '    bind=True,',
      '    max_retries=3,',
      ')',
      'def retrying(self):',
      '    pass',
      '',
      '@functools.lru_cache',
      'def cached():',
      '    pass',
      '',
      '@celery.task',
      'def _hidden_task():',
      '    pass',
    ].join('\n');
    assert.deepEqual(names(text, 'python'), [
      'add@1:celery-task',
      'process@5:celery-task',
      'retrying@9:celery-task',
      'cached@16:function',
      '_hidden_task@20:celery-task',
    ]);
  });

  it('ignores defs inside docstrings and comments', () => {
    const text = [
      '"""',
      'def in_docstring():',
      '    pass',
      '"""',
      '# def commented():',
      "x = '''",
      'def in_string(): pass',
      "'''",
      'def real():',
      '    pass',
    ].join('\n');
    assert.deepEqual(names(text, 'python'), ['real@8:function']);
  });

  it('reads the token stream: f-string fields with quotes, prefixes, wrapped decorators and continuations cannot fool it', () => {
    const text = [
      `greeting = f"{names["first"]!r:>{width}} said \\"hi\\""`, // a field's own quotes, escaped quotes
      `pattern = rb'\\\\'`, // a raw bytes string ending in an escaped backslash
      '@app.task(',
      '    bind=True,',
      '    autoretry_for=[',
      '        ValueError,',
      '    ],',
      ')',
      'def import_rows(self, rows):', // the lens on line 2: the decorator spans brackets of three kinds
      '    return f"""',
      'def not_a_task():',
      '    {rows}"""',
      'total = 1 + \\',
      '    2',
      'async \\',
      '    def fetch(url):', // a def joined to `async` by a backslash is still module-level
      '    pass',
      '@celery.shared_task',
      'def _private_job(): pass',
      'class Worker:',
      '    def run(self): pass',
    ].join('\n');
    assert.deepEqual(names(text, 'python'), ['import_rows@2:celery-task', 'fetch@14:function', '_private_job@17:celery-task']);
  });

  it('says "does not parse" for a string or bracket left open while typing, and is exact once it is closed', () => {
    assert.equal(parseTaskFunctions('def a(): pass\nx = """never closed\ndef b(): pass\n', 'python'), undefined);
    assert.equal(parseTaskFunctions('def a(): pass\nx = call(\ndef b(): pass\n', 'python'), undefined);
    assert.deepEqual(findTaskFunctions('def a(): pass\nx = "one line', 'python'), []);
    assert.deepEqual(
      parseTaskFunctions('def a(): pass\nx = call()\ndef b(): pass\n', 'python')?.map((f) => f.name),
      ['a', 'b'],
    );
  });
});

describe('taskLanguage', () => {
  it('maps VS Code language ids', () => {
    assert.equal(taskLanguage('typescriptreact'), 'typescript');
    assert.equal(taskLanguage('javascript'), 'javascript');
    assert.equal(taskLanguage('python'), 'python');
    assert.equal(taskLanguage('json'), undefined);
  });
});

describe('taskLanguageOfFile', () => {
  it('tells TypeScript, JavaScript and Python files apart by name', () => {
    assert.equal(taskLanguageOfFile('/w/src/orders.mts'), 'typescript');
    assert.equal(taskLanguageOfFile('C:\\w\\job.cjs'), 'javascript');
    assert.equal(taskLanguageOfFile('app/tasks.py'), 'python');
    assert.equal(taskLanguageOfFile('README.md'), undefined);
  });
});

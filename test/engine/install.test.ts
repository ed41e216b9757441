/**
 * The CLI as a user gets it: `npm pack` (its prepack builds), the tarball installed into a project in
 * the temp folder, outside this repository, and the installed `taskmem task` run on sample projects
 * made there: CommonJS, ES modules, Python, and TypeScript through each loader (tsx, ts-node, tsc's
 * output beside the source, the project's typescript alone) and with none.
 *
 * Loaders are installed with --prefer-offline, from npm's cache when it has them.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './helpers';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quietNpm = ['--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'];

/** The version of a package this repository has installed, so that npm's cache usually has it. */
function repoVersion(name: string, fallback: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return fallback;
  }
}

function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
}

function npmInstall(dir: string, packages: string[]): void {
  execFileSync(npm, ['install', ...quietNpm, ...packages], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
}

const ORDERS_TS = `interface Order {
  id: number;
  lines: number[];
}

const auditLog: Order[] = [];
let nextId = 0;

export function processOrder(): number {
  const order: Order = { id: ++nextId, lines: [] };
  for (let i = 0; i < 2000; i++) order.lines.push(i * 1.5);
  auditLog.push(order);
  return order.lines.length;
}
`;

describe('the installed CLI in projects outside the repository', function () {
  this.timeout(180_000);
  let root: string;
  let taskmem: string;
  let tarball: string;

  function run(cwd: string, target: string): { status: number | null; stdout: string; stderr: string } {
    // 20 runs: the test is about loading and source maps, and a leak verdict wants 99% (six runs of a
    // steady leak read 98.5% once on a loaded CI machine; with 12, one of the six later runs of the
    // ts-node task shrank once in CI, and 5 of 6 runs up is short of the sign test's 99%).
    const result = spawnSync(taskmem, ['task', target, '--runs', '20', '--warmup', '1', '--no-color'], { cwd, encoding: 'utf8', timeout: 90_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  function assertLeakAt(result: ReturnType<typeof run>, fn: string, fileLine: RegExp): void {
    assert.equal(result.status, 0, `exit ${result.status}\n${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, new RegExp(`^LEAK: ${fn} keeps \\+`, 'm'), result.stdout + result.stderr);
    assert.match(result.stdout, fileLine, result.stdout);
  }

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-install-'));
    const packed = execFileSync(npm, ['pack', '--silent', '--pack-destination', root], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
    tarball = path.join(root, packed.trim().split('\n').pop() ?? '');
    writeFiles(root, { 'package.json': JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }) });
    npmInstall(root, [tarball]);
    taskmem = path.join(root, 'node_modules', '.bin', 'taskmem');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('packs dist/, bin/ and the Python agent, and no sources, tests, bench or CI files', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.replace(/^package\//, ''));
    const allowed = [
      /^package\.json$/,
      /^README\.md$/,
      /^LICENSE$/,
      /^CHANGELOG\.md$/,
      /^bin\/taskmem\.js$/,
      /^dist\/[\w-]+\.(js|css)$/,
      /^agents\/python\/sitecustomize\.py$/,
      /^agents\/python\/taskmem_agent\/\w+\.py$/,
      /^media\//,
    ];
    const unexpected = listing.filter((file) => !allowed.some((pattern) => pattern.test(file)));
    assert.deepEqual(unexpected, [], 'files outside the allowed patterns');
    for (const needed of [
      'dist/cli.js',
      'dist/harness.js',
      'dist/bootloader.js',
      'bin/taskmem.js',
      'agents/python/sitecustomize.py',
      'agents/python/taskmem_agent/agent.py',
    ]) {
      assert.ok(listing.includes(needed), `${needed} is in the tarball`);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'task-memory-profiler', 'package.json'), 'utf8')) as { dependencies?: object };
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), [], 'everything the CLI runs is bundled into dist/');
  });

  it('runs a CommonJS task', () => {
    const dir = path.join(root, 'cjs');
    writeFiles(dir, {
      'package.json': JSON.stringify({ name: 'cjs-app', private: true }),
      'jobs.js': 'const seen = [];\nexports.handleJob = function handleJob() {\n  seen.push(new Array(2000).fill(1.5));\n};\n',
    });
    assertLeakAt(run(dir, 'jobs.js#handleJob'), 'handleJob', /handleJob\s+jobs\.js:2/);
  });

  it('runs an ES module task in a "type": "module" project', () => {
    const dir = path.join(root, 'esm');
    writeFiles(dir, {
      'package.json': JSON.stringify({ name: 'esm-app', private: true, type: 'module' }),
      'jobs.js': 'const seen = [];\nexport async function handleJob() {\n  await Promise.resolve();\n  seen.push(new Array(2000).fill(1.5));\n}\n',
    });
    assertLeakAt(run(dir, 'jobs.js#handleJob'), 'handleJob', /jobs\.js:2/);
  });

  it('runs a Python task', function () {
    if (spawnSync('python3', ['--version']).status !== 0) this.skip();
    const dir = path.join(root, 'py');
    writeFiles(dir, { 'tasks.py': '_kept = []\n\n\ndef import_rows():\n    _kept.append(bytearray(50 * 1024))\n' });
    assertLeakAt(run(dir, 'tasks.py#import_rows'), 'import_rows', /tasks\.py:5/);
  });

  it("TypeScript through the project's tsx", () => {
    const dir = path.join(root, 'ts-tsx');
    writeFiles(dir, { 'package.json': JSON.stringify({ name: 'tsx-app', private: true }), 'orders.ts': ORDERS_TS });
    npmInstall(dir, [`tsx@${repoVersion('tsx', '4')}`]);
    assertLeakAt(run(dir, 'orders.ts#processOrder'), 'processOrder', /processOrder\s+orders\.ts:9/);
  });

  it("TypeScript through the project's ts-node", () => {
    const dir = path.join(root, 'ts-node');
    writeFiles(dir, {
      'package.json': JSON.stringify({ name: 'ts-node-app', private: true }),
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'commonjs', target: 'es2022', strict: true } }),
      'orders.ts': ORDERS_TS,
    });
    npmInstall(dir, ['ts-node@10', `typescript@${repoVersion('typescript', '5')}`]);
    assertLeakAt(run(dir, 'orders.ts#processOrder'), 'processOrder', /processOrder\s+orders\.ts:9/);
  });

  it('TypeScript with only tsc output and its source map beside the source', () => {
    const dir = path.join(root, 'ts-tsc');
    writeFiles(dir, { 'package.json': JSON.stringify({ name: 'tsc-app', private: true }), 'orders.ts': ORDERS_TS });
    execFileSync(
      process.execPath,
      [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '--sourceMap', '--target', 'es2022', '--module', 'commonjs', 'orders.ts'],
      { cwd: dir },
    );
    assertLeakAt(run(dir, 'orders.ts#processOrder'), 'processOrder', /processOrder\s+orders\.ts:9/);
  });

  it("TypeScript with no loader and no output: the project's typescript strips the types", () => {
    const dir = path.join(root, 'ts-typescript');
    writeFiles(dir, { 'package.json': JSON.stringify({ name: 'typescript-app', private: true }), 'orders.ts': ORDERS_TS });
    npmInstall(dir, [`typescript@${repoVersion('typescript', '5')}`]);
    assertLeakAt(run(dir, 'orders.ts#processOrder'), 'processOrder', /processOrder\s+orders\.ts:9/);
  });

  it('TypeScript with nothing to load it: exit 1 and the command that fixes it', () => {
    const dir = path.join(root, 'ts-none');
    writeFiles(dir, { 'package.json': JSON.stringify({ name: 'bare-app', private: true }), 'orders.ts': ORDERS_TS });
    const result = run(dir, 'orders.ts#processOrder');
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /orders\.ts is TypeScript, but its project has no tsx, ts-node or typescript .*npm install -D tsx/);
  });

  it("a loader that fails shows its own error, not another loader's", () => {
    const dir = path.join(root, 'ts-tsx');
    writeFiles(dir, { 'broken.ts': 'import { rows } from "./missing-module";\nexport function load(): number {\n  return rows.length;\n}\n' });
    const result = run(dir, 'broken.ts#load');
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /broken\.ts failed to load: .*through tsx [\d.]+: Cannot find module '\.\/missing-module'/);
    assert.doesNotMatch(result.stderr, /ts-node/);
  });
});

/**
 * The .vsix as `npm run package` makes it: built with no prompt and no warning, holding only what the
 * extension runs (dist/ bundles, media/, the Python agent's runtime files, README, LICENSE, CHANGELOG,
 * package.json, the CLI launcher), and as large as those files and no larger.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './helpers';

interface ZipEntry {
  name: string;
  size: number;
}

/** The entries of a zip file, read from its central directory. */
function zipEntries(file: string): ZipEntry[] {
  const zip = fs.readFileSync(file);
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end--;
  assert.ok(end >= 0, `${file} is a zip file`);
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(offset), 0x02014b50, 'central directory entry');
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    entries.push({ name: zip.toString('utf8', offset + 46, offset + 46 + nameLength), size: zip.readUInt32LE(offset + 24) });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const ALLOWED = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/package\.json$/,
  /^extension\/readme\.md$/,
  /^extension\/LICENSE\.txt$/,
  /^extension\/changelog\.md$/,
  /^extension\/bin\/taskmem\.js$/,
  /^extension\/dist\/[\w-]+\.(js|css)$/,
  /^extension\/media\/[\w./-]+$/,
  /^extension\/agents\/python\/sitecustomize\.py$/,
  /^extension\/agents\/python\/taskmem_agent\/\w+\.py$/,
];

/** What must be there for the extension to run: its entry point, what it injects, what the panel loads. */
const REQUIRED = [
  'extension/dist/extension.js',
  'extension/dist/cli.js',
  'extension/dist/bootloader.js',
  'extension/dist/attachMarks.js',
  'extension/dist/harness.js',
  'extension/dist/webview.js',
  'extension/dist/webview.css',
  'extension/media/icon.png',
  'extension/agents/python/sitecustomize.py',
  'extension/agents/python/taskmem_agent/agent.py',
];

describe('the .vsix (npm run package)', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-vsix-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds with no prompt and no warning and holds only what the extension runs, at the size of those files', () => {
    const vsix = path.join(dir, 'task-memory-profiler.vsix');
    // `npm run package` is `vsce package --no-dependencies`; --out keeps the test's file out of the repository.
    const result = spawnSync('npm', ['run', 'package', '--', '--out', vsix], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 150_000,
    });
    const output = `${result.stdout}\n${result.stderr}`;
    assert.equal(result.status, 0, output);
    // vsce's warnings print as " WARNING ", its prompts end in [y/N] (stdin is closed: a prompt fails).
    assert.doesNotMatch(output, /\bWARNING\b|\[y\/N\]|Do you want to continue/, 'no warning and no prompt from vsce');

    const entries = zipEntries(vsix);
    const names = entries.map((entry) => entry.name);
    assert.deepEqual(
      names.filter((name) => !ALLOWED.some((pattern) => pattern.test(name))),
      [],
      'entries outside the allowed patterns',
    );
    assert.deepEqual(
      names.filter((name) => /\.map$|\.ts$|\/tests?\/|__pycache__|\.pyc$/.test(name)),
      [],
      'no source maps, TypeScript sources, tests or bytecode',
    );
    for (const file of REQUIRED) assert.ok(names.includes(file), `${file} is packaged`);

    // Every file under extension/ except the two that vsce rewrites is the file on disk, byte for byte in size.
    const rewritten = new Set(['extension/package.json', 'extension/readme.md']);
    const onDisk = (name: string): string =>
      path.join(
        repoRoot,
        name
          .replace(/^extension\//, '')
          .replace(/^LICENSE\.txt$/, 'LICENSE')
          .replace(/^changelog\.md$/, 'CHANGELOG.md')
          .replace(/^readme\.md$/, 'README.md'),
      );
    let contentBytes = 0;
    for (const entry of entries.filter((e) => e.name.startsWith('extension/'))) {
      const diskSize = fs.statSync(onDisk(entry.name)).size;
      if (!rewritten.has(entry.name)) assert.equal(entry.size, diskSize, `${entry.name}: packaged size equals the file's`);
      contentBytes += diskSize;
    }
    // The .vsix is those files compressed: never larger than them plus zip headers (about 100 B per
    // entry, 2 KiB for vsce's manifest files and 4 KiB for its README link rewrites; tolerance 2x on
    // that overhead), and not implausibly small (the bundles are text: deflate leaves more than 15%).
    const vsixBytes = fs.statSync(vsix).size;
    const overhead = 2 * (entries.length * 100 + 2048 + 4096);
    assert.ok(vsixBytes <= contentBytes + overhead, `${vsixBytes} B .vsix for ${contentBytes} B of files (+${overhead} B allowed)`);
    assert.ok(vsixBytes >= 0.15 * contentBytes, `${vsixBytes} B .vsix is too small for ${contentBytes} B of files`);
    // And a budget, so that a dependency bundled by mistake shows: 2 MiB (0.1.0 packs to about 0.33 MiB).
    assert.ok(vsixBytes < 2 * 1024 * 1024, `${vsixBytes} B .vsix is over the 2 MiB budget`);
  });
});

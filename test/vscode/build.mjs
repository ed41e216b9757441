// Bundles the extension-host test suite (test/vscode/suite/) into out/test/vscode/suite/ with
// esbuild: index.js (mocha entry, extensionTestsPath) and one file per *.test.ts. `vscode` and
// every npm package (mocha...) stay external and are loaded from node_modules at run time.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const suiteDir = join(here, 'suite');
const outdir = join(root, 'out/test/vscode/suite');

function tests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tests(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const entryPoints = [join(suiteDir, 'index.ts'), ...tests(suiteDir)];
rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints,
  outbase: suiteDir,
  outdir,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'es2022',
  sourcemap: true,
  packages: 'external',
  external: ['vscode'],
  logLevel: 'warning',
});
console.log(`built ${entryPoints.length} suite file(s) into ${relative(root, outdir)}`);

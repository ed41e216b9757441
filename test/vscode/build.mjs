// Bundles the extension-host test suite (test/vscode/suite/) into out/test/vscode/suite/ with
// esbuild: index.js (mocha entry, extensionTestsPath) and one file per *.test.ts. `vscode` and
// every npm package (mocha...) stay external and are loaded from node_modules at run time.
//
// `--bench` builds the benchmark suite instead (test/vscode/bench/*.bench.ts, see
// bench/extension-host-heap.mjs) into its own folder, out/test/vscode/bench/: the same index.js and
// one <name>.test.js per bench file. `npm run test:vscode` never loads it (other folder).
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const suiteDir = join(here, 'suite');
const bench = process.argv.includes('--bench');
const outdir = join(root, bench ? 'out/test/vscode/bench' : 'out/test/vscode/suite');

function files(dir, suffix) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), suffix) : e.name.endsWith(suffix) ? [join(dir, e.name)] : [],
  );
}

const benchDir = join(here, 'bench');
const entryPoints = bench
  ? [
      { in: join(suiteDir, 'index.ts'), out: 'index' },
      ...files(benchDir, '.bench.ts').map((f) => ({ in: f, out: relative(benchDir, f).replace(/\.bench\.ts$/, '.test') })),
    ]
  : [join(suiteDir, 'index.ts'), ...files(suiteDir, '.test.ts')];
rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints,
  ...(bench ? {} : { outbase: suiteDir }),
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
console.log(`built ${entryPoints.length} ${bench ? 'bench suite' : 'suite'} file(s) into ${relative(root, outdir)}`);

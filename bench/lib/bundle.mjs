// Bundles a TypeScript bench entry (which imports src/…) with esbuild into bench/.build/ and loads it.
// CommonJS inside the repository, so src/launch/assets.ts finds the package root from __dirname.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = resolve(here, '..', '.build');
const require = createRequire(import.meta.url);

export async function loadTs(entry) {
  mkdirSync(buildDir, { recursive: true });
  const outfile = join(buildDir, `${basename(dirname(entry))}-${basename(entry).replace(/\.ts$/, '.cjs')}`);
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: false,
    logLevel: 'warning',
  });
  delete require.cache[outfile];
  return require(outfile);
}

// Bundles every entry point with esbuild. `--watch` rebuilds on change; `--minify` for packaging.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');

/** Node entry points: the extension, the CLI, and the files injected into profiled processes. */
const nodeEntries = {
  extension: 'src/extension/extension.ts',
  cli: 'src/cli/main.ts',
  bootloader: 'src/launch/bootloader.ts',
  harness: 'src/launch/harness.ts',
  snapshotWorker: 'src/runtimes/node/snapshotWorker.ts',
};

const common = { bundle: true, sourcemap: true, minify, logLevel: 'warning', target: 'es2022' };

const contexts = [
  await esbuild.context({
    ...common,
    entryPoints: nodeEntries,
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    external: ['vscode'],
    // Keep import() real: the harness loads users' ES modules with it.
    supported: { 'dynamic-import': true },
  }),
];

// Evaluated in a process the session attached to (no module system there but the console's require).
contexts.push(
  await esbuild.context({
    ...common,
    sourcemap: false,
    entryPoints: { attachMarks: 'src/launch/attachMarks.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'iife',
  }),
);

const webviewEntry = 'src/webview/main.ts';
import { existsSync } from 'node:fs';
if (existsSync(webviewEntry)) {
  contexts.push(
    await esbuild.context({
      ...common,
      entryPoints: { webview: webviewEntry },
      outdir: 'dist',
      platform: 'browser',
      format: 'iife',
      loader: { '.css': 'css' },
    }),
  );
}

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}

/**
 * Files injected into profiled processes live in the package: dist/bootloader.js, dist/harness.js,
 * agents/python. Found by walking up to our package.json, so the same code works bundled (dist/)
 * and from source (tests run through tsx).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let cachedRoot: string | undefined;

export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'task-memory-profiler') return (cachedRoot = dir);
      } catch {
        // Not ours; keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the task-memory-profiler package above ${__dirname}`);
    dir = parent;
  }
}

function builtFile(name: string): string {
  const file = path.join(packageRoot(), 'dist', name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return file;
}

export const bootloaderPath = (): string => builtFile('bootloader.js');
export const harnessPath = (): string => builtFile('harness.js');
/** The worker thread that reads heap snapshots (why retained). */
export const snapshotWorkerPath = (): string => builtFile('snapshotWorker.js');
/** The task marks injected into a process the session attached to (no bootloader there). */
export const attachMarksPath = (): string => builtFile('attachMarks.js');
export const pythonAgentDir = (): string => path.join(packageRoot(), 'agents', 'python');
/** Frames under these paths are the profiler's own and are grouped, never shown as user sites. */
// src/ too: the bundles' source maps send our own frames back to src/launch/*.ts.
export const profilerPaths = (): string[] => ['dist', 'src'].map((dir) => path.join(packageRoot(), dir) + path.sep).concat(pythonAgentDir() + path.sep);
export const toolVersion = (): string => (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The Node task harness: a child process (started with the bootloader) that loads the user's module
 * and exposes `globalThis.__taskmemHarness`, which the session drives through Runtime.evaluate:
 * load once, then one call per run, awaited. The session does the GC and captures between runs, so
 * this file only calls the task and times it.
 */
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

interface HarnessSpec {
  file: string;
  exportName: string;
  args: unknown[];
}

type TaskFunction = (...args: unknown[]) => unknown;

const TYPESCRIPT = /\.(?:c|m)?tsx?$/;

function readSpec(): HarnessSpec {
  const raw = process.env.TASKMEM_HARNESS;
  if (!raw) throw new Error('TASKMEM_HARNESS is not set');
  return JSON.parse(raw) as HarnessSpec;
}

/** TypeScript through the project's own tsx, else its ts-node: the user's compiler settings apply. */
async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const projectRequire = createRequire(file);
  let tsxError: unknown;
  try {
    const tsx = projectRequire('tsx/esm/api') as { tsImport(specifier: string, parent: string): Promise<Record<string, unknown>> };
    return await tsx.tsImport(pathToFileURL(file).href, pathToFileURL(__filename).href);
  } catch (error) {
    tsxError = error;
  }
  try {
    projectRequire('ts-node/register/transpile-only');
    return projectRequire(file) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' && (tsxError as { code?: string })?.code === 'MODULE_NOT_FOUND') {
      throw new Error(`${path.basename(file)} is TypeScript, but neither tsx nor ts-node is installed in its project (npm install -D tsx)`);
    }
    throw error;
  }
}

async function loadModule(file: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT.test(file)) return importTypeScript(file);
  if (file.endsWith('.mjs')) return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  try {
    return require(file) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_REQUIRE_ESM') return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    throw error;
  }
}

function listFunctions(moduleExports: Record<string, unknown>): string[] {
  return Object.keys(moduleExports).filter((key) => typeof moduleExports[key] === 'function');
}

function findTask(moduleExports: Record<string, unknown>, exportName: string, file: string): TaskFunction {
  let candidate = moduleExports[exportName];
  // A CommonJS module imported as ESM puts its exports under `default`.
  if (candidate === undefined && typeof moduleExports.default === 'object' && moduleExports.default !== null) {
    candidate = (moduleExports.default as Record<string, unknown>)[exportName];
  }
  if (exportName === 'default' && typeof moduleExports.default === 'function') candidate = moduleExports.default;
  if (typeof candidate !== 'function') {
    const found = listFunctions(moduleExports);
    const what = candidate === undefined ? 'has no export' : 'exports a non-function';
    throw new Error(`${path.basename(file)} ${what} '${exportName}' (exported functions: ${found.length ? found.join(', ') : 'none'})`);
  }
  return candidate as TaskFunction;
}

let task: TaskFunction | undefined;
const spec = readSpec();

const harness = {
  async load(): Promise<{ exports: string[] }> {
    let moduleExports: Record<string, unknown>;
    try {
      moduleExports = await loadModule(spec.file);
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      // A SyntaxError's location is the first line of its stack, not part of its message.
      const where = err.name === 'SyntaxError' ? ` at ${err.stack?.split('\n')[0] ?? spec.file}` : '';
      throw new Error(`${path.basename(spec.file)} failed to load: ${err.name}: ${err.message}${where}`);
    }
    task = findTask(moduleExports, spec.exportName, spec.file);
    return { exports: listFunctions(moduleExports) };
  },
  async run(): Promise<{ durationMs: number; error?: { message: string; stack?: string } }> {
    if (!task) throw new Error('the task is not loaded');
    const started = performance.now();
    try {
      await task(...spec.args);
      return { durationMs: performance.now() - started };
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      return { durationMs: performance.now() - started, error: { message: err.message, stack: err.stack } };
    }
  },
  memoryUsage(): NodeJS.MemoryUsage {
    return process.memoryUsage();
  },
  exit(): void {
    setImmediate(() => process.exit(0));
  },
};

(globalThis as unknown as { __taskmemHarness: typeof harness }).__taskmemHarness = harness;
// The session drives everything; keep the process alive until it says exit.
setInterval(() => undefined, 1 << 30);

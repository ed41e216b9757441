/**
 * The Node task harness: a child process (started with the bootloader) that loads the user's module
 * and exposes `globalThis.__taskmemHarness`, which the session drives through Runtime.evaluate:
 * load once, then one call per run, awaited. The session does the GC and captures between runs, so
 * this file only calls the task and times it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { CheckpointReply, CollectReply } from '../cdp/extraProtocol';
import { exposeFullGc, settledReading } from './heapSpaces';

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

type ModuleExports = Record<string, unknown>;
type ProjectRequire = NodeRequire;

/** One way to load TypeScript; `null` from `load` means it is not installed in the project. */
interface TypeScriptLoader {
  name: string;
  load(file: string, projectRequire: ProjectRequire): Promise<ModuleExports | null>;
}

function isModuleNotFound(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND';
}

/** The project's copy of a package, resolved from the task's folder; undefined when it has none. */
function resolveFromProject(projectRequire: ProjectRequire, id: string): string | undefined {
  try {
    return projectRequire.resolve(id);
  } catch (error) {
    if (isModuleNotFound(error)) return undefined;
    throw error;
  }
}

function packageVersion(projectRequire: ProjectRequire, name: string): string {
  try {
    return ` ${(projectRequire(`${name}/package.json`) as { version?: string }).version ?? ''}`.trimEnd();
  } catch {
    return '';
  }
}

/**
 * The `import` entry of a package subpath, read from its package.json `exports`. A bundled CommonJS
 * harness resolves with the `require` condition, and tsx 4.x's CommonJS build of `tsx/esm/api`
 * registers its hooks at a path that does not exist (ERR_MODULE_NOT_FOUND for dist/esm/api/esm/index.mjs).
 */
function importEntry(projectRequire: ProjectRequire, name: string, subpath: string): string | undefined {
  const manifestPath = resolveFromProject(projectRequire, `${name}/package.json`);
  if (!manifestPath) return undefined;
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as { exports?: Record<string, unknown> };
  let entry: unknown = manifest.exports?.[subpath];
  for (const condition of ['import', 'node', 'default']) {
    if (entry && typeof entry === 'object' && condition in entry) entry = (entry as Record<string, unknown>)[condition];
  }
  if (entry && typeof entry === 'object') entry = (entry as Record<string, unknown>).default;
  return typeof entry === 'string' ? path.join(path.dirname(manifestPath), entry) : resolveFromProject(projectRequire, `${name}/${subpath.slice(2)}`);
}

/** A compiler's output next to the source (tsc without outDir): orders.ts → orders.js (+ its source map). */
function compiledSibling(file: string): string | undefined {
  const js = file
    .replace(/\.ts$/, '.js')
    .replace(/\.mts$/, '.mjs')
    .replace(/\.cts$/, '.cjs')
    .replace(/\.tsx$/, '.js');
  return js !== file && fs.existsSync(js) ? js : undefined;
}

type Transpile = (source: string, file: string) => string;

/** A transpiler from the project (typescript's transpileModule, else esbuild's transformSync): types are stripped, not checked. */
function projectTranspiler(projectRequire: ProjectRequire): { name: string; transpile: Transpile } | undefined {
  if (resolveFromProject(projectRequire, 'typescript')) {
    const ts = projectRequire('typescript') as {
      transpileModule(input: string, options: { fileName: string; compilerOptions: Record<string, unknown> }): { outputText: string };
      ModuleKind: Record<string, number>;
      ScriptTarget: Record<string, number>;
      JsxEmit: Record<string, number>;
    };
    return {
      name: `typescript${packageVersion(projectRequire, 'typescript')} (transpileModule)`,
      transpile: (source, file) =>
        ts.transpileModule(source, {
          fileName: file,
          compilerOptions: {
            module: ts.ModuleKind.CommonJS,
            target: ts.ScriptTarget.ES2022,
            jsx: ts.JsxEmit.React,
            esModuleInterop: true,
            inlineSourceMap: true,
            inlineSources: true,
          },
        }).outputText,
    };
  }
  if (resolveFromProject(projectRequire, 'esbuild')) {
    const esbuild = projectRequire('esbuild') as {
      transformSync(input: string, options: Record<string, unknown>): { code: string };
    };
    return {
      name: `esbuild${packageVersion(projectRequire, 'esbuild')} (transform)`,
      transpile: (source, file) =>
        esbuild.transformSync(source, {
          loader: file.endsWith('x') ? 'tsx' : 'ts',
          format: 'cjs',
          target: 'node20',
          sourcemap: 'inline',
          sourcefile: file,
        }).code,
    };
  }
  return undefined;
}

const TYPESCRIPT_LOADERS: TypeScriptLoader[] = [
  {
    // tsx's ES module API: loads ES module and CommonJS TypeScript alike (top-level await too).
    name: 'tsx',
    async load(file, projectRequire) {
      const entry = importEntry(projectRequire, 'tsx', './esm/api');
      if (!entry) return null;
      const tsx = (await import(pathToFileURL(entry).href)) as {
        tsImport(specifier: string, parent: string): Promise<ModuleExports>;
      };
      return tsx.tsImport(pathToFileURL(file).href, pathToFileURL(__filename).href);
    },
  },
  {
    name: 'ts-node',
    load(file, projectRequire) {
      if (!resolveFromProject(projectRequire, 'ts-node/register/transpile-only')) return Promise.resolve(null);
      projectRequire('ts-node/register/transpile-only');
      return Promise.resolve(projectRequire(file) as ModuleExports);
    },
  },
  {
    // tsc's output beside the source: its source map sends the sites back to the .ts lines.
    name: 'compiled JavaScript beside it',
    async load(file) {
      const js = compiledSibling(file);
      if (!js) return null;
      return loadJavaScript(js);
    },
  },
  {
    // No loader installed: strip the types with the project's own compiler, module by module.
    name: "the project's TypeScript compiler",
    load(file, projectRequire) {
      const transpiler = projectTranspiler(projectRequire);
      if (!transpiler) return Promise.resolve(null);
      const extensions = require.extensions as Record<string, (module: NodeModule, filename: string) => void>;
      for (const extension of ['.ts', '.cts', '.tsx']) {
        extensions[extension] ??= (module, filename) => {
          (module as unknown as { _compile(code: string, filename: string): void })._compile(
            transpiler.transpile(fs.readFileSync(filename, 'utf8'), filename),
            filename,
          );
        };
      }
      return Promise.resolve(projectRequire(file) as ModuleExports);
    },
  },
];

/**
 * TypeScript through the project's own tsx, else its ts-node, else tsc's output beside the source,
 * else the project's typescript (or esbuild) stripping types. A loader that is installed but fails is
 * named with its own error; the next one is tried, and if none loads the file the first real error is
 * the one shown.
 */
async function importTypeScript(file: string): Promise<ModuleExports> {
  const projectRequire = createRequire(file);
  const failures: string[] = [];
  let firstError: Error | undefined;
  for (const loader of TYPESCRIPT_LOADERS) {
    try {
      const loaded = await loader.load(file, projectRequire);
      if (loaded === null) continue;
      if (firstError) process.stderr.write(`taskmem: ${path.basename(file)} loaded through ${loader.name} after: ${failures.join('; ')}\n`);
      return loaded;
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      const version = loader.name === 'tsx' || loader.name === 'ts-node' ? packageVersion(projectRequire, loader.name) : '';
      // On one line: a compiler's diagnostics (ts-node's TSError) come after a first line that says only "Unable to compile".
      const message = err.message
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .join(' ');
      failures.push(`${loader.name}${version}: ${err.name}: ${message}`);
      firstError ??= Object.assign(new Error(`through ${loader.name}${version}: ${message}`), { name: err.name, stack: err.stack });
    }
  }
  if (firstError) {
    if (failures.length > 1) firstError.message += ` (also tried ${failures.slice(1).join('; ')})`;
    throw firstError;
  }
  throw new Error(
    `${path.basename(file)} is TypeScript, but its project has no tsx, ts-node or typescript and there is no compiled ` +
      `${path.basename(file).replace(/\.[cm]?tsx?$/, '.js')} beside it: install a loader in the project (npm install -D tsx)`,
  );
}

async function loadJavaScript(file: string): Promise<ModuleExports> {
  if (file.endsWith('.mjs')) return (await import(pathToFileURL(file).href)) as ModuleExports;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's CommonJS module, loaded as Node would
    return require(file) as ModuleExports;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_REQUIRE_ESM') return (await import(pathToFileURL(file).href)) as ModuleExports;
    throw error;
  }
}

async function loadModule(file: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT.test(file)) return importTypeScript(file);
  return loadJavaScript(file);
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

/**
 * One full GC of our own (heapSpaces: exposeFullGc). The inspector's HeapProfiler.collectGarbage is
 * a low-memory notification instead: two or more full GCs that also drop what V8 keeps to run code
 * fast, so each run after it ran cold (measured on the bench's 22 MiB fixture: the call 31 ms
 * against 9.7 ms, the collection 66 ms against 28 ms).
 */
const fullGc = exposeFullGc();

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
  /** The full GC and the reading after it (heapSpaces: settledReading), with the checkpoint, in one round trip. */
  collect(): CollectReply {
    const { usedHeap, code } = settledReading(fullGc);
    const checkpoint = (globalThis as { __taskmemCheckpoint?: () => CheckpointReply }).__taskmemCheckpoint?.();
    return checkpoint ? { usedHeap, checkpoint: { code, outsideHeap: checkpoint.outsideHeap } } : { usedHeap };
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

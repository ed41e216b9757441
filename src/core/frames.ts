/**
 * Frame locations and categories. Pure string work (no `node:path`/`node:url`) so the webview can use it.
 */
import type { FrameCategory } from './model';

/** `file:///a/b%20c.ts` → `/a/b c.ts` (and `file:///C:/x` → `C:/x`); anything else is returned as is. */
export function urlToPath(url: string): string {
  if (!/^file:/i.test(url)) return url;
  let rest = url.slice(5);
  let host = '';
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    const slash = rest.indexOf('/');
    host = slash === -1 ? rest : rest.slice(0, slash);
    rest = slash === -1 ? '/' : rest.slice(slash);
  }
  // Query and fragment are not part of the path.
  rest = rest.replace(/[?#].*$/s, '');
  let path: string;
  try {
    path = decodeURIComponent(rest);
  } catch {
    path = rest;
  }
  if (/^\/[A-Za-z]:([/\\]|$)/.test(path)) path = path.slice(1); // Windows drive letter
  if (host !== '' && host.toLowerCase() !== 'localhost') path = `//${host}${path}`; // UNC share
  return path;
}

export interface ClassifyOptions {
  /** Absolute path prefixes of our own injected code (bootloader, Python agent). */
  profilerPaths?: string[];
}

/** V8's pseudo frames: no script behind them. */
export const V8_PSEUDO_FRAMES: ReadonlySet<string> = new Set(['(root)', '(program)', '(garbage collector)', '(idle)', '(V8 API)']);

const DEPENDENCY_DIR = /(^|[\\/])(node_modules|site-packages|dist-packages)([\\/]|$)/;
// CPython's standard library: …/lib/python3.11/… (POSIX) or …\Lib\… next to python.exe (Windows).
const PYTHON_STDLIB = /([\\/]lib[\\/]python\d+(\.\d+)?t?[\\/])|(^|[\\/])Python\d*[\\/]Lib[\\/]/i;

export function classifyFrame(file: string, functionName: string, options?: ClassifyOptions): FrameCategory {
  if (file === '' || V8_PSEUDO_FRAMES.has(functionName)) return 'runtime';
  const path = urlToPath(file);
  // Our own code first: the agent may live anywhere, even under site-packages.
  for (const prefix of options?.profilerPaths ?? []) {
    if (isUnder(path, prefix)) return 'profiler';
  }
  if (path.startsWith('node:') || path.startsWith('internal/')) return 'runtime';
  if (path.startsWith('<frozen ') || path === '<frozen>') return 'runtime';
  if (DEPENDENCY_DIR.test(path)) return 'dependency';
  if (PYTHON_STDLIB.test(path)) return 'runtime';
  return 'user';
}

/** True when `path` is `prefix` itself or inside it (segment boundary, either separator). */
export function isUnder(path: string, prefix: string): boolean {
  if (prefix === '') return false;
  const p = urlToPath(prefix);
  if (!path.startsWith(p)) return false;
  if (path.length === p.length) return true;
  const last = p[p.length - 1];
  if (last === '/' || last === '\\') return true;
  const next = path[p.length];
  return next === '/' || next === '\\';
}

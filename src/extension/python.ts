/**
 * Which Python runs a Python choice (harness or worker): the `taskMemory.pythonPath` setting when
 * set; else, when the Python extension (ms-python.python) is installed, the interpreter it has
 * selected for the file's workspace folder; else `python3`. The interpreter is checked before a
 * session starts: a missing one, or one older than 3.8, gives an error that names what to change.
 */
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import { CONFIG_SECTION, readConfig, Setting } from './config';
import { withTimeout } from '../session/withTimeout';

export const PYTHON_EXTENSION_ID = 'ms-python.python';
export const DEFAULT_PYTHON = 'python3';
export const MIN_PYTHON: readonly [number, number] = [3, 8];

const VERSION_TIMEOUT_MS = 10_000;
const PYTHON_EXTENSION_TIMEOUT_MS = 10_000;

/** The parts of the Python extension's API we use (see @vscode/python-extension, `environments`). */
interface PythonExtensionApi {
  readonly ready?: Promise<void>;
  readonly environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { readonly id?: string; readonly path: string } | undefined;
    resolveEnvironment(
      environment: { readonly id?: string; readonly path: string } | string,
    ): Promise<{ readonly executable?: { readonly uri?: vscode.Uri } } | undefined>;
  };
}

export type PythonSource = 'setting' | 'python-extension' | 'default';

export interface PythonInterpreter {
  /** What to run: a path or a command looked up on PATH. */
  path: string;
  source: PythonSource;
}

export interface CheckedPythonInterpreter extends PythonInterpreter {
  version: [number, number];
}

const SETTING = `${CONFIG_SECTION}.${Setting.PythonPath}`;

/** Where the interpreter came from, for messages. */
export function describeSource(source: PythonSource): string {
  switch (source) {
    case 'setting':
      return `the ${SETTING} setting`;
    case 'python-extension':
      return 'the interpreter selected in the Python extension';
    case 'default':
      return `the default (${DEFAULT_PYTHON} on PATH; neither ${SETTING} nor the Python extension chose one)`;
  }
}

function isPythonExtensionApi(value: unknown): value is PythonExtensionApi {
  if (typeof value !== 'object' || value === null) return false;
  const environments: unknown = (value as { environments?: unknown }).environments;
  if (typeof environments !== 'object' || environments === null) return false;
  const e = environments as { getActiveEnvironmentPath?: unknown; resolveEnvironment?: unknown };
  return typeof e.getActiveEnvironmentPath === 'function' && typeof e.resolveEnvironment === 'function';
}

/** The Python extension's selected interpreter for `resource`; undefined when it is not installed or has none. */
async function fromPythonExtension(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<unknown>(PYTHON_EXTENSION_ID);
  if (!extension) return undefined;
  try {
    const exported = extension.isActive ? extension.exports : await withTimeout(extension.activate(), PYTHON_EXTENSION_TIMEOUT_MS);
    if (!isPythonExtensionApi(exported) || !exported.environments) return undefined;
    if (exported.ready) await withTimeout(exported.ready, PYTHON_EXTENSION_TIMEOUT_MS);
    const active = exported.environments.getActiveEnvironmentPath(resource);
    if (!active?.path) return undefined;
    const resolved = await withTimeout(exported.environments.resolveEnvironment(active), PYTHON_EXTENSION_TIMEOUT_MS);
    return resolved?.executable?.uri?.fsPath || active.path;
  } catch {
    return undefined; // a broken Python extension must not stop profiling: fall back to python3
  }
}

/** The interpreter for a file or folder, without checking it. */
export async function resolvePythonInterpreter(resource?: vscode.Uri): Promise<PythonInterpreter> {
  const configured = readConfig(resource).pythonPath;
  if (configured) return { path: configured, source: 'setting' };
  const selected = await fromPythonExtension(resource);
  if (selected) return { path: selected, source: 'python-extension' };
  return { path: DEFAULT_PYTHON, source: 'default' };
}

/** `(3, 11)` → [3, 11]. */
export function parseVersionOutput(stdout: string): [number, number] | undefined {
  const m = /\(\s*(\d+)\s*,\s*(\d+)\s*\)/.exec(stdout);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Runs the interpreter once; rejects with a message naming the setting to change. */
export function checkPythonInterpreter(interpreter: PythonInterpreter): Promise<CheckedPythonInterpreter> {
  const fix =
    interpreter.source === 'python-extension'
      ? `Select another interpreter with "Python: Select Interpreter", or set ${SETTING}.`
      : `Set ${SETTING} to a Python ${MIN_PYTHON.join('.')}+ interpreter.`;
  const from = describeSource(interpreter.source);
  return new Promise((resolve, reject) => {
    execFile(
      interpreter.path,
      ['-c', 'import sys; print(sys.version_info[:2])'],
      { timeout: VERSION_TIMEOUT_MS, windowsHide: true },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException).code;
          const why =
            code === 'ENOENT'
              ? 'was not found'
              : code === 'EACCES'
                ? 'is not executable'
                : error.killed
                  ? `did not answer within ${VERSION_TIMEOUT_MS / 1000} s`
                  : `failed: ${(String(stderr).trim().split('\n').pop() ?? '') || error.message}`;
          reject(new Error(`Python interpreter "${interpreter.path}" (${from}) ${why}. ${fix}`));
          return;
        }
        const version = parseVersionOutput(String(stdout));
        if (!version) {
          reject(new Error(`"${interpreter.path}" (${from}) did not print a Python version; is it a Python interpreter? ${fix}`));
          return;
        }
        if (version[0] < MIN_PYTHON[0] || (version[0] === MIN_PYTHON[0] && version[1] < MIN_PYTHON[1])) {
          reject(
            new Error(
              `Python interpreter "${interpreter.path}" (${from}) is Python ${version.join('.')}; Task Memory needs ${MIN_PYTHON.join('.')} or newer. ${fix}`,
            ),
          );
          return;
        }
        resolve({ ...interpreter, version });
      },
    );
  });
}

/** Resolves and checks the interpreter for a file or folder. */
export async function pythonInterpreterFor(resource?: vscode.Uri): Promise<CheckedPythonInterpreter> {
  return checkPythonInterpreter(await resolvePythonInterpreter(resource));
}

/**
 * What the test runners tell the extension-host suite. Shared by the runners (Node) and the suite
 * (extension host): keep it free of `vscode` and of Node-only code beyond types.
 *
 * The runner writes this as JSON to a file and passes the file's path in the environment variable
 * below; both hosts (code-server's remote extension host, desktop VS Code) inherit the runner's
 * environment. The suite falls back to defaults when the variable is missing (e.g. when the suite is
 * started from a launch configuration).
 */
export const TEST_CONFIG_ENV = 'TASKMEM_VSCODE_TEST_CONFIG';

export interface VscodeTestConfig {
  /** Which VS Code runs the suite. */
  host: 'code-server' | 'electron';
  /** Absolute path of the repository (= the extension development path). */
  repoRoot: string;
  /** Absolute path of the folder opened in the window. */
  workspaceFolder: string;
  /** Where tests may write screenshots, logs and other artifacts (repo/.test-artifacts). */
  artifactsDir: string;
  /** A scratch folder owned by this run, deleted afterwards. */
  tmpDir: string;
  /** Human-readable test log, appended line by line while the suite runs (the runner tails it). */
  logFile: string;
  /** JSON summary written when the suite ends: {@link VscodeTestSummary}. */
  summaryFile: string;
  /** Only run tests whose full title matches this regular expression. */
  grep?: string;
  /** Per-test timeout in ms for mocha. */
  mochaTimeoutMs?: number;
}

export interface VscodeTestFailure {
  title: string;
  message: string;
  stack?: string;
}

export interface VscodeTestSummary {
  tests: number;
  passes: number;
  failures: number;
  pending: number;
  durationMs: number;
  failed: VscodeTestFailure[];
  /** Set when the suite could not even start (no test files, load error). */
  error?: string;
}

/** Extension identifier: publisher.name from package.json. */
export const EXTENSION_ID = 'task-memory.task-memory-profiler';

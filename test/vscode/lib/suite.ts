/**
 * Runner-side half of the extension-host suite protocol (see ../config.ts), shared by
 * ../runCodeServer.ts and ../runElectron.ts: writes the configuration, tails the suite's log while
 * it runs and judges the summary it leaves behind.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEST_CONFIG_ENV, type VscodeTestConfig, type VscodeTestSummary } from '../config';
import { ARTIFACTS_DIR, REPO_ROOT } from './codeServer';

/**
 * The suite's entry (extensionTestsPath): out/test/vscode/suite/index.js, or another built suite
 * named by TASKMEM_VSCODE_TEST_SUITE (relative to the repository), e.g. the benchmark suite
 * out/test/vscode/bench/index.js (built by `node test/vscode/build.mjs --bench`).
 */
export const SUITE_INDEX = path.resolve(REPO_ROOT, process.env.TASKMEM_VSCODE_TEST_SUITE || 'out/test/vscode/suite/index.js');

export interface PreparedSuite {
  config: VscodeTestConfig;
  /** Environment to give the VS Code that runs the suite. */
  env: Record<string, string>;
  /** Stops tailing; prints what is left. */
  stopTail(): void;
  cleanup(): void;
}

export interface SuiteArgs {
  grep?: string;
  timeoutMs: number;
  workspace?: string;
  keep: boolean;
  verbose: boolean;
}

export function parseArgs(argv: string[]): SuiteArgs {
  const args: SuiteArgs = {
    timeoutMs: Number(process.env.TASKMEM_VSCODE_TEST_TIMEOUT_MS ?? 300_000),
    keep: false,
    verbose: !!process.env.TASKMEM_VSCODE_TEST_VERBOSE,
    grep: process.env.TASKMEM_VSCODE_TEST_GREP || undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--grep' || a === '-g') args.grep = value();
    else if (a === '--timeout') args.timeoutMs = Number(value()) * 1000;
    else if (a === '--workspace') args.workspace = path.resolve(value());
    else if (a === '--keep') args.keep = true;
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else throw new Error(`unknown argument ${a} (known: --grep RE, --timeout SECONDS, --workspace DIR, --keep, --verbose)`);
  }
  return args;
}

/** Checks the build outputs the suite needs, with the command that produces them. */
export function checkBuilt(): void {
  const missing = [path.join(REPO_ROOT, 'dist/extension.js'), SUITE_INDEX].filter((f) => !fs.existsSync(f));
  if (missing.length) {
    throw new Error(
      `missing ${missing.map((f) => path.relative(REPO_ROOT, f)).join(', ')}: run npm run build && node test/vscode/build.mjs${process.env.TASKMEM_VSCODE_TEST_SUITE ? ' --bench' : ''}`,
    );
  }
}

export function prepareSuite(host: VscodeTestConfig['host'], args: SuiteArgs, workspace: string): PreparedSuite {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-vscode-suite-'));
  const config: VscodeTestConfig = {
    host,
    repoRoot: REPO_ROOT,
    workspaceFolder: workspace,
    artifactsDir: ARTIFACTS_DIR,
    tmpDir,
    logFile: path.join(tmpDir, 'suite.log'),
    summaryFile: path.join(tmpDir, 'summary.json'),
    grep: args.grep,
  };
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const configFile = path.join(tmpDir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));

  let offset = 0;
  const flush = (): void => {
    let fd: number;
    try {
      fd = fs.openSync(config.logFile, 'r');
    } catch {
      return; // not written yet
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= offset) return;
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      process.stdout.write(
        buf
          .toString()
          .replace(/^/gm, '  | ')
          .replace(/ {2}\| $/, ''),
      );
    } finally {
      fs.closeSync(fd);
    }
  };
  const timer = setInterval(flush, 250);
  return {
    config,
    env: { [TEST_CONFIG_ENV]: configFile },
    stopTail() {
      clearInterval(timer);
      flush();
    },
    cleanup() {
      clearInterval(timer);
      if (!args.keep) fs.rmSync(tmpDir, { recursive: true, force: true });
    },
  };
}

export function readSummary(config: VscodeTestConfig): VscodeTestSummary | undefined {
  try {
    return JSON.parse(fs.readFileSync(config.summaryFile, 'utf8')) as VscodeTestSummary;
  } catch {
    return undefined;
  }
}

/**
 * Exit status of the run: non-zero unless the host reported 0, the summary exists, at least one
 * test ran and none failed. Prints why.
 */
export function judge(hostExitCode: number | undefined, summary: VscodeTestSummary | undefined): number {
  const problems: string[] = [];
  if (hostExitCode === undefined) problems.push('the extension host never reported an exit code');
  else if (hostExitCode !== 0) problems.push(`the extension host exited with code ${hostExitCode}`);
  if (!summary) problems.push('the suite wrote no summary (it did not run, or crashed before the end)');
  else {
    if (summary.error) problems.push(summary.error);
    if (summary.tests === 0 && !summary.error) problems.push('no test ran (check --grep)');
    for (const f of summary.failed) problems.push(`FAILED ${f.title}\n    ${(f.stack ?? f.message).split('\n').join('\n    ')}`);
  }
  if (summary) {
    console.log(
      `\nextension-host suite: ${summary.passes} passed, ${summary.failures} failed, ${summary.pending} pending in ${(summary.durationMs / 1000).toFixed(1)} s`,
    );
  }
  if (problems.length) {
    console.error(`\nFAILED:\n- ${problems.join('\n- ')}`);
    return 1;
  }
  return 0;
}

/**
 * Entry point of the extension-host test suite (extensionTestsPath). VS Code (desktop through
 * @vscode/test-electron, or code-server through test/vscode/runCodeServer.ts) loads this module in
 * the extension host and awaits `run()`; a rejection makes the host exit with a non-zero code.
 *
 * Runs every compiled `*.test.js` next to this file with mocha, and, besides mocha's console
 * reporter, streams a plain-text log and writes a JSON summary to the files named in the runner's
 * configuration, so the runner can show results even when the host's console is not visible.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import type { VscodeTestFailure, VscodeTestSummary } from '../config';
import { testConfig } from './testConfig';

function findTestFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTestFiles(full));
    else if (entry.name.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}

const maps = new Map<string, TraceMap | null>();

/**
 * Maps stack frames in the bundled suite files back to the .ts sources. Node's own source-map
 * support does not apply inside the extension host, which installs its own Error.prepareStackTrace.
 */
function mapStack(stack: string): string {
  return stack.replace(/(\/[^\s()]+\.js):(\d+):(\d+)/g, (whole, file: string, line: string, column: string) => {
    if (!file.startsWith(__dirname)) return whole;
    let map = maps.get(file);
    if (map === undefined) {
      try {
        map = new TraceMap(fs.readFileSync(file + '.map', 'utf8'), file + '.map');
      } catch {
        map = null;
      }
      maps.set(file, map);
    }
    if (!map) return whole;
    const pos = originalPositionFor(map, { line: Number(line), column: Number(column) - 1 });
    if (!pos.source || pos.line == null) return whole;
    const source = pos.source.startsWith('file://') ? fileURLToPath(pos.source) : path.resolve(path.dirname(file), pos.source);
    return `${source}:${pos.line}:${(pos.column ?? 0) + 1}`;
  });
}

function errorText(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return { message: err.message, stack: err.stack && mapStack(err.stack) };
  return { message: String(err) };
}

export async function run(): Promise<void> {
  const config = testConfig();
  fs.mkdirSync(path.dirname(config.logFile), { recursive: true });
  const log = (line: string): void => {
    fs.appendFileSync(config.logFile, line + '\n');
  };
  const started = Date.now();
  const summary: VscodeTestSummary = { tests: 0, passes: 0, failures: 0, pending: 0, durationMs: 0, failed: [] };
  const writeSummary = (): void => {
    summary.durationMs = Date.now() - started;
    fs.writeFileSync(config.summaryFile, JSON.stringify(summary, null, 2));
  };

  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: config.mochaTimeoutMs ?? 30_000,
    grep: config.grep ? new RegExp(config.grep) : undefined,
  });
  const files = findTestFiles(__dirname);
  if (files.length === 0) {
    summary.error = `no *.test.js files in ${__dirname}: build the suite with node test/vscode/build.mjs`;
    log(`ERROR ${summary.error}`);
    writeSummary();
    throw new Error(summary.error);
  }
  for (const f of files) mocha.addFile(f);
  log(`host=${config.host} vscode=${vscode.version} files=${files.map((f) => path.basename(f)).join(',')}`);

  try {
    await mocha.loadFilesAsync();
  } catch (err) {
    const e = errorText(err);
    summary.error = `loading the test files failed: ${e.stack ?? e.message}`;
    log(`ERROR ${summary.error}`);
    writeSummary();
    throw err;
  }

  await new Promise<void>((resolve, reject) => {
    const runner = mocha.run((failures) => {
      log(`${summary.passes} passing, ${summary.failures} failing, ${summary.pending} pending (${Date.now() - started} ms)`);
      writeSummary();
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else resolve();
    });
    const { constants } = Mocha.Runner;
    runner.on(constants.EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.title) log(`${'  '.repeat(suite.titlePath().length - 1)}${suite.title}`);
    });
    runner.on(constants.EVENT_TEST_PASS, (test: Mocha.Test) => {
      summary.tests++;
      summary.passes++;
      log(`${'  '.repeat(test.titlePath().length - 1)}ok   ${test.title} (${test.duration ?? 0} ms)`);
    });
    runner.on(constants.EVENT_TEST_PENDING, (test: Mocha.Test) => {
      summary.pending++;
      log(`${'  '.repeat(test.titlePath().length - 1)}skip ${test.title}`);
    });
    runner.on(constants.EVENT_TEST_FAIL, (test: Mocha.Test, err: unknown) => {
      // hooks fail through here as well; count them as failures too
      summary.tests++;
      summary.failures++;
      const e = errorText(err);
      const failure: VscodeTestFailure = { title: test.fullTitle(), ...e };
      summary.failed.push(failure);
      log(`${'  '.repeat(test.titlePath().length - 1)}FAIL ${test.title}`);
      log(`       ${(e.stack ?? e.message).split('\n').join('\n       ')}`);
    });
  });
}

// Reads the runner's configuration inside the extension host (see ../config.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEST_CONFIG_ENV, type VscodeTestConfig } from '../config';

// Shared through globalThis: index.js and every *.test.js bundle their own copy of this module.
const store = globalThis as unknown as { __taskmemVscodeTestConfig?: VscodeTestConfig };

/**
 * The configuration the runner passed, or defaults derived from the location of the compiled suite
 * (out/test/vscode/suite/ -> repository root) when the suite runs without a runner.
 */
export function testConfig(): VscodeTestConfig {
  const cached = store.__taskmemVscodeTestConfig;
  if (cached) return cached;
  const file = process.env[TEST_CONFIG_ENV];
  if (file) {
    return (store.__taskmemVscodeTestConfig = JSON.parse(fs.readFileSync(file, 'utf8')) as VscodeTestConfig);
  }
  const repoRoot = path.resolve(__dirname, '../../../..');
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-vscode-suite-'));
  return (store.__taskmemVscodeTestConfig = {
    host: 'electron',
    repoRoot,
    workspaceFolder: repoRoot,
    artifactsDir: path.join(repoRoot, '.test-artifacts'),
    tmpDir,
    logFile: path.join(tmpDir, 'suite.log'),
    summaryFile: path.join(tmpDir, 'summary.json'),
  });
}

/** Polls `probe` until it returns something other than undefined or false; that value is returned. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

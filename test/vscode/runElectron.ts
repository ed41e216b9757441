/**
 * Runs the same extension-host suite in desktop VS Code through @vscode/test-electron, which
 * downloads VS Code into .vscode-test/ (needs internet; on Linux without a display run it under
 * xvfb-run). For users and public CI; this repository's own CI uses code-server
 * (./runCodeServer.ts) instead.
 *
 *   npm run test:vscode:desktop
 *   npx tsx test/vscode/runElectron.ts [--grep RE] [--workspace DIR] [--keep]
 *   TASKMEM_VSCODE_VERSION=1.100.3 npm run test:vscode:desktop   # the minimum supported version
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT } from './lib/codeServer';
import { checkBuilt, judge, parseArgs, prepareSuite, readSummary, SUITE_INDEX } from './lib/suite';

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  checkBuilt();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-vscode-electron-'));
  const workspace = args.workspace ?? path.join(tmp, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const suite = prepareSuite('electron', args, workspace);
  let exitCode: number | undefined;
  try {
    exitCode = await runTests({
      version: process.env.TASKMEM_VSCODE_VERSION ?? 'stable',
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: SUITE_INDEX,
      extensionTestsEnv: suite.env,
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--user-data-dir',
        path.join(tmp, 'user-data'),
        '--extensions-dir',
        path.join(tmp, 'extensions'),
      ],
    });
  } catch (err) {
    // runTests rejects on a non-zero exit as well ("Test run failed with code 1")
    console.error(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    exitCode ??= 1;
  } finally {
    suite.stopTail();
  }
  const status = judge(exitCode, readSummary(suite.config));
  suite.cleanup();
  if (!args.keep) fs.rmSync(tmp, { recursive: true, force: true });
  return status;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

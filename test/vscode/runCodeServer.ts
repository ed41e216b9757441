/**
 * Runs the extension-host suite (out/test/vscode/suite/) in a real VS Code on this machine:
 * code-server's remote extension host, driven by headless Chromium.
 *
 *   npm run test:vscode                       # build + run
 *   npx tsx test/vscode/runCodeServer.ts [--grep RE] [--timeout SECONDS] [--workspace DIR] [--keep] [--verbose]
 *
 * Exits non-zero when a test fails, no test ran, the extension host cannot start or the run times
 * out. Always stops code-server and the browser. Leaves .test-artifacts/vscode-suite.png (the
 * workbench at the end) and, on failure, .test-artifacts/vscode-suite-browser.log.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { artifactPath, launchBrowser, REPO_ROOT, startCodeServer, withTimeout, type BrowserSession, type CodeServer } from './lib/codeServer';
import { checkBuilt, judge, parseArgs, prepareSuite, readSummary, SUITE_INDEX } from './lib/suite';

// A closed stdout (`... | head`) must not kill the runner before it stops code-server.
process.stdout.on('error', () => undefined);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  checkBuilt();
  const started = Date.now();
  const workspace = args.workspace ?? fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-vscode-ws-'));
  const suite = prepareSuite('code-server', args, workspace);
  const browserLog: string[] = [];
  let server: CodeServer | undefined;
  let browser: BrowserSession | undefined;
  let exitCode: number | undefined;
  let status = 1;
  const onSignal = (sig: NodeJS.Signals): void => {
    console.error(`\n${sig}: stopping code-server and the browser`);
    void Promise.allSettled([browser?.close(), server?.stop()]).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    console.log(`starting code-server (workspace ${workspace})`);
    // TASKMEM_VSCODE_WORKSPACE_TRUST=1: the folder opens in Restricted Mode (test/reliability/workspace-trust.test.ts).
    const workspaceTrust = process.env.TASKMEM_VSCODE_WORKSPACE_TRUST === '1';
    server = await startCodeServer({ workspace, env: suite.env, keep: args.keep, verbose: args.verbose, workspaceTrust });
    console.log(`code-server ${server.origin} pid ${server.pid}; tmp ${server.tmpDir}`);
    browser = await launchBrowser();
    const { page } = browser;

    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await page.exposeFunction('codeAutomationLog', (type: string, logArgs: unknown[]) => {
      const line = `[workbench ${type}] ${logArgs.map(String).join(' ')}`;
      browserLog.push(line);
      if (args.verbose) console.log(line);
    });
    page.on('console', (msg) => {
      const line = `[console.${msg.type()}] ${msg.text()}`;
      browserLog.push(line);
      if (args.verbose) console.log(line);
    });
    page.on('pageerror', (err) => browserLog.push(`[pageerror] ${err.stack ?? err.message}`));

    const payload: Array<[string, string]> = [
      ['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)],
      ['extensionTestsPath', server.remoteUri(SUITE_INDEX)],
      ['skipWelcome', 'true'],
    ];
    await page.goto(server.workbenchUrl(payload));
    console.log('workbench loaded; running the suite in the extension host');
    exitCode = await withTimeout(`the extension-host suite (--timeout ${args.timeoutMs / 1000})`, args.timeoutMs, Promise.race([exited, server.exited]));
    suite.stopTail();
    await page.waitForTimeout(500);
    const shot = artifactPath('vscode-suite.png');
    await page.screenshot({ path: shot }).then(
      () => console.log(`screenshot: ${path.relative(process.cwd(), shot)}`),
      (err: Error) => console.error(`screenshot failed: ${err.message}`),
    );
  } catch (err) {
    suite.stopTail();
    console.error(`\nERROR: ${err instanceof Error ? err.message : String(err)}`);
    if (browser) {
      await browser.page.screenshot({ path: artifactPath('vscode-suite.png') }).catch(() => undefined);
    }
    if (server) console.error(`\ncode-server log (last lines):\n${server.logTail(30)}`);
  } finally {
    suite.stopTail();
    status = judge(exitCode, readSummary(suite.config));
    if (status !== 0) {
      const file = artifactPath('vscode-suite-browser.log');
      fs.writeFileSync(file, browserLog.join('\n') + '\n');
      console.error(`browser console: ${path.relative(process.cwd(), file)} (last lines below)`);
      console.error(browserLog.slice(-25).join('\n'));
    }
    await browser?.close();
    await server?.stop();
    suite.cleanup();
    if (!args.workspace && !args.keep) fs.rmSync(workspace, { recursive: true, force: true });
    console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return status;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ERROR: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);

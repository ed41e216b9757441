/**
 * Webview: a REAL profiled program whose function names and file path are HTML and script runs
 * through the engine (harness session) → report → panel protocol (`init`) → the real panel page
 * (production HTML and CSP, fresh dist/webview.js) in Chromium. The names must show as text, no
 * script from the data may run, the CSP is `default-src 'none'` with a nonce, and no element has
 * an inline handler. Uses the preview harness of bench/webview/preview.mjs.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { HostMessage } from '../../src/shared/protocol';
// The stub first: it installs the `vscode` module that the panel host imports.
import { createdPanels, vscodeStub } from '../support/vscodeStub';
import { MemoryPanel } from '../../src/extension/panel/memoryPanel';
import { ProfilingSession } from '../../src/session/session';
import { repoRoot, trapUnhandled, within } from './helpers';

interface PreviewModule {
  startPreviewServer(): Promise<{ base: string; close: () => void }>;
  openPanelPage(browser: Browser, base: string, theme?: string, width?: number): Promise<{ page: Page; errors: string[] }>;
  postToPanel(page: Page, message: unknown): Promise<void>;
  settlePanel(page: Page): Promise<void>;
}
interface RunModule {
  launchChromium(): Promise<Browser>;
}

const FIXTURE_DIR = path.join(repoRoot, 'test', 'fixtures', 'reliability');
const HOSTILE_FILE = fs.readdirSync(FIXTURE_DIR).find((f) => f.startsWith('hostile-'))!;
const HOSTILE_NAMES = ['<img src=x onerror=window.__pwnName=1>', '</script><script>window.__pwnScript=1</script>', '<svg onload=window.__pwnSvg=1>'];
const PWN_GLOBALS = ['__pwnName', '__pwnScript', '__pwnSvg', '__pwnFile'];

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

describe('reliability: hostile names in the panel (real program, real panel, Chromium)', function () {
  this.timeout(120_000);
  trapUnhandled();

  it('renders HTML and script from a profiled program as text; nothing from the data runs', async () => {
    assert.ok(fs.existsSync(chromiumPath), `${chromiumPath} is needed (apt-get install chromium)`);
    // 1. The engine: a harness session on the hostile program.
    const file = path.join(FIXTURE_DIR, HOSTILE_FILE);
    const session = new ProfilingSession({
      mode: 'harness',
      cwd: repoRoot,
      harness: { file, exportName: 'run', runs: 4, warmup: 1, args: [], runtime: 'node' },
      onOutput: () => undefined,
    });
    // The production panel host (src/extension/panel), wired to the session the way the extension's
    // session manager wires it: its `init` message is what the test sends to the page below.
    const panel = MemoryPanel.show(
      vscodeStub.Uri.file(repoRoot) as never,
      { id: session.id, title: `${HOSTILE_FILE}#run`, startedAt: Date.now(), mode: 'harness' },
      undefined,
    );
    session.onStats((p) => panel.addStats(p));
    session.onMark((mark) => panel.addMark(mark));
    session.onTask((task) => panel.upsertTask(task));
    session.onCapture((capture) => panel.setSites(capture.sites));
    session.onTarget((target) => panel.upsertTarget(target));
    session.onTargetExit((target) => panel.upsertTarget(target));
    session.onStateChange((state) => panel.setSessionState(state));
    session.onWarning((message) => panel.warn(message));
    await session.start();
    const report = await within(60_000, 'the harness session', session.done);
    assert.equal(report.endReason, 'completed', report.warnings.join(' | '));
    const aggregation = report;
    assert.ok(aggregation.sites.length, 'sites were captured');
    const shown = aggregation.sites.map((s) => s.function);
    for (const name of HOSTILE_NAMES) assert.ok(shown.includes(name), `V8 names the site ${name} (sites: ${shown.join(', ')})`);
    assert.ok(
      aggregation.sites.some((s) => s.file.endsWith(HOSTILE_FILE)),
      'the hostile file path is a site file',
    );

    // 2. The panel protocol: what the session manager does when the session ends, then the `init`
    // the host posts when the webview says `ready`.
    for (const target of report.targets) panel.upsertTarget(target);
    panel.setTasks(session.taskSummaries());
    panel.setVerdict(report.verdict);
    panel.warn(`${HOSTILE_NAMES[0]} in a warning`);
    panel.setSessionState('ended');
    const host = createdPanels.at(-1)!;
    host.receive({ type: 'ready' });
    const init = host.webview.posted.find((m): m is HostMessage => (m as HostMessage).type === 'init');
    assert.ok(init, 'the panel host posted its init message');
    panel.dispose();

    // 3. The real panel page in Chromium (the colleague's preview harness).
    const preview = (await import(pathToFileURL(path.join(repoRoot, 'bench', 'webview', 'preview.mjs')).href)) as PreviewModule;
    const run = (await import(pathToFileURL(path.join(repoRoot, 'bench', 'webview', 'run.mjs')).href)) as RunModule;
    const server = await preview.startPreviewServer();
    const browser = await run.launchChromium();
    try {
      const { page, errors } = await preview.openPanelPage(browser, server.base, 'dark');
      await preview.postToPanel(page, init);
      await preview.postToPanel(page, { type: 'warning', message: HOSTILE_NAMES[1] });
      await preview.settlePanel(page);
      // Expand every site's stacks so frames render too.
      for (const toggle of await page.locator('tr.site-row .icon-btn').all()) await toggle.click().catch(() => undefined);
      await preview.settlePanel(page);
      await page.waitForTimeout(300);
      const check = await page.evaluate(
        ([names, globals, file]) => {
          const w = window as unknown as Record<string, unknown>;
          const all = Array.from(document.querySelectorAll('*'));
          const csp = document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '';
          return {
            ran: globals.filter((g) => w[g] !== undefined),
            imgs: document.querySelectorAll('#app img, #app svg image').length,
            scripts: document.querySelectorAll('#app script').length,
            svgWithOnload: Array.from(document.querySelectorAll('svg')).filter((e) => e.hasAttribute('onload')).length,
            inlineHandlers: all.flatMap((e) =>
              Array.from(e.attributes)
                .filter((a) => /^on/i.test(a.name))
                .map((a) => `${e.tagName}[${a.name}]`),
            ),
            shown: names.filter((n) => document.body.textContent?.includes(n)),
            fileShown: document.body.textContent?.includes(file) ?? false,
            csp,
            scriptNonces: Array.from(document.scripts).map((s) => s.nonce),
            violations: (w.__csp as string[]) ?? [],
          };
        },
        [HOSTILE_NAMES, PWN_GLOBALS, HOSTILE_FILE] as const,
      );
      assert.deepEqual(check.ran, [], 'a script from the data ran');
      assert.equal(check.imgs + check.scripts + check.svgWithOnload, 0, 'data became elements');
      assert.deepEqual(check.inlineHandlers, [], 'no inline event handlers');
      assert.deepEqual(check.shown, HOSTILE_NAMES, 'the hostile names are shown as text');
      assert.ok(check.fileShown, 'the hostile file name is shown as text');
      assert.match(check.csp, /(^|; )default-src 'none'(;|$)/);
      const nonce = /script-src 'nonce-([A-Za-z0-9+/_=-]+)'/.exec(check.csp)?.[1];
      assert.ok(nonce && nonce.length >= 16, `script-src has a nonce: ${check.csp}`);
      assert.ok(!/unsafe-inline|unsafe-eval/.test(check.csp), check.csp);
      assert.ok(
        check.scriptNonces.every((n) => n === nonce),
        'every script carries the nonce',
      );
      assert.deepEqual(check.violations, [], 'no CSP violations');
      assert.deepEqual(errors, [], 'no page errors');
      await page.close();
    } finally {
      await browser.close();
      server.close();
    }
  });
});

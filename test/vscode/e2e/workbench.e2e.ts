// UI smoke test: a real workbench renders with our extension loaded, the command palette runs
// commands, and the colour theme switches. Screenshots go to .test-artifacts/e2e-*.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { recordFailure, Workbench } from './workbench';

/** Saves a screenshot and the page's last console lines when a test failed. */
describe('workbench (code-server + Chromium)', function () {
  this.timeout(120_000);
  let wb: Workbench | undefined;

  let workspace: string;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-e2e-ws-'));
    fs.writeFileSync(path.join(workspace, 'NOTES.md'), '# Heap notes\n\nRetained by *handleJob*.\n');
    wb = await Workbench.open({ workspace, theme: 'dark' });
  });
  afterEach(async function () {
    await recordFailure(wb, this, 'workbench');
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('renders with the extension under development loaded', async () => {
    const title = await wb!.page.title();
    assert.match(title, /Extension Development Host/, `window title: ${title}`);
    assert.equal(await wb!.themeKind(), 'dark');
    await wb!.screenshot('e2e-workbench-dark');
  });

  it('runs a command from the palette (F1): View: Toggle Terminal', async () => {
    const page = wb!.page;
    await wb!.runCommand('View: Toggle Terminal');
    await page.locator('.part.panel .terminal-wrapper .xterm').first().waitFor({ state: 'visible', timeout: 30_000 });
    // a shell started in the pty host (node-pty built by the install script)
    await page.waitForFunction(() => (document.querySelector('.part.panel .xterm-rows')?.textContent ?? '').trim().length > 0, undefined, { timeout: 30_000 });
    await wb!.screenshot('e2e-workbench-terminal');
  });

  it('finds a webview by title and reads its document (built-in Markdown preview)', async () => {
    await wb!.openFile('NOTES.md');
    await wb!.runCommand('Markdown: Open Preview');
    const frame = await wb!.waitForWebview('Preview NOTES.md');
    await frame.locator('h1', { hasText: 'Heap notes' }).waitFor({ timeout: 20_000 });
    assert.equal(await frame.locator('em').textContent(), 'handleJob');
    await wb!.screenshot('e2e-workbench-webview');
  });

  it('switches to a light theme with "Preferences: Color Theme"', async () => {
    await wb!.setTheme('light');
    assert.equal(await wb!.themeKind(), 'light');
    await wb!.screenshot('e2e-workbench-light');
  });
});

describe('workbench started with a light theme from settings.json', function () {
  this.timeout(120_000);
  let wb: Workbench | undefined;
  afterEach(async function () {
    await recordFailure(wb, this, 'workbench');
  });
  after(async () => {
    await wb?.close();
  });

  it('starts light', async () => {
    wb = await Workbench.open({ theme: 'light', extension: false });
    assert.equal(await wb.themeKind(), 'light');
  });
});

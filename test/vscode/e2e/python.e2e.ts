// End-to-end through the real UI for Python: Profile Task on a Celery module offers the "Celery
// worker" group; on jobs.py it profiles import_rows and the panel shows the leak with its line.
// Screenshot of the panel: .test-artifacts/e2e-panel-python-dark.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../lib/codeServer';
import { Workbench } from './workbench';

const PYTHON = '/usr/bin/python3';
const PANEL_TITLE = 'Memory: jobs.py#import_rows';

function quickPickRow(wb: Workbench, text: string) {
  return wb.page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ has: wb.page.locator('.label-name', { hasText: text }) })
    .first();
}

async function separators(wb: Workbench): Promise<string[]> {
  return wb.page.locator('.quick-input-widget .quick-input-list .quick-input-list-separator').allTextContents();
}

describe('Python through the UI (code-server + Chromium)', function () {
  this.timeout(180_000);
  let wb: Workbench | undefined;
  let workspace: string;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-e2e-python-'));
    fs.copyFileSync(path.join(REPO_ROOT, 'examples/python/jobs.py'), path.join(workspace, 'jobs.py'));
    fs.mkdirSync(path.join(workspace, 'celery_app'));
    fs.copyFileSync(path.join(REPO_ROOT, 'examples/python/celery_app/tasks.py'), path.join(workspace, 'celery_app/tasks.py'));
    wb = await Workbench.open({ workspace, theme: 'dark', viewport: { width: 1600, height: 1000 }, settings: { 'taskMemory.pythonPath': PYTHON } });
  });
  afterEach(async function () {
    const test = this.currentTest;
    if (!wb || !test || test.state !== 'failed') return;
    const file = await wb.screenshot(`e2e-failed-${test.title.replace(/[^\w-]+/g, '-').slice(0, 60)}`).catch(() => undefined);
    console.error(`    screenshot: ${file ?? 'failed'}\n    last console lines:\n      ${wb.consoleLog.slice(-15).join('\n      ')}`);
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('offers the Celery workers of an open Celery module', async () => {
    await wb!.openFile('celery_app/tasks.py');
    await wb!.runCommand('Task Memory: Profile Task');
    await quickPickRow(wb!, 'celery -A tasks worker -P prefork -c 2').waitFor({ state: 'visible', timeout: 20_000 });
    await quickPickRow(wb!, 'celery -A tasks worker -P solo').waitFor({ state: 'visible', timeout: 5_000 });
    await quickPickRow(wb!, 'send_welcome_email').waitFor({ state: 'visible', timeout: 5_000 });
    const groups = await separators(wb!);
    assert.ok(
      groups.some((s) => s.includes('Celery worker')),
      `separators: ${groups.join(' | ')}`,
    );
    await wb!.page.keyboard.press('Escape');
  });

  it('profiles jobs.py#import_rows: a leak on its line in the panel', async () => {
    const page = wb!.page;
    await wb!.openFile('jobs.py');
    await wb!.runCommand('Task Memory: Profile Task');
    const row = quickPickRow(wb!, 'import_rows');
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await quickPickRow(wb!, 'celery -A').isVisible(), false, 'jobs.py is not a Celery module: no Celery worker');
    await row.click();
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.waitForFunction(
      () => /^\d+, \d+$/.test(document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    await input.press('Enter');

    const panel = await wb!.waitForWebview(PANEL_TITLE, 30_000);
    await panel.locator('.banner.banner-leak').waitFor({ timeout: 60_000 });
    await panel.locator('.state-pill.state-ended').waitFor({ timeout: 60_000 });
    const text = (await panel.locator('table.sites').first().textContent()) ?? '';
    assert.match(text, /import_rows/);
    assert.match(text, /jobs\.py:14/);
    await page.waitForTimeout(500);
    await wb!.screenshot('e2e-panel-python-dark');
  });
});

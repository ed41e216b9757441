// End-to-end through the real UI for Python: Profile Task on a Celery module offers the "Celery
// worker" group; on jobs.py it profiles import_rows and the panel shows the leak with its line.
// Screenshot of the panel: .test-artifacts/e2e-panel-python-dark.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../lib/codeServer';
import { recordFailure, Workbench } from './workbench';

const PYTHON = '/usr/bin/python3';
const PANEL_TITLE = 'Memory: jobs.py#import_rows';

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
    // A module that fails at import, on line 9, as a missing setting would make it.
    fs.writeFileSync(
      path.join(workspace, 'billing.py'),
      [
        '# Billing jobs.',
        'import os',
        '',
        '',
        'def charge_customer():',
        '    return 1',
        '',
        '',
        'BROKER = os.environ["BILLING_BROKER_URL_THAT_IS_NOT_SET"]',
        '',
      ].join('\n'),
    );
    wb = await Workbench.open({ workspace, theme: 'dark', viewport: { width: 1600, height: 1000 }, settings: { 'taskMemory.pythonPath': PYTHON } });
  });
  afterEach(async function () {
    await recordFailure(wb, this, 'python');
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('offers the Celery workers of an open Celery module', async () => {
    await wb!.openFile('celery_app/tasks.py');
    await wb!.runCommand('Task Memory: Profile Task');
    await wb!.quickPickRow('celery -A tasks worker -P prefork -c 2').waitFor({ state: 'visible', timeout: 20_000 });
    await wb!.quickPickRow('celery -A tasks worker -P solo').waitFor({ state: 'visible', timeout: 5_000 });
    await wb!.quickPickRow('send_welcome_email').waitFor({ state: 'visible', timeout: 5_000 });
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
    const row = wb!.quickPickRow('import_rows');
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await wb!.quickPickRow('celery -A').isVisible(), false, 'jobs.py is not a Celery module: no Celery worker');
    await row.click();
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.waitForFunction(
      () => /^\d+, \d+$/.test(document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    // What the user enters is remembered for this task only (the next test's task starts from the settings).
    await input.fill('12, 2');
    await input.press('Enter');

    const panel = await wb!.waitForWebview(PANEL_TITLE, 120_000, '.state-pill.state-ended');
    await panel.locator('.banner.banner-leak').waitFor({ timeout: 10_000 });
    const text = (await panel.locator('table.sites').first().textContent()) ?? '';
    assert.match(text, /import_rows/);
    assert.match(text, /jobs\.py:14/);
    await page.waitForTimeout(500);
    await wb!.screenshot('e2e-panel-python-dark');
  });

  it("a module that fails at import: the panel leads with the error and the user's line, not the agent's traceback", async () => {
    const page = wb!.page;
    await wb!.openFile('billing.py');
    await wb!.runCommand('Task Memory: Profile Task');
    const row = wb!.quickPickRow('charge_customer');
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.click();
    await page.waitForFunction(
      () => /^\d+, \d+$/.test(document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    const prompt = page.locator('.quick-input-widget .quick-input-box input');
    assert.notEqual(await prompt.inputValue(), '12, 2', "another task's runs do not carry over");
    assert.match((await page.locator('.quick-input-widget .quick-input-title').textContent()) ?? '', /runs, warm-up \(billing\.py#charge_customer\)/);
    await prompt.press('Enter');

    const panel = await wb!.waitForWebview('Memory: billing.py#charge_customer', 90_000, '.state-pill.state-ended');
    await panel.locator('.banner.banner-failed').waitFor({ timeout: 10_000 });
    const summary = (await panel.locator('.banner .failure-summary').textContent()) ?? '';
    assert.match(summary, /billing\.py failed to import: KeyError: 'BILLING_BROKER_URL_THAT_IS_NOT_SET'/, summary);
    const banner = (await panel.locator('.banner').textContent()) ?? '';
    assert.doesNotMatch(banner, /Traceback|frozen importlib|taskmem_agent|Taskmem\.loadHarness/, banner);
    const open = panel.locator('.banner .failure-open');
    assert.match((await open.textContent()) ?? '', /Open billing\.py:9/);
    assert.equal(await panel.locator('.banner-pending').count(), 0, 'no spinner on a failed session');
    assert.match((await panel.locator('.table-wrap').first().textContent()) ?? '', /No task ran: the session failed/);
    // The banner fits the panel (nothing runs past its right edge).
    const fits = await panel.evaluate(() => {
      const el = document.querySelector<HTMLElement>('.banner');
      return !!el && el.scrollWidth <= el.clientWidth + 1;
    });
    assert.ok(fits, 'the failure banner overflows');
    await page.waitForTimeout(300);
    await wb!.screenshot('e2e-panel-python-failed');
    // The link opens the user's line.
    await open.click();
    await page.waitForFunction(() => /Ln 9,/.test(document.querySelector('.statusbar')?.textContent ?? ''), undefined, { timeout: 10_000 });
  });
});

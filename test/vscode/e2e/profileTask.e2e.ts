// End-to-end through the real UI: F1 → "Task Memory: Profile Task" → the exported function of the
// open file → runs/warm-up → the memory panel fills (chart points, enrichOrder in the sites table).
// Screenshots of the panel in dark and light themes go to .test-artifacts/e2e-panel-{dark,light}.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { DEFAULTS } from '../../../src/session/defaults';
import { REPO_ROOT } from '../lib/codeServer';
import { recordFailure, Workbench } from './workbench';

const PANEL_TITLE = 'Memory: leaky-worker.js#handleJob';

/** A quick-pick row whose label contains `text`. */
/** Pixels the chart's canvas has drawn (lines, axes, marks): an emptied plot draws far fewer. */
function drawnPixels(frame: Frame): Promise<number> {
  return frame.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('.chart-plot canvas');
    const data = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; data && i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
}

describe('Profile Task through the UI (code-server + Chromium)', function () {
  this.timeout(180_000);
  let wb: Workbench | undefined;
  let workspace: string;
  let panel: Frame;
  let darkPixels = 0;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-e2e-profile-'));
    fs.copyFileSync(path.join(REPO_ROOT, 'examples/node/leaky-worker.js'), path.join(workspace, 'leaky-worker.js'));
    fs.writeFileSync(
      path.join(workspace, 'package.json'),
      JSON.stringify({ name: 'e2e-workers', private: true, scripts: { start: 'node leaky-worker.js' } }, null, 2),
    );
    wb = await Workbench.open({ workspace, theme: 'dark', viewport: { width: 1600, height: 1000 } });
  });
  afterEach(async function () {
    await recordFailure(wb, this, 'profile');
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it('picks handleJob of the open file, accepts runs/warm-up, and the panel shows the chart and enrichOrder', async () => {
    const page = wb!.page;
    await wb!.openFile('leaky-worker.js');
    await wb!.runCommand('Task Memory: Profile Task');

    // The picker groups the active file's exports, npm scripts and the other ways to profile.
    const handleJob = wb!.quickPickRow('handleJob');
    await handleJob.waitFor({ state: 'visible', timeout: 20_000 });
    await wb!.quickPickRow('npm run start').waitFor({ state: 'visible', timeout: 20_000 });
    const separators = await page.locator('.quick-input-widget .quick-input-list .quick-input-list-separator').allTextContents();
    assert.ok(
      separators.some((s) => s.includes('Active file: leaky-worker.js')),
      `separators: ${separators.join(' | ')}`,
    );
    await handleJob.click();

    // One input box: "runs, warm-up", pre-filled; accept it.
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.waitForFunction(
      () => /^\d+, \d+$/.test(document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    assert.equal(await input.inputValue(), `${DEFAULTS.runs}, ${DEFAULTS.warmup}`);
    await input.press('Enter');

    panel = await wb!.waitForWebview(PANEL_TITLE, 30_000);
    // chart: the plot has a canvas and the "waiting" placeholder is gone
    await panel.waitForFunction(
      () => {
        const empty = document.querySelector<HTMLElement>('.chart-empty');
        return !!document.querySelector('.chart-plot canvas') && !!empty && empty.hidden;
      },
      undefined,
      { timeout: 30_000 },
    );
    // the run completes: the state pill says Ended (looked up again: VS Code may have reloaded the frame)
    panel = await wb!.waitForWebview(PANEL_TITLE, 120_000, '.state-pill.state-ended');
    await panel.locator('table.sites td.name', { hasText: 'enrichOrder' }).first().waitFor({ timeout: 10_000 });
    // a leak verdict in the banner
    await panel.locator('.banner.banner-leak').waitFor({ timeout: 10_000 });
    const firstSite = (await panel.locator('table.sites td.name').first().textContent()) ?? '';
    assert.match(firstSite, /enrichOrder/);
    // The first chart is the one that shows the leak: retained after each run, with the verdict's line.
    const retained = panel.locator('.retained-card');
    await retained.waitFor({ state: 'visible', timeout: 10_000 });
    const legend = (await retained.locator('.retained-legend').textContent()) ?? '';
    assert.match(legend, /handleJob\s*leak · \+\d/, legend);
    const retainedPixels = await panel.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('.retained-card canvas');
      const data = canvas?.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; data && i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    assert.ok(retainedPixels > 2000, `the per-run chart drew ${retainedPixels} pixels`);
    // It comes before the statistics chart, right under the verdict.
    const order = await panel.evaluate(() => Array.from(document.querySelectorAll('section.card h2'), (h) => h.textContent ?? ''));
    assert.ok(order[0]?.startsWith('Kept after each run'), order.join(' | '));
    // the progress notification has finished; let notifications settle before the screenshot
    await page.waitForTimeout(500);
    darkPixels = await drawnPixels(panel);
    await wb!.screenshot('e2e-panel-dark');
  });

  it('looks right in the light theme', async () => {
    await wb!.setTheme('light');
    assert.equal(await wb!.themeKind(), 'light');
    const frame = await wb!.waitForWebview(PANEL_TITLE, 10_000);
    await frame.locator('table.sites td.name', { hasText: 'enrichOrder' }).first().waitFor({ timeout: 10_000 });
    await wb!.page.waitForTimeout(500);
    // the plot is rebuilt with the theme's colours and must still show the ended session's data
    const lightPixels = await drawnPixels(frame);
    assert.ok(lightPixels > darkPixels * 0.6, `chart drew ${lightPixels} pixels in light vs ${darkPixels} in dark`);
    await wb!.screenshot('e2e-panel-light');
  });
});

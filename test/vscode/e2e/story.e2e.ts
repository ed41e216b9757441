// The leak's story at a glance, as a user sees it at 1600×1000 with the panel beside the editor
// (half the window each): the per-run chart of a leak, a plateau and a clean task; the editor's
// annotations and hover fit the half-width editor; the sites table fits the half-width panel; a
// 300-run session's statistics chart stays readable (heap and RSS on their own axes, marks as
// ticks); a session reopened after its panel was closed. Screenshots go to .test-artifacts/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { recordFailure, Workbench } from './workbench';

const JOBS = `// Three job handlers: one leaks, one fills a cache that levels off, one keeps nothing.
const seen = new Map();
let next = 0;
exports.leakJob = async function leakJob() {
  const id = next++;
  seen.set(id, new Array(2048).fill(id));
  return seen.size;
};

const table = new Map();
exports.cacheJob = async function cacheJob() {
  const key = next++ % 12;
  if (!table.has(key)) table.set(key, new Array(2048).fill(key));
  return table.size;
};

exports.cleanJob = async function cleanJob() {
  const rows = Array.from({ length: 2000 }, (_, i) => ({ i, s: String(i) }));
  return rows.reduce((sum, r) => sum + r.i, 0);
};
`;

const WIDTH = 1600;
const HEIGHT = 1000;

describe('the leak story at a glance, with the panel beside the editor (code-server + Chromium)', function () {
  this.timeout(300_000);
  let wb: Workbench | undefined;
  let workspace: string;

  before(async () => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-e2e-story-'));
    fs.writeFileSync(path.join(workspace, 'jobs.js'), JOBS);
    wb = await Workbench.open({ workspace, theme: 'dark', viewport: { width: WIDTH, height: HEIGHT } });
    await wb.openFile('jobs.js');
  });
  afterEach(async function () {
    await recordFailure(wb, this, 'story');
  });
  after(async () => {
    await wb?.close();
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  /** Profile Task from the palette on one export of jobs.js with "runs, warm-up"; returns the ended panel. */
  async function profile(fn: string, runs: number, warmup = 2): Promise<Frame> {
    const page = wb!.page;
    // The palette offers the active file's exports: the editor (left group) must be the active one.
    await page.locator('.part.editor .tab[data-resource-name="jobs.js"]').first().click();
    await wb!.runCommand('Task Memory: Profile Task');
    const row = wb!.quickPickRow(fn);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.click();
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await page.waitForFunction(
      () => /^\d+, \d+$/.test(document.querySelector<HTMLInputElement>('.quick-input-widget .quick-input-box input')?.value ?? ''),
      undefined,
      { timeout: 10_000 },
    );
    await input.fill(`${runs}, ${warmup}`);
    await input.press('Enter');
    const panel = await wb!.waitForWebview(`Memory: jobs.js#${fn}`, 240_000, '.state-pill.state-ended');
    await panel.locator('.retained-card').waitFor({ state: 'visible', timeout: 10_000 });
    // notifications and the last frame settle before measuring and screenshots
    await page.waitForTimeout(700);
    return panel;
  }

  /** Elements of the panel that stick out of its viewport (right or left), as "selector: box". */
  async function overflowing(panel: Frame): Promise<string[]> {
    return panel.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const out: string[] = [];
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('.card, .banner, table.data, table.data th, .retained-card canvas, .chart canvas'))) {
        if (el.closest('[hidden]')) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0) continue;
        if (r.right > width + 1 || r.left < -1)
          out.push(
            `${el.tagName.toLowerCase()}.${el.className} ${el.textContent?.slice(0, 20) ?? ''}: ${Math.round(r.left)}-${Math.round(r.right)} of ${width}`,
          );
      }
      // A table wider than its box scrolls: its last column is clipped at first sight.
      for (const wrap of Array.from(document.querySelectorAll<HTMLElement>('.table-wrap'))) {
        if (wrap.scrollWidth > wrap.clientWidth + 1)
          out.push(`.table-wrap scrolls: ${wrap.scrollWidth} > ${wrap.clientWidth} (${wrap.querySelector('th:last-child')?.textContent ?? ''})`);
      }
      return out;
    });
  }

  /** The share of the plot's width painted on rows through the middle of the statistics chart (the least of three rows). */
  async function midPlotCoverage(panel: Frame): Promise<number> {
    return panel.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('.chart-plot canvas');
      const ctx = canvas?.getContext('2d');
      if (!canvas || !ctx) return 1;
      let least = 1;
      for (const at of [0.4, 0.5, 0.6]) {
        const y = Math.round(canvas.height * at);
        const row = ctx.getImageData(0, y, canvas.width, 1).data;
        let painted = 0;
        for (let i = 3; i < row.length; i += 4) if (row[i] > 0) painted++;
        least = Math.min(least, painted / canvas.width);
      }
      return least;
    });
  }

  it('a leak: the per-run chart climbs along its line; annotations, hover and tables fit beside the half-width panel', async () => {
    const page = wb!.page;
    const panel = await profile('leakJob', 30);
    const legend = (await panel.locator('.retained-legend').textContent()) ?? '';
    assert.match(legend, /leakJob\s*leak · \+\d/, legend);
    await wb!.screenshotElement(panel, '.retained-card', 'e2e-retained-leak');

    // Why it is kept: the Map that holds the runs' arrays, and the line that stores into it.
    const why = panel.locator('.why-card');
    await why.waitFor({ state: 'visible', timeout: 10_000 });
    const chain = ((await why.locator('.why-path').first().textContent()) ?? '').replace(/\s+/g, ' ');
    assert.match(chain, /seen\s*Map.*\{entry\}\s*Array/, chain);
    const storeLine = JOBS.split('\n').findIndex((line) => line.includes('seen.set(')) + 1;
    const link = why.locator('.why-line button.link').first();
    assert.match((await link.textContent()) ?? '', new RegExp(`^seen\\.set \\((.*/)?jobs\\.js:${storeLine}\\)$`));
    assert.deepEqual(await overflowing(panel), []);
    // The harness explains by itself: its toolbar has no "Why Is It Kept?" button (workers and attach do).
    assert.equal(await panel.locator('button', { hasText: 'Why Is It Kept?' }).isVisible(), false, 'no Why button in the harness');
    await wb!.screenshotElement(panel, '.why-card', 'e2e-why-leak');

    // The panel takes about half the window.
    const frameBox = await page.locator('iframe.webview').last().boundingBox();
    assert.ok(frameBox && frameBox.width > WIDTH * 0.3 && frameBox.width < WIDTH * 0.7, `panel width ${frameBox?.width}`);
    await panel.locator('table.sites td.name', { hasText: 'leakJob' }).first().waitFor({ timeout: 10_000 });
    assert.deepEqual(await overflowing(panel), []);
    const perRun = await panel.evaluate(() => {
      const th = Array.from(document.querySelectorAll('table.sites th')).find((el) => el.textContent === 'Per run');
      const r = th?.getBoundingClientRect();
      return r ? { right: r.right, width: document.documentElement.clientWidth } : undefined;
    });
    assert.ok(perRun && perRun.right <= perRun.width, `"Per run" header at ${JSON.stringify(perRun)}`);

    // The annotation of leakJob's line is whole inside the half-width editor: its line is too long
    // for the text after it, so the text is in a lens above it; whatever text is after a line fits.
    let boxes = await wb!.annotationBoxes('jobs.js');
    const leakLens = () => boxes.lenses.find((l) => /^▲ [\d.]+ (KiB|MiB) kept · \+[\d.]+ (B|KiB|MiB)\/run$/.test(l.text));
    for (let i = 0; i < 40 && !leakLens(); i++) {
      await page.waitForTimeout(250);
      boxes = await wb!.annotationBoxes('jobs.js');
    }
    const lens = leakLens();
    assert.ok(lens, `lenses: ${boxes.lenses.map((m) => m.text).join(' | ') || 'none'}; after lines: ${boxes.marks.map((m) => m.text).join(' | ')}`);
    const inside = (b: { left: number; right: number; top: number; bottom: number }) =>
      b.right - b.left > 20 && b.left >= boxes.area.left && b.right <= boxes.area.right && b.top >= boxes.area.top && b.bottom <= boxes.area.bottom;
    assert.ok(inside(lens), `lens ${JSON.stringify(lens)} outside the code area ${JSON.stringify(boxes.area)}`);
    for (const mark of boxes.marks) assert.ok(inside(mark), `"${mark.text}" at ${JSON.stringify(mark)} outside the code area ${JSON.stringify(boxes.area)}`);
    // The line that stores into the Map carries what it holds (why retained), inside the code area too.
    const holding = [...boxes.lenses, ...boxes.marks].find((m) => /^◆ keeps \+[\d.]+ KiB\/run: seen\.set$/.test(m.text));
    assert.ok(holding, `no holding-line mark: ${[...boxes.lenses, ...boxes.marks].map((m) => m.text).join(' | ')}`);
    assert.ok(inside(holding), `holding mark ${JSON.stringify(holding)} outside the code area`);

    // Its hover shows every section without scrolling, inside the window.
    await page.locator('.part.editor .tab[data-resource-name="jobs.js"]').first().click();
    await page.keyboard.press('Control+G');
    await page.keyboard.type('4:20');
    await page.keyboard.press('Enter');
    await wb!.runCommand('Show or Focus Hover');
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'Show in panel' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    const fit = await hover.evaluate((el) => {
      const scrollables = Array.from(el.querySelectorAll<HTMLElement>('.monaco-scrollable-element, .hover-contents, .monaco-hover-content'));
      const scrolls = scrollables.some((s) => s.scrollHeight > s.clientHeight + 2);
      const r = el.getBoundingClientRect();
      return { scrolls, box: { left: r.left, top: r.top, right: r.right, bottom: r.bottom }, text: el.textContent ?? '' };
    });
    assert.equal(fit.scrolls, false, 'the hover scrolls');
    assert.ok(fit.box.top >= 0 && fit.box.bottom <= HEIGHT && fit.box.left >= 0 && fit.box.right <= WIDTH, `hover at ${JSON.stringify(fit.box)}`);
    assert.match(fit.text, /Tasks in this session/);
    await page.waitForTimeout(400); // the hover fades in
    await wb!.screenshot('e2e-half-width-hover');
    await page.locator('.part.editor .monaco-editor .view-line', { hasText: 'let next' }).first().click();
    await page.keyboard.press('Escape');
    await wb!.screenshot('e2e-half-width');

    // The holding line's hover (the mouse on its text): what it keeps, through which path, how sure the line is.
    const holdingHover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'this line holds' }).first();
    for (let attempt = 0; attempt < 5 && !(await holdingHover.isVisible()); attempt++) {
      await page
        .locator('.part.editor .monaco-editor .view-line', { hasText: 'seen.set(id' })
        .first()
        .hover({ position: { x: 40, y: 5 } });
      await holdingHover.waitFor({ state: 'visible', timeout: 3_000 }).catch(() => undefined);
    }
    const holdingText = (await holdingHover.textContent()) ?? '';
    assert.match(holdingText, /this line holds \+[\d.]+ KiB\/run \(1\.0 entry per run\) that leakJob keeps, through seen\.set/, holdingText);
    assert.match(holdingText, /Kept by: scope > seen \(Map\) > \{entry\} \(Array/, holdingText);
    await page.waitForTimeout(400); // the hover fades in
    await wb!.screenshot('e2e-why-holding-line');
    await page.keyboard.press('Escape');
  });

  it('a cache that levels off: the per-run chart rises and goes flat (plateau)', async () => {
    const panel = await profile('cacheJob', 30);
    const legend = (await panel.locator('.retained-legend').textContent()) ?? '';
    assert.match(legend, /cacheJob\s*plateau/, legend);
    assert.deepEqual(await overflowing(panel), []);
    await wb!.screenshotElement(panel, '.retained-card', 'e2e-retained-plateau');
  });

  it('a clean task: the per-run chart stays on zero (no leak)', async () => {
    // Warm-up enough for V8 to settle (compiled code, inline caches) before the measured runs.
    const panel = await profile('cleanJob', 30, 10);
    const legend = (await panel.locator('.retained-legend').textContent()) ?? '';
    assert.match(legend, /cleanJob\s*no-leak/, legend);
    assert.equal(await panel.locator('.why-card').isVisible(), false, 'nothing to explain for a clean task');
    assert.deepEqual(await overflowing(panel), []);
    await wb!.screenshotElement(panel, '.retained-card', 'e2e-retained-clean');
  });

  it('300 runs: the statistics chart stays readable (heap and RSS on their own axes, marks as ticks, not a barcode)', async () => {
    const page = wb!.page;
    const panel = await profile('leakJob', 300);
    assert.deepEqual(await overflowing(panel), []);
    const axes = () => panel.evaluate(() => document.querySelector<HTMLElement>('.chart-plot')?.dataset.axes ?? '');
    assert.equal(await axes(), 'Heap,RSS');
    const coverage = await midPlotCoverage(panel);
    assert.ok(coverage < 0.15, `${Math.round(coverage * 100)}% of the plot's middle rows is painted`);
    // With only "Heap used" shown, its axis follows it: the leak's growth spans the plot's height.
    for (const label of ['Heap total', 'RSS', 'External', 'Array buffers']) {
      const button = panel.locator('.chart-card .legend-item, .legend-item', { hasText: label }).first();
      if (await button.count()) await button.click();
    }
    await page.waitForTimeout(300);
    assert.equal(await axes(), 'Heap');
    await wb!.screenshot('e2e-panel-heap-only');
    for (const label of ['Heap total', 'RSS', 'External', 'Array buffers']) {
      const button = panel.locator('.legend-item', { hasText: label }).first();
      if (await button.count()) await button.click();
    }
    // The whole window, the panel maximised: what the README shows.
    await wb!.runCommand('View: Toggle Maximize Editor Group');
    await page.waitForTimeout(800);
    const full = await wb!.waitForWebview('Memory: jobs.js#leakJob', 10_000);
    assert.deepEqual(await overflowing(full), []);
    assert.ok((await midPlotCoverage(full)) < 0.15);
    await wb!.screenshot('e2e-panel-300-runs');
    await wb!.runCommand('View: Toggle Maximize Editor Group');
  });

  it('a session reopened after its panel was closed shows the same story', async () => {
    const page = wb!.page;
    const title = 'Memory: jobs.js#leakJob';
    await page.locator(`.part.editor .tab[aria-label^="${title}"]`).first().click();
    await wb!.runCommand('View: Close Editor');
    await page.waitForTimeout(500);
    await assert.rejects(wb!.waitForWebview(title, 1_000));
    await wb!.runCommand('Task Memory: Show Panel');
    const panel = await wb!.waitForWebview(title, 40_000, '.state-pill.state-ended');
    await panel.locator('.banner.banner-leak').waitFor({ timeout: 10_000 });
    await panel.locator('.retained-card').waitFor({ state: 'visible', timeout: 10_000 });
    await panel.locator('table.sites td.name', { hasText: 'leakJob' }).first().waitFor({ timeout: 10_000 });
    await page.waitForTimeout(700);
    assert.deepEqual(await overflowing(panel), []);
    await wb!.screenshot('e2e-panel-reopened');
  });
});

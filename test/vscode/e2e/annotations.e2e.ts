// Editor annotations as a user sees them: open examples/node/ts/orders.ts, click the "Profile Task"
// code lens, wait for the run, and take screenshots of the decorated editor (dark and light) and of
// the hover on the leaking function: .test-artifacts/e2e-editor-dark.png, e2e-hover-dark.png,
// e2e-editor-light.png.
import * as assert from 'node:assert/strict';
import { recordFailure, Workbench } from './workbench';

describe('editor annotations (code-server + Chromium)', function () {
  this.timeout(180_000);
  let wb: Workbench | undefined;

  before(async () => {
    wb = await Workbench.open({ workspace: 'examples/node', theme: 'dark', viewport: { width: 1600, height: 900 } });
  });
  afterEach(async function () {
    await recordFailure(wb, this, 'annotations');
  });
  after(async () => {
    await wb?.close();
  });

  it('profiles processOrder from its code lens and decorates the leaking function', async () => {
    const page = wb!.page;
    await wb!.openFile('ts/orders.ts');
    const lens = page.locator('.part.editor .monaco-editor .codelens-decoration a', { hasText: 'Profile Task' }).first();
    await lens.waitFor({ state: 'visible', timeout: 30_000 });
    await lens.click();
    // the run ends with a "kept …/run (verdict)" lens and the inline text on line 10
    await page
      .locator('.part.editor .monaco-editor .codelens-decoration a', { hasText: /^kept / })
      .first()
      .waitFor({ state: 'visible', timeout: 90_000 });
    // the panel opened beside the editor: make room for the code and focus orders.ts again
    await wb!.runCommand('View: Close Primary Side Bar');
    await wb!.runCommand('View: Join All Editor Groups');
    await page.locator('.part.editor .tab[data-resource-name="orders.ts"]').first().click();
    // Line 10 is too long for its text after it beside the panel: the text is in a lens above it.
    const keptLens = page.locator('.part.editor .monaco-editor .codelens-decoration a', { hasText: /^▲ [\d.]+ (KiB|MiB) kept/ }).first();
    await keptLens.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await keptLens.textContent()) ?? '', /^▲ [\d.]+ (KiB|MiB) kept( · [+±-][\d.]+ (B|KiB|MiB)\/run)?$/);
    await page.waitForTimeout(500);
    await wb!.screenshot('e2e-editor-dark');
  });

  it('shows the hover with figures, stack links and "Show in panel"', async () => {
    const page = wb!.page;
    // cursor on line 10, then "Show or Focus Hover"
    await page.keyboard.press('Control+G');
    await page.keyboard.type('10:20');
    await page.keyboard.press('Enter');
    await wb!.runCommand('Show or Focus Hover');
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'Show in panel' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match((await hover.textContent()) ?? '', /kept · .*of retained memory/);
    await wb!.screenshot('e2e-hover-dark');
    // a click in the code closes the hover (Escape alone leaves a focused hover open)
    await page.locator('.part.editor .monaco-editor .view-line', { hasText: 'const auditLog' }).first().click();
    await page.keyboard.press('Escape');
    await hover.waitFor({ state: 'hidden', timeout: 5_000 });
  });

  it('stays readable in a light theme', async () => {
    await wb!.setTheme('light');
    assert.equal(await wb!.themeKind(), 'light');
    await wb!.page
      .locator('.part.editor .monaco-editor .codelens-decoration a', { hasText: /^▲ .* kept/ })
      .first()
      .waitFor({ state: 'visible', timeout: 10_000 });
    await wb!.page.waitForTimeout(500);
    await wb!.screenshot('e2e-editor-light');
  });
});

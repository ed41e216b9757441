/**
 * Drives a real VS Code workbench (code-server + headless Chromium) for end-to-end UI tests:
 *
 *   const wb = await Workbench.open({ workspace: 'examples/node', theme: 'light' });
 *   await wb.runCommand('Task Memory: Profile Task');
 *   const panel = await wb.waitForWebview('Task Memory');      // the webview's own document
 *   await panel.waitForSelector('table');
 *   await wb.screenshot('panel-light');                        // .test-artifacts/panel-light.png
 *   await wb.close();
 *
 * The repository is loaded as the extension under development (as with F5) unless
 * `extension: false`. Built on ../lib/codeServer.ts (the same start/stop code as the suite runner).
 */
import * as path from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';
import { artifactPath, launchBrowser, REPO_ROOT, startCodeServer, THEMES, type BrowserSession, type CodeServer, type StartOptions } from '../lib/codeServer';

export type ThemeKind = keyof typeof THEMES;

export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export interface OpenOptions {
  /** Folder to open, absolute or repo-relative (default: a fresh empty folder). */
  workspace?: string;
  /** 'light', 'dark' or a full theme name (written to settings.json before start). Default dark. */
  theme?: string;
  /** More user settings. */
  settings?: Record<string, unknown>;
  /** Load this repository as the extension under development (default true). */
  extension?: boolean;
  /** Install this .vsix instead (as a user would); the repository is then not loaded. */
  vsix?: string;
  env?: StartOptions['env'];
  verbose?: boolean;
  keep?: boolean;
  viewport?: { width: number; height: number };
  /** How long to wait for the workbench to render (ms, default 60 s). */
  timeoutMs?: number;
}

function themeName(theme: string): string {
  return theme in THEMES ? THEMES[theme as ThemeKind] : theme;
}

/**
 * After a failed test: a screenshot of the whole workbench and the browser's last console lines, so a
 * CI failure can be read without rerunning it. Call it from `afterEach(function () {...})`.
 */
export async function recordFailure(wb: Workbench | undefined, ctx: Mocha.Context, prefix: string): Promise<void> {
  const test = ctx.currentTest;
  if (!wb || !test || test.state !== 'failed') return;
  const file = await wb.screenshot(`e2e-failed-${prefix}-${test.title.replace(/[^\w-]+/g, '-').slice(0, 60)}`).catch(() => undefined);
  console.error(`    screenshot: ${file ?? 'failed'}\n    last console lines:\n      ${wb.consoleLog.slice(-15).join('\n      ')}`);
}

export class Workbench {
  /** Messages the page printed (console, page errors), for diagnosing failures. */
  readonly consoleLog: string[] = [];

  private constructor(
    readonly server: CodeServer,
    private readonly browser: BrowserSession,
  ) {
    browser.page.on('console', (m) => this.consoleLog.push(`[console.${m.type()}] ${m.text()}`));
    browser.page.on('pageerror', (e) => this.consoleLog.push(`[pageerror] ${e.stack ?? e.message}`));
  }

  get page(): Page {
    return this.browser.page;
  }

  static async open(opts: OpenOptions = {}): Promise<Workbench> {
    const theme = themeName(opts.theme ?? 'dark');
    const server = await startCodeServer({
      workspace: opts.workspace && path.resolve(REPO_ROOT, opts.workspace),
      settings: { 'workbench.colorTheme': theme, ...opts.settings },
      installExtensions: opts.vsix ? [opts.vsix] : undefined,
      env: opts.env,
      verbose: opts.verbose,
      keep: opts.keep,
    });
    let browser: BrowserSession | undefined;
    try {
      const light = /light/i.test(theme);
      browser = await launchBrowser(opts.viewport, light ? 'light' : 'dark');
      const wb = new Workbench(server, browser);
      const payload: Array<[string, string]> = [['skipWelcome', 'true']];
      if (opts.extension !== false && !opts.vsix) payload.unshift(['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)]);
      await browser.page.goto(server.workbenchUrl(payload));
      await wb.waitReady(opts.timeoutMs ?? 60_000);
      return wb;
    } catch (err) {
      await browser?.close();
      await server.stop();
      throw err;
    }
  }

  /** Waits until the workbench is laid out and connected to the server. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const page = this.page;
    await page.waitForSelector('.monaco-workbench .part.statusbar', { state: 'visible', timeout: timeoutMs });
    await page.waitForSelector('.monaco-workbench .part.editor', { state: 'visible', timeout: timeoutMs });
    await page.waitForSelector('.monaco-workbench .part.activitybar', { state: 'visible', timeout: timeoutMs });
    // The workbench first renders with a built-in default theme; the user's theme (settings.json on
    // the server) is applied a moment later and adds a vscode-theme-* class.
    await page.waitForSelector('.monaco-workbench[class*="vscode-theme-"]', { state: 'attached', timeout: timeoutMs });
  }

  /** F1: opens the command palette and waits for its input. */
  async openCommandPalette(): Promise<void> {
    const page = this.page;
    // focus the workbench (not a webview or terminal that would swallow F1)
    await page
      .locator('.monaco-workbench .part.statusbar')
      .click({ position: { x: 1, y: 1 } })
      .catch(() => undefined);
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget .quick-input-box input').waitFor({ state: 'visible', timeout: 10_000 });
  }

  /**
   * Runs a command by its title as shown in the palette ("View: Toggle Terminal"). Waits for the
   * exact title to be listed (extension commands appear once the extension host has registered the
   * contributions), clicks it, and waits for the palette to close.
   */
  async runCommand(title: string, timeoutMs = 20_000): Promise<void> {
    const page = this.page;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      await this.openCommandPalette();
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.fill(`>${title}`);
      const row = page
        .locator('.quick-input-widget .quick-input-list .monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) })
        .first();
      try {
        await row.waitFor({ state: 'visible', timeout: Math.max(1000, Math.min(5000, deadline - Date.now())) });
      } catch (err) {
        await page.keyboard.press('Escape');
        if (Date.now() >= deadline) {
          const listed = await page
            .locator('.quick-input-widget .quick-input-list .label-name')
            .allTextContents()
            .catch(() => []);
          throw new Error(`command "${title}" not found in the palette after ${attempt + 1} tries; listed: ${listed.join(' | ') || 'nothing'}`);
        }
        continue;
      }
      await row.click();
      // the palette closes, or the command reuses the quick input for its own picker
      await page
        .waitForFunction(
          () => {
            const widget = document.querySelector<HTMLElement>('.quick-input-widget');
            const input = widget?.querySelector<HTMLInputElement>('.quick-input-box input');
            return !widget || widget.style.display === 'none' || !input?.value.startsWith('>');
          },
          undefined,
          { timeout: 10_000 },
        )
        .catch(() => undefined);
      return;
    }
  }

  /** Opens a workspace file with Quick Open (Ctrl+P) and waits for its editor tab. */
  async openFile(relativePath: string): Promise<void> {
    const page = this.page;
    await page
      .locator('.monaco-workbench .part.statusbar')
      .click({ position: { x: 1, y: 1 } })
      .catch(() => undefined);
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(relativePath);
    const base = path.posix.basename(relativePath);
    const row = page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(base)}$`) }) })
      .first();
    await row.click({ timeout: 20_000 });
    await page
      // by resource name: a webview tab such as "Memory: orders.ts#processOrder" also contains the base name
      .locator(`.part.editor .tabs-container .tab.active[data-resource-name=${JSON.stringify(base)}]`)
      .waitFor({ state: 'visible', timeout: 20_000 });
  }

  /** The first row of the open quick pick whose label contains `text`. */
  quickPickRow(text: string): Locator {
    return this.page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: this.page.locator('.label-name', { hasText: text }) })
      .first();
  }

  /**
   * Waits for a webview (panel or view) whose title is `title` and returns the frame holding the
   * extension's HTML. VS Code nests two iframes: the outer `iframe.webview` (VS Code's host page)
   * and inside it `#active-frame`, which carries the title and the extension's document.
   *
   * With `readySelector`, also waits until that element is in the webview's document. VS Code may
   * reload a webview's frames (when its service worker is replaced), which detaches a frame found
   * earlier: a detached frame is looked up again until the deadline instead of failing the test.
   */
  async waitForWebview(title: string, timeoutMs = 30_000, readySelector?: string): Promise<Frame> {
    const page = this.page;
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      const seen: string[] = [];
      for (const outer of await page.locator('iframe.webview').elementHandles()) {
        try {
          const host = await outer.contentFrame();
          const inner = await host?.$('iframe#active-frame');
          if (!inner) continue;
          const innerTitle = (await inner.getAttribute('title')) ?? '';
          seen.push(innerTitle);
          if (innerTitle !== title) continue;
          const frame = await inner.contentFrame();
          if (!frame) continue;
          await frame.waitForLoadState('domcontentloaded');
          if (readySelector) {
            await frame
              .locator(readySelector)
              .first()
              .waitFor({ state: 'attached', timeout: Math.max(1, deadline - Date.now()) });
          }
          if (!frame.isDetached()) return frame;
        } catch (err) {
          // a frame detached by a reload, or the selector not there by the deadline: look again (or fail below)
          lastError = err instanceof Error ? err.message.split('\n')[0] : String(err);
        }
      }
      if (Date.now() >= deadline) {
        const waitedFor = readySelector ? ` showing ${readySelector}` : '';
        const last = lastError ? `; last error: ${lastError}` : '';
        throw new Error(
          `no webview titled "${title}"${waitedFor} within ${timeoutMs / 1000} s (webviews: ${seen.map((t) => `"${t}"`).join(', ') || 'none'}${last})`,
        );
      }
      await page.waitForTimeout(250);
    }
  }

  /** Switches the colour theme through "Preferences: Color Theme" ('light', 'dark' or a theme name). */
  async setTheme(theme: string): Promise<void> {
    const name = themeName(theme);
    const page = this.page;
    const themeClass = (): Promise<string> =>
      page.evaluate(() => (document.querySelector('.monaco-workbench')?.className ?? '').split(' ').find((c) => c.startsWith('vscode-theme-')) ?? '');
    const before = await themeClass();
    await this.runCommand('Preferences: Color Theme');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(name);
    // rows show a short label ("Light Modern") and the settings id ("Default Light Modern") as description
    const exact = new RegExp(`^${escapeRegExp(name)}$`);
    const row = page
      .locator('.quick-input-widget .quick-input-list .monaco-list-row')
      .filter({ has: page.locator('.label-name, .label-description', { hasText: exact }) })
      .first();
    await row.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 10_000 });
    // applied when the theme class changes (it stays if the theme was already the current one)
    await page
      .waitForFunction((prev) => !(document.querySelector('.monaco-workbench')?.className ?? '').split(' ').includes(prev), before, { timeout: 5_000 })
      .catch(() => undefined);
  }

  /** Current theme kind from the workbench's classes. */
  async themeKind(): Promise<'light' | 'dark' | 'high-contrast'> {
    return this.page.evaluate(() => {
      const c = document.querySelector('.monaco-workbench')?.classList;
      if (c?.contains('hc-black') || c?.contains('hc-light')) return 'high-contrast';
      return c?.contains('vs') ? 'light' : 'dark';
    });
  }

  /** Saves a PNG of the whole workbench into .test-artifacts/<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    const file = artifactPath(name.endsWith('.png') ? name : `${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Saves a PNG of one element (of the page or of a webview's frame) into .test-artifacts/<name>.png.
   * A live panel re-renders its tables as tasks arrive, which can replace the element between finding it
   * and drawing it (Playwright says "not attached to the DOM", or "not visible or not an HTMLElement"
   * when it caught the old node on its way out); such a screenshot is taken again from a fresh lookup.
   */
  async screenshotElement(frame: Frame | Page, selector: string, name: string): Promise<string> {
    const file = artifactPath(name.endsWith('.png') ? name : `${name}.png`);
    for (let attempt = 1; ; attempt++) {
      try {
        await frame.locator(selector).first().screenshot({ path: file });
        return file;
      } catch (error) {
        if (attempt >= 5 || !/not attached to the DOM|not visible or not an HTMLElement/.test(String(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250)); // let the render that replaced it finish
      }
    }
  }

  /**
   * The editor annotations of the editor showing `fileName`, each with its box: the text drawn after
   * lines (CSS `::after` content of empty spans) and the CodeLens texts above lines; and the box of
   * that editor's visible code area (the minimap and the scroll bar excluded).
   */
  async annotationBoxes(fileName: string): Promise<{ area: Box; marks: Array<Box & { text: string }>; lenses: Array<Box & { text: string }> }> {
    return this.page.evaluate((name) => {
      const groups = Array.from(document.querySelectorAll<HTMLElement>('.part.editor .editor-group-container'));
      const group = groups.find((g) => g.querySelector(`.tab.active[data-resource-name="${name}"]`));
      const editor = group?.querySelector<HTMLElement>('.monaco-editor');
      const scrollable = editor?.querySelector<HTMLElement>('.editor-scrollable');
      if (!editor || !scrollable) throw new Error(`no visible editor of ${name}`);
      const a = scrollable.getBoundingClientRect();
      const marks = Array.from(editor.querySelectorAll<HTMLElement>('.view-lines span'))
        .map((el) => ({ r: el.getBoundingClientRect(), content: getComputedStyle(el, '::after').content }))
        .filter(({ content }) => content && content !== 'none' && content !== 'normal' && content !== '""')
        .map(({ r, content }) => ({
          left: r.left,
          top: r.top,
          right: r.right,
          bottom: r.bottom,
          text: content
            .replace(/^"|"$/g, '')
            .replace(/\u00a0/g, ' ')
            .trim(),
        }))
        .filter((m) => m.text !== '');
      // A lens with a command is a link; one without (a holding line's text) a span; spans between them are separators.
      const lenses = Array.from(editor.querySelectorAll<HTMLElement>('.codelens-decoration > a, .codelens-decoration > span'))
        .map((el) => ({ r: el.getBoundingClientRect(), text: el.textContent ?? '' }))
        .filter(({ text }) => text.replace(/\u00a0/g, ' ').trim() !== '|')
        .map(({ r, text }) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom, text }));
      return { area: { left: a.left, top: a.top, right: a.right, bottom: a.bottom }, marks, lenses };
    }, fileName);
  }

  /** Closes the browser and stops code-server (by PID, whole process group). */
  async close(): Promise<void> {
    await this.browser.close();
    await this.server.stop();
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Renders the real panel page (dist/webview.js + the production HTML and CSP from
// src/extension/panel/html.ts) with synthetic data in headless Chromium, in light, dark and high
// contrast; saves PNGs into .test-artifacts/ and checks that hostile strings stay text.
// `node bench/webview/preview.mjs` (exit code 1 when a check fails).
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname, resolve, normalize, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { launchChromium } from './run.mjs';
import { THEMES } from './themes.mjs';
import { leakSnapshot, emptySnapshot, HOSTILE_IMG, HOSTILE_SCRIPT } from './fixtures.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const artifacts = join(repo, '.test-artifacts');

async function buildWebview() {
  // Same options as scripts/build.mjs uses for the webview entry.
  await esbuild.build({
    entryPoints: { webview: join(repo, 'src/webview/main.ts') },
    outdir: join(repo, 'dist'),
    bundle: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'browser',
    format: 'iife',
    loader: { '.css': 'css' },
    logLevel: 'warning',
  });
}

async function loadHtmlModule() {
  const out = await esbuild.build({ entryPoints: [join(repo, 'src/extension/panel/html.ts')], bundle: true, platform: 'node', format: 'esm', write: false });
  return import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
}

const STUB = `
(() => {
  const params = new URLSearchParams(location.search);
  const theme = JSON.parse(decodeURIComponent(params.get('theme') || '{}'));
  for (const [k, v] of Object.entries(theme.vars || {})) document.documentElement.style.setProperty(k, v);
  if (theme.bodyClass) document.body.classList.add(theme.bodyClass);
  window.__posted = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  // Like VS Code, state survives a reload of the page (kept in sessionStorage here).
  let state = sessionStorage.getItem('taskmemState') ? JSON.parse(sessionStorage.getItem('taskmemState')) : undefined;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    getState: () => state,
    setState: (s) => { state = s; sessionStorage.setItem('taskmemState', JSON.stringify(s)); return s; },
  });
})();
`;

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.html': 'text/html', '.map': 'application/json' };

/**
 * Serves the real panel page (fresh dist/webview.js, production HTML and CSP, the VS Code API stub)
 * on 127.0.0.1. Shared with test/reliability/webview-xss.test.ts. @returns {Promise<{base: string, close: () => void}>}
 */
export async function startPreviewServer() {
  await buildWebview(); // always fresh: the preview must show the current sources
  const { buildPanelHtml, makeNonce } = await loadHtmlModule();
  let nonce = makeNonce();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      nonce = makeNonce();
      const origin = `http://${req.headers.host}`;
      let html = buildPanelHtml({
        cspSource: origin,
        nonce,
        scriptUri: `${origin}/dist/webview.js`,
        styleUri: `${origin}/dist/webview.css`,
        codiconUri: `${origin}/media/codicons/codicon.css`,
        title: 'Memory: preview',
      });
      // The stub stands in for VS Code's own script; it carries the nonce like any allowed script.
      html = html.replace('<script nonce=', `<script nonce="${nonce}" src="/stub.js"></script>\n<script nonce=`);
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
      return;
    }
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end();
    if (url.pathname === '/stub.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(STUB);
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, '');
    if (!/^(dist|media)\//.test(rel)) return void res.writeHead(404).end();
    const file = join(repo, rel);
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

/** Opens the panel page in a theme; resolves once the webview posted `ready`. */
export async function openPanelPage(browser, base, themeName = 'dark', width = 1280) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(base + '?theme=' + encodeURIComponent(JSON.stringify(THEMES[themeName])));
  await page.waitForFunction(() => window.__posted?.some((m) => m.type === 'ready'));
  await page.evaluate(() => document.fonts.ready);
  return { page, errors };
}

/** Posts a host message to the page, as VS Code does. */
export const postToPanel = (page, msg) => page.evaluate((m) => window.postMessage(m, '*'), msg);
/** Two animation frames: the panel has rendered what it was sent. */
export const settlePanel = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

export async function renderPreviews() {
  const { base, close } = await startPreviewServer();
  mkdirSync(artifacts, { recursive: true });
  const browser = await launchChromium();
  const failures = [];
  const shots = [];
  try {
    const open = (themeName, width) => openPanelPage(browser, base, themeName, width);
    const post = postToPanel;
    const settle = settlePanel;

    for (const themeName of Object.keys(THEMES)) {
      const { page, errors } = await open(themeName);
      await post(page, { type: 'init', ...leakSnapshot() });
      await settle(page);
      // Expand the hostile site's stack and the first one.
      const toggles = page.locator('tr.site-row .icon-btn');
      await toggles.nth(0).click();
      await toggles.nth(2).click();
      await settle(page);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.waitForTimeout(150);
      const file = join(artifacts, `webview-${themeName}.png`);
      await page.screenshot({ path: file, fullPage: true });
      shots.push(file);
      const check = await page.evaluate(
        ([img, script]) => ({
          pwned: window.__taskmemPwned,
          pwned2: window.__taskmemPwned2,
          imgs: document.querySelectorAll('#app img').length,
          scripts: document.querySelectorAll('#app script').length,
          hasImgText: document.body.textContent.includes(img),
          hasScriptText: document.body.textContent.includes(script.slice(0, 30)),
          csp: window.__csp,
          codiconFont: document.fonts.check('16px codicon'),
          overflowX: document.documentElement.scrollWidth > document.documentElement.clientWidth,
        }),
        [HOSTILE_IMG, HOSTILE_SCRIPT],
      );
      // Clicking a location posts open-site with the file and line.
      await page.locator('tr.site-row button.link').first().click();
      const posted = await page.evaluate(() => window.__posted.filter((m) => m.type === 'open-site'));
      if (check.pwned !== undefined || check.pwned2 !== undefined) failures.push(`${themeName}: a script from data ran`);
      if (check.imgs || check.scripts) failures.push(`${themeName}: data became elements (${check.imgs} img, ${check.scripts} script)`);
      if (!check.hasImgText || !check.hasScriptText) failures.push(`${themeName}: hostile names are not shown as text`);
      if (check.csp.length) failures.push(`${themeName}: CSP violations: ${check.csp.join(', ')}`);
      if (!check.codiconFont) failures.push(`${themeName}: codicon font not loaded`);
      if (check.overflowX) failures.push(`${themeName}: horizontal overflow`);
      if (!posted.length || posted[0].line !== 42 || !posted[0].file.endsWith('src/templates/cache.ts'))
        failures.push(`${themeName}: open-site not posted: ${JSON.stringify(posted)}`);
      if (errors.length) failures.push(`${themeName}: page errors: ${errors.join('; ')}`);
      await page.close();
    }

    // Empty state, narrow; then a Node + Python session.
    {
      const { page, errors } = await open('dark', 760);
      await post(page, { type: 'init', ...emptySnapshot() });
      await settle(page);
      const file = join(artifacts, 'webview-empty-dark.png');
      await page.screenshot({ path: file, fullPage: true });
      shots.push(file);
      if (errors.length) failures.push(`empty: page errors: ${errors.join('; ')}`);
      await page.close();
    }
    {
      const { page, errors } = await open('light', 1100);
      await post(page, { type: 'init', ...leakSnapshot({ seconds: 300, python: true }) });
      await post(page, { type: 'reveal-site', key: leakSnapshot().sites[3].key });
      await settle(page);
      await page.waitForTimeout(300);
      await page.evaluate(() => window.scrollTo(0, 0));
      const file = join(artifacts, 'webview-python-light.png');
      await page.screenshot({ path: file, fullPage: true });
      shots.push(file);
      // Reload: the panel must come back from its persisted state before any init arrives.
      await page.evaluate(() => window.__taskmemPanel.persistNow());
      const bytes = await page.evaluate(() => sessionStorage.getItem('taskmemState').length);
      await page.reload();
      await page.waitForFunction(() => window.__posted?.some((m) => m.type === 'ready'));
      await settle(page);
      const restored = await page.evaluate(() => ({
        title: document.querySelector('.session-title')?.textContent,
        state: document.querySelector('.state-pill')?.textContent,
        sites: document.querySelectorAll('tr.site-row').length,
        tasks: document.querySelectorAll('.card table.data:not(.sites) tbody tr').length,
        canvas: !!document.querySelector('.uplot canvas'),
        rows: window.__taskmemPanel.chart.store.length,
      }));
      console.log(`persisted state ${Math.round(bytes / 1024)} KiB; after reload:`, JSON.stringify(restored));
      if (restored.sites !== 8 || restored.tasks !== 3 || !restored.canvas || restored.rows < 100 || restored.state !== 'Restored')
        failures.push(`restore after reload failed: ${JSON.stringify(restored)}`);
      if (errors.length) failures.push(`python: page errors: ${errors.join('; ')}`);
      await page.close();
    }
  } finally {
    await browser.close();
    close();
  }
  return { shots, failures };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { shots, failures } = await renderPreviews();
  for (const s of shots) console.log('wrote', s.replace(repo + '/', ''));
  if (failures.length) {
    console.error('FAILED:\n  ' + failures.join('\n  '));
    process.exitCode = 1;
  } else console.log('checks passed: hostile strings render as text, no script from data ran, no CSP violations, open-site posts file:line');
}

// Webview chart benchmark: append + redraw per frame with 36,000 points x 6 series, and a 300-run
// session live (its marks and the per-run chart), in headless
// Chromium. `node bench/webview/run.mjs [--quick]`; `runWebviewBench({quick})` for the suite runner.
import { mkdirSync, writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

/** Headless Debian chromium flags, shared with the VS Code tests (scripts/chromium-args.json). */
export const CHROMIUM_ARGS = JSON.parse(readFileSync(resolve(repo, 'scripts/chromium-args.json'), 'utf8'));

export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

const round = (v) => Math.round(v * 100) / 100;

/** @returns {Promise<{medianMs: number, p95Ms: number, frames: number}>} */
export async function runWebviewBench({ quick = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'taskmem-webview-bench-'));
  const browser = await launchChromium();
  try {
    await esbuild.build({
      entryPoints: { bench: join(here, 'entry.ts') },
      outdir: dir,
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      loader: { '.css': 'css' },
      logLevel: 'warning',
    });
    writeFileSync(
      join(dir, 'index.html'),
      '<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="stylesheet" href="bench.css"></head><body><script src="bench.js"></script></body></html>',
    );
    const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    const scenarios = [
      { name: 'hour-all-visible', rows: 36000, targets: 1, windowSec: 0 },
      { name: 'hour-follow-5min', rows: 36000, targets: 1, windowSec: 300 },
      ...(quick ? [] : [{ name: 'hour-3-targets-all-visible', rows: 36000, targets: 3, windowSec: 0 }]),
      // A 300-run harness session as it is watched live (about 45 s at 10 Hz): 1,500 marks and the
      // per-run chart redrawn after every run, on top of the statistics chart.
      { name: '300-runs-live', rows: 1, targets: 1, windowSec: 300, runs: 300, frames: 450 },
    ];
    const frames = quick ? 60 : 200;
    const results = {};
    for (const s of scenarios) {
      const r = await page.evaluate((o) => window.taskmemBench.run(o), {
        rows: s.rows,
        frames: s.frames ?? frames,
        runs: s.runs,
        width: 1200,
        height: 360,
        windowSec: s.windowSec,
        targets: s.targets,
      });
      const work = [...r.workMs].sort((a, b) => a - b);
      const fr = [...r.frameMs].sort((a, b) => a - b);
      results[s.name] = {
        rows: r.rows,
        series: r.series,
        renderedRows: r.renderedRows,
        frames: r.workMs.length,
        medianMs: round(quantile(work, 0.5)),
        p95Ms: round(quantile(work, 0.95)),
        maxMs: round(work[work.length - 1]),
        frameIntervalMedianMs: round(quantile(fr, 0.5)),
        frameIntervalP95Ms: round(quantile(fr, 0.95)),
      };
    }
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    const headline = results['hour-all-visible'];
    const out = {
      bench: 'webview-chart',
      date: new Date().toISOString(),
      chromium: browser.version(),
      quick,
      goal: { medianMs: 16 },
      note: 'work = append one row per target + min/max decimation + uPlot setData/draw + forced rasterisation (getImageData), per animation frame',
      scenarios: results,
    };
    const resultsDir = join(repo, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'webview.json'), JSON.stringify(out, null, 2) + '\n');
    return { medianMs: headline.medianMs, p95Ms: headline.p95Ms, frames: headline.frames, scenarios: results };
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const r = await runWebviewBench({ quick });
  for (const [name, s] of Object.entries(r.scenarios)) {
    console.log(
      `${name.padEnd(28)} ${String(s.rows)} rows x ${s.series} series → ${s.renderedRows} drawn; ` +
        `append+redraw median ${s.medianMs} ms, p95 ${s.p95Ms} ms, max ${s.maxMs} ms over ${s.frames} frames; frame interval median ${s.frameIntervalMedianMs} ms`,
    );
  }
  console.log(`goal median ≤ 16 ms: ${r.medianMs <= 16 ? 'met' : 'NOT met'} (bench/results/webview.json)`);
  void readFileSync;
}

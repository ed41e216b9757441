/**
 * Benchmark entry (bundled by bench/webview/run.mjs for headless Chromium): the chart module with
 * synthetic data. Exposes `window.taskmemBench.run(options)`.
 */
import 'uplot/dist/uPlot.min.css';
import { MemoryChart } from '../../src/webview/chart';
import type { HeapStatsPoint } from '../../src/core/model';

export interface BenchOptions {
  rows: number;
  frames: number;
  width: number;
  height: number;
  /** Visible window in seconds; 0 = everything (worst case). */
  windowSec: number;
  targets: number;
}

function point(i: number, targetId: string, k: number): HeapStatsPoint {
  const t = i * 100 + k * 7; // 10 Hz
  const base = 40e6 + i * 900 + k * 5e6;
  const saw = (i % 50) * 120e3;
  return {
    t,
    targetId,
    heapUsed: base + saw + Math.sin(i / 7) * 2e5,
    heapTotal: base * 1.4 + 8e6,
    rss: base * 2 + 60e6 + (i % 300) * 1e4,
    external: 3e6 + (i % 90) * 2e4,
    arrayBuffers: 1e6 + (i % 40) * 1e4,
    gcCollections: Math.floor(i / 30),
  };
}

async function run(o: BenchOptions): Promise<{ workMs: number[]; frameMs: number[]; series: number; rows: number; renderedRows: number }> {
  document.body.textContent = '';
  const legend = document.createElement('div');
  const box = document.createElement('div');
  document.body.append(legend, box);
  const chart = new MemoryChart(box, legend, { windowSec: o.windowSec, width: o.width, height: o.height });
  const ids = Array.from({ length: o.targets }, (_, k) => `t${k}`);
  const prefill: HeapStatsPoint[] = [];
  for (let i = 0; i < o.rows; i++) for (let k = 0; k < ids.length; k++) prefill.push(point(i, ids[k], k));
  chart.append(prefill);
  chart.renderNow();
  const u = (chart as unknown as { u: { ctx: CanvasRenderingContext2D; data: unknown[][] } }).u;
  const workMs: number[] = [];
  const frameMs: number[] = [];
  let i = o.rows;
  await new Promise<void>((resolve) => {
    let last = 0;
    const step = (ts: number): void => {
      if (last) frameMs.push(ts - last);
      last = ts;
      const t0 = performance.now();
      chart.append(ids.map((id, k) => point(i, id, k)));
      i++;
      chart.renderNow();
      u.ctx.getImageData(0, 0, 1, 1); // force rasterisation so the figure includes drawing
      workMs.push(performance.now() - t0);
      if (workMs.length >= o.frames) resolve();
      else requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  const renderedRows = u.data[0].length;
  chart.dispose();
  return { workMs, frameMs, series: chart.store.cols.length, rows: chart.store.length, renderedRows };
}

(window as unknown as { taskmemBench: unknown }).taskmemBench = { run };

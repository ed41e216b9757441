/**
 * Benchmark entry (bundled by bench/webview/run.mjs for headless Chromium): the chart modules with
 * synthetic data. Exposes `window.taskmemBench.run(options)`.
 */
import 'uplot/dist/uPlot.min.css';
import { MemoryChart } from '../../src/webview/chart';
import { RetainedChart } from '../../src/webview/retainedChart';
import type { HeapStatsPoint, SessionMark } from '../../src/core/model';
import type { PanelTask } from '../../src/shared/protocol';

export interface BenchOptions {
  rows: number;
  frames: number;
  width: number;
  height: number;
  /** Visible window in seconds; 0 = everything (worst case). */
  windowSec: number;
  targets: number;
  /**
   * A harness session of this many runs over the frames (one statistics row per frame, 10 Hz): each
   * run adds its marks (task start/end, a capture, two GCs) and redraws the per-run chart.
   */
  runs?: number;
}

/** The per-run chart's task row after `runs` measured runs of a leak of 16 KiB per run. */
function leakTask(runs: number): PanelTask {
  const x = Array.from({ length: runs }, (_, i) => i);
  const y = x.map((i) => i * 16384 + (i % 7) * 900);
  const half = Math.floor((runs - 1) / 2);
  return {
    name: 'leakJob',
    runs,
    bytesPerRun: 16384,
    verdict: { kind: 'leak', confidence: 1, summary: 'leakJob keeps 16 KiB per run', advice: '', evidence: [] },
    retained: { x, y },
    ...(runs > 2 ? { fitLine: { x: [half, runs - 1] as [number, number], y: [half * 16384, (runs - 1) * 16384] as [number, number] } } : {}),
  };
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
  let retained: RetainedChart | undefined;
  if (o.runs) {
    const card = document.createElement('section');
    const heading = document.createElement('h2');
    const hint = document.createElement('p');
    hint.className = 'retained-hint';
    const plot = document.createElement('div');
    plot.style.width = `${o.width}px`;
    const retainedLegend = document.createElement('div');
    card.append(heading, retainedLegend, plot, hint);
    document.body.prepend(card);
    retained = new RetainedChart(card, plot, retainedLegend);
  }
  let run = 0;
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
      if (o.runs && retained) {
        // The runs this frame finished (spread evenly over the frames), each with its marks.
        const due = Math.floor(((i - o.rows + 1) * o.runs) / o.frames);
        if (due > run) {
          const marks: SessionMark[] = [];
          for (; run < due; run++) {
            const t = i * 100;
            for (const kind of ['task-start', 'gc', 'task-end', 'gc', 'capture'] as const) marks.push({ t, targetId: ids[0], kind });
          }
          chart.addMarks(marks);
          retained.setTasks([leakTask(run)]);
        }
      }
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
  retained?.dispose();
  return { workMs, frameMs, series: chart.store.cols.length, rows: chart.store.length, renderedRows };
}

(window as unknown as { taskmemBench: unknown }).taskmemBench = { run };

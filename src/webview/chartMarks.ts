/**
 * Session marks on the statistics chart (GC, task start/end, captures, processes starting and
 * exiting). Few marks are drawn as full-height lines; marks that would crowd the plot (a 300-run
 * session has 300 of each) become short ticks along the time axis, at most one per two device
 * pixels, so the series stay readable: GC ticks at the bottom, tasks and captures at the top.
 */
import type uPlot from 'uplot';
import type { SessionMark, SessionMarkKind } from '../core/model';
import { cssVar, withAlpha, type ChartColors } from './chartStyle';

export const MARK_KINDS: { kind: SessionMarkKind; label: string }[] = [
  { kind: 'gc', label: 'GC' },
  { kind: 'task-start', label: 'Task start' },
  { kind: 'task-end', label: 'Task end' },
  { kind: 'capture', label: 'Capture' },
];

interface ChartMark {
  x: number;
  kind: SessionMarkKind;
}

/** A kind's lines become ticks once there are more than one per this many CSS pixels of plot. */
const SPARSE_PX = 24;

type Band = 'full' | 'top' | 'bottom';
interface MarkStyle {
  color: string;
  dash: number[];
  w: number;
  band: Band;
  /** Tick length in CSS pixels when drawn as a tick. */
  tick: number;
}

/** Marks in time order (seconds since the session started). */
export class ChartMarks {
  private marks: ChartMark[] = [];

  get length(): number {
    return this.marks.length;
  }

  add(marks: readonly SessionMark[]): void {
    let sorted = true;
    for (const m of marks) {
      const x = m.t / 1000;
      if (this.marks.length && x < this.marks[this.marks.length - 1].x) sorted = false;
      this.marks.push({ x, kind: m.kind });
    }
    if (!sorted) this.marks.sort((a, b) => a.x - b.x);
  }

  clear(): void {
    this.marks = [];
  }

  /** Draws the marks in u's visible x range; `hidden` holds `mark:<kind>` ids the user turned off. */
  draw(u: uPlot, colors: ChartColors, hidden: ReadonlySet<string>): void {
    if (!this.marks.length) return;
    const x0 = u.scales.x.min;
    const x1 = u.scales.x.max;
    if (x0 == null || x1 == null) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const green = cssVar('--vscode-charts-green', '#89d185');
    const styles: Record<SessionMarkKind, MarkStyle> = {
      gc: { color: withAlpha(colors.muted, 0.7), dash: [], w: 1, band: 'bottom', tick: 7 },
      'task-start': { color: withAlpha(green, 0.55), dash: [], w: 1, band: 'full', tick: 7 },
      'task-end': { color: withAlpha(green, 0.55), dash: [3, 3], w: 1, band: 'full', tick: 4 },
      capture: { color: cssVar('--vscode-charts-purple', '#b180d7'), dash: [2, 2], w: 2, band: 'full', tick: 10 },
      'target-start': { color: withAlpha(colors.fg, 0.6), dash: [4, 4], w: 1, band: 'full', tick: 0 },
      'target-exit': { color: withAlpha(colors.fg, 0.6), dash: [4, 4], w: 1, band: 'full', tick: 0 },
    };
    const dpr = window.devicePixelRatio || 1;
    const start = lowerBound(this.marks, x0);
    const visible = new Map<SessionMarkKind, number>();
    for (let i = start; i < this.marks.length && this.marks[i].x <= x1; i++) {
      const kind = this.marks[i].kind;
      visible.set(kind, (visible.get(kind) ?? 0) + 1);
    }
    // Task start and end go to ticks together (their count is the same), captures on their own count.
    const crowded = (n: number) => n > width / (SPARSE_PX * dpr);
    if (crowded(visible.get('task-start') ?? 0) || crowded(visible.get('task-end') ?? 0)) {
      styles['task-start'].band = styles['task-end'].band = 'top';
    }
    if (crowded(visible.get('capture') ?? 0)) Object.assign(styles.capture, { band: 'top', w: 1, color: withAlpha(styles.capture.color, 0.7) });
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const kind of Object.keys(styles) as SessionMarkKind[]) {
      if (hidden.has(`mark:${kind}`) || !visible.get(kind)) continue;
      const st = styles[kind];
      ctx.strokeStyle = st.color;
      ctx.lineWidth = st.w * dpr;
      // Ticks are solid: a dash pattern on a 4-pixel tick reads as noise.
      ctx.setLineDash(st.band === 'full' ? st.dash.map((d) => d * dpr) : []);
      const tick = st.tick * dpr;
      const y0 = st.band === 'bottom' ? top + height - tick : top;
      const y1 = st.band === 'top' ? top + tick : top + height;
      ctx.beginPath();
      let lastPx = -Infinity;
      for (let i = start; i < this.marks.length; i++) {
        const m = this.marks[i];
        if (m.x > x1) break;
        if (m.kind !== kind) continue;
        const px = Math.round(u.valToPos(m.x, 'x', true)) + 0.5;
        if (px - lastPx < 2 * dpr) continue; // at most one line per two device pixels
        lastPx = px;
        ctx.moveTo(px, y0);
        ctx.lineTo(px, y1);
      }
      ctx.stroke();
    }
    ctx.restore();
  }
}

function lowerBound(marks: readonly ChartMark[], x: number): number {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (marks[mid].x < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

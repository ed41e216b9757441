/**
 * The picture of a worker's verdict for the panel: the retained heap after each full GC against the
 * tasks finished by then, per process, and the growth the verdict rows stand on as a line over the
 * later half. Pure: draws what the tracker measured and the rows say, fits nothing of its own.
 */
import { median } from '../../core/robust';
import type { Checkpoint } from '../../core/workerTrend';
import { RETAINED_POINTS, type PanelTask, type PanelWorkerTrend, type TargetInfo } from '../../shared/protocol';

/** Processes drawn (a prefork pool has one per child; their lines would crowd the chart). */
const MAX_PROCESSES = 4;
/** Checkpoints a process needs before its line means anything (the tracker's trend needs as many). */
const MIN_CHECKPOINTS = 5;
/** How the tracker names a row of task names judged together. */
const GROUP_SEPARATOR = ' + ';

const finished = (p: Checkpoint): number => Object.values(p.counts).reduce((a, b) => a + b, 0);

/** Growth per task of each name, from the rows: a row of names judged together stands for each of them. */
function growthByName(tasks: readonly PanelTask[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of tasks) if (!t.name.includes(GROUP_SEPARATOR)) out.set(t.name, t.bytesPerRun);
  for (const t of tasks) if (t.name.includes(GROUP_SEPARATOR)) for (const name of t.name.split(GROUP_SEPARATOR)) out.set(name, t.bytesPerRun);
  return out;
}

export function workerTrendPicture(
  checkpoints: ReadonlyMap<string, readonly Checkpoint[]>,
  tasks: readonly PanelTask[],
  targets: readonly TargetInfo[] = [],
): PanelWorkerTrend | undefined {
  const growth = growthByName(tasks);
  const processes: PanelWorkerTrend['processes'] = [];
  const usable = [...checkpoints].filter(([, points]) => points.length >= MIN_CHECKPOINTS && finished(points[points.length - 1]) > finished(points[0]));
  // The processes that did the most tasks: a pool's idle children say little.
  usable.sort((a, b) => finished(b[1][b[1].length - 1]) - finished(a[1][a[1].length - 1]));
  for (const [targetId, points] of usable.slice(0, MAX_PROCESSES)) {
    const base = points[0].heap;
    const stride = Math.ceil(points.length / RETAINED_POINTS);
    const shown = points.filter((_, i) => i % stride === 0 || i === points.length - 1);
    const target = targets.find((t) => t.id === targetId);
    const label = target ? `pid ${target.pid}` : targetId;
    const entry: PanelWorkerTrend['processes'][number] = { label, x: shown.map(finished), y: shown.map((p) => p.heap - base) };
    // The later half by tasks finished, as the verdict judges it.
    const first = finished(points[0]);
    const total = finished(points[points.length - 1]);
    const later = points.slice(
      Math.max(
        0,
        points.findIndex((p) => finished(p) >= (first + total) / 2),
      ),
    );
    const a = later[0];
    const b = later[later.length - 1];
    const done = finished(b) - finished(a);
    const names = Object.keys(b.counts).filter((name) => growth.has(name));
    if (done > 0 && later.length >= 2 && names.length > 0) {
      // The rows' growth per task of each name, weighted by the name's share of this process's later tasks.
      const perTask = names.reduce((sum, name) => sum + growth.get(name)! * ((b.counts[name] ?? 0) - (a.counts[name] ?? 0)), 0) / done;
      const xMid = median(later.map(finished));
      const yMid = median(later.map((p) => p.heap - base));
      const at = (x: number): number => yMid + perTask * (x - xMid);
      entry.perTask = perTask;
      entry.fitLine = { x: [finished(a), finished(b)], y: [at(finished(a)), at(finished(b))] };
    }
    processes.push(entry);
  }
  return processes.length ? { processes } : undefined;
}

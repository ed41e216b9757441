/** The panel's task table: one row per task name, heaviest growth first. */
import type { ProgressUnit } from '../core/format';
import type { PanelTask } from '../shared/protocol';
import { h } from './dom';
import { formatBytes, formatBytesPerRun, truncate } from './format';
import { verdictBadge } from './verdictLook';

/** The table and its rows by task name (the editor's "reveal task" flashes one). */
export function tasksTable(tasks: readonly PanelTask[], unit: ProgressUnit): { table: HTMLElement; rows: Map<string, HTMLTableRowElement> } {
  const table = h('table', { class: 'data' }, h('caption', { class: 'visually-hidden' }, 'Tasks: runs, bytes kept per run, growth and verdict'));
  table.append(
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col' }, 'Task'),
        h('th', { scope: 'col', class: 'num' }, 'Runs'),
        h(
          'th',
          {
            scope: 'col',
            class: 'num',
            title:
              'Median bytes a measured run allocated and still kept after a full GC (Python workers: traced tasks; Node workers: —, since a task measured inside the worker reads a steady offset, and Growth decides)',
          },
          'Kept / run',
        ),
        h(
          'th',
          {
            scope: 'col',
            class: 'num',
            title:
              'Growth of retained memory per run: over the later runs (harness), or from the trend of the retained heap after each full GC against the tasks finished (workers)',
          },
          'Growth',
        ),
        h('th', { scope: 'col' }, 'Verdict'),
      ),
    ),
  );
  const body = h('tbody');
  const rows = new Map<string, HTMLTableRowElement>();
  for (const t of [...tasks].sort((a, b) => b.bytesPerRun - a.bytesPerRun)) {
    const runs =
      t.sampledRuns !== undefined && t.sampledRuns !== t.runs
        ? `${t.runs.toLocaleString('en-US')} (${t.sampledRuns} measured)`
        : t.runs.toLocaleString('en-US');
    const row = body.appendChild(
      h(
        'tr',
        null,
        h('td', { class: 'name', title: t.name }, truncate(t.name, 80)),
        h('td', { class: 'num' }, runs),
        h('td', { class: 'num' }, t.keptPerRun === undefined ? '—' : formatBytes(t.keptPerRun)),
        growthCell(t, unit),
        h('td', null, verdictBadge(t.verdict)),
      ),
    );
    rows.set(t.name, row);
  }
  table.append(body);
  return { table, rows };
}

/** Errors within which a growth figure cannot be told from none: the cell then shows its error too. */
const INDISTINCT_ERRORS = 3;

/**
 * The growth figure, with its error where the figure cannot be told from none: a clean worker task's
 * "+570 B/task" beside "No leak" read as growth where it was the trend's noise (an attached worker
 * of 81 tasks of that name).
 */
function growthCell(t: PanelTask, unit: ProgressUnit): HTMLElement {
  const figure = formatBytesPerRun(t.bytesPerRun, unit);
  const err = t.growthStdErr;
  const notes = [
    ...(err !== undefined ? [`${figure} ± ${formatBytes(err)} (standard error)`] : []),
    ...(t.rSquared !== undefined ? [`R² = ${t.rSquared.toFixed(2)}`] : []),
  ];
  const indistinct = err !== undefined && err > 0 && Math.abs(t.bytesPerRun) < INDISTINCT_ERRORS * err;
  return h('td', { class: 'num', title: notes.length ? notes.join(' · ') : undefined }, indistinct ? `${figure} ± ${formatBytes(err)}` : figure);
}

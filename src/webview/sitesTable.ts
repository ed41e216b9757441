/** The panel's retaining sites: the heaviest first, each with its allocation stacks behind a toggle. */
import type { PanelSite } from '../shared/protocol';
import { clear, h, icon } from './dom';
import { displayFunction, formatBytes, formatBytesPerRun, formatShare, shortPath, truncate } from './format';

/** Sites listed at most; the rest are counted under the table. */
export const MAX_SITES_SHOWN = 50;

export interface SitesTableOptions {
  /** A worker's sites grow per task of any name (captures know only the tasks finished), not per run of one task. */
  perTask: boolean;
  /** Keys of the sites whose stacks are open; kept up to date as the user toggles them. */
  expanded: Set<string>;
  /** A link that opens a file at a line. */
  locationLink: (file: string, line: number) => HTMLElement;
}

/** The table and its rows by site key (the editor's "reveal site" flashes one). */
export function sitesTable(sites: readonly PanelSite[], options: SitesTableOptions): { table: HTMLElement; rows: Map<string, HTMLTableRowElement> } {
  const { perTask, expanded } = options;
  const table = h('table', { class: 'data sites' }, h('caption', { class: 'visually-hidden' }, 'Top retaining sites'));
  table.append(
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col', class: 'expander' }, h('span', { class: 'visually-hidden' }, 'Stack')),
        h('th', { scope: 'col' }, 'Function'),
        h('th', { scope: 'col' }, 'Location'),
        h('th', { scope: 'col', class: 'num' }, 'Retained'),
        h('th', { scope: 'col', class: 'share-col' }, 'Share'),
        perTask
          ? h(
              'th',
              {
                scope: 'col',
                class: 'num',
                title: "Growth of this site per task finished, of any name: the sites together grow about as fast as the worker's heap",
              },
              'Per task',
            )
          : h('th', { scope: 'col', class: 'num', title: 'Growth of this site per measured run' }, 'Per run'),
      ),
    ),
  );
  const body = h('tbody');
  const rows = new Map<string, HTMLTableRowElement>();
  const sorted = [...sites].sort((a, b) => b.retainedBytes - a.retainedBytes).slice(0, MAX_SITES_SHOWN);
  sorted.forEach((s, i) => {
    const detailId = `site-detail-${i}`;
    const open = expanded.has(s.key);
    const toggle = h(
      'button',
      { type: 'button', class: 'icon-btn', 'aria-expanded': String(open), 'aria-controls': detailId, title: 'Show the allocation stack' },
      icon(open ? 'chevron-down' : 'chevron-right'),
      h('span', { class: 'visually-hidden' }, `Allocation stack of ${displayFunction(s.function)}`),
    );
    const fn = displayFunction(s.function);
    const shareBar = h('span', { class: 'share-bar', 'aria-hidden': 'true' }, h('span', { class: 'share-fill' }));
    (shareBar.firstChild as HTMLElement).style.width = `${Math.max(1, Math.min(100, s.share * 100)).toFixed(1)}%`;
    const row = h(
      'tr',
      { class: 'site-row' },
      h('td', { class: 'expander' }, toggle),
      h(
        'td',
        { class: 'name', title: fn },
        h('code', null, truncate(fn, 60)),
        s.category !== 'user' ? h('span', { class: `chip chip-${s.category}` }, s.category) : null,
        s.precision === 'function'
          ? h('span', { class: 'chip chip-precision', title: 'Node attributes allocations per function: the line is where the function starts' }, 'fn')
          : null,
      ),
      h('td', { class: 'loc' }, options.locationLink(s.file, s.line)),
      h('td', { class: 'num' }, formatBytes(s.retainedBytes)),
      h('td', { class: 'share-col' }, shareBar, h('span', { class: 'share-text' }, formatShare(s.share))),
      h('td', { class: 'num' }, s.bytesPerRun === undefined ? '—' : formatBytesPerRun(s.bytesPerRun, perTask ? 'task' : 'run')),
    );
    rows.set(s.key, row);
    const detail = h('tr', { class: 'site-detail', id: detailId }, h('td', { colspan: 6 }, stackView(s, options.locationLink)));
    detail.hidden = !open;
    toggle.addEventListener('click', () => {
      const nowOpen = detail.hidden;
      detail.hidden = !nowOpen;
      toggle.setAttribute('aria-expanded', String(nowOpen));
      clear(toggle);
      toggle.append(icon(nowOpen ? 'chevron-down' : 'chevron-right'), h('span', { class: 'visually-hidden' }, `Allocation stack of ${fn}`));
      if (nowOpen) expanded.add(s.key);
      else expanded.delete(s.key);
    });
    body.append(row, detail);
  });
  table.append(body);
  return { table, rows };
}

function stackView(s: PanelSite, locationLink: (file: string, line: number) => HTMLElement): HTMLElement {
  const box = h('div', { class: 'stacks' });
  if (!s.stacks.length) {
    box.append(h('p', { class: 'muted' }, 'No stack recorded for this site.'));
    return box;
  }
  s.stacks.forEach((st, i) => {
    const ol = h('ol', { class: 'stack' });
    for (const f of st.frames) {
      ol.append(
        h(
          'li',
          { class: `frame frame-${f.category}` },
          h('code', { class: 'frame-fn', title: displayFunction(f.function) }, truncate(displayFunction(f.function), 70)),
          ' ',
          f.file ? locationLink(f.file, f.line) : h('span', { class: 'muted' }, '(native)'),
        ),
      );
    }
    box.append(h('div', { class: 'stack-head' }, `Stack ${i + 1} · ${formatBytes(st.bytes)}`, h('span', { class: 'muted' }, ' · innermost first')), ol);
  });
  box.append(h('p', { class: 'muted small', title: s.file }, shortPath(s.file) === s.file ? '' : s.file));
  return box;
}

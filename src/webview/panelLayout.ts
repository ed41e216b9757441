/**
 * The panel's layout: toolbar, verdict banner, the charts' cards, the task table, "why it is kept"
 * and the retaining sites, built once. The app fills them; what the user does goes to `actions`.
 */
import type { PanelCommand } from '../shared/protocol';
import { h, icon } from './dom';

/** The elements the app renders into. */
export interface PanelElements {
  title: HTMLElement;
  statePill: HTMLElement;
  buttons: Record<'stop' | 'capture' | 'gc' | 'why' | 'export', HTMLButtonElement>;
  banner: HTMLElement;
  warnings: HTMLElement;
  pause: HTMLButtonElement;
  follow: HTMLButtonElement;
  windowSelect: HTMLSelectElement;
  viewStatus: HTMLElement;
  tasks: HTMLElement;
  taskCount: HTMLElement;
  sites: HTMLElement;
  siteCount: HTMLElement;
  whyCard: HTMLElement;
  whyBody: HTMLElement;
}

export interface PanelActions {
  command(command: PanelCommand): void;
  togglePause(): void;
  follow(): void;
  windowChanged(minutes: number): void;
}

export interface PanelLayout {
  el: PanelElements;
  chartBox: HTMLElement;
  legend: HTMLElement;
  retainedCard: HTMLElement;
  retainedBox: HTMLElement;
  retainedLegend: HTMLElement;
}

export function buildPanelLayout(root: HTMLElement, windowMinutes: number, actions: PanelActions): PanelLayout {
  const button = (command: PanelCommand, codicon: string, label: string, title: string, primary = false): HTMLButtonElement => {
    const b = h('button', { type: 'button', class: primary ? 'btn btn-primary' : 'btn', title }, icon(codicon), h('span', null, label));
    b.addEventListener('click', () => actions.command(command));
    return b;
  };
  const buttons = {
    stop: button('stop', 'debug-stop', 'Stop', 'Stop profiling and end the launched processes'),
    capture: button('capture', 'record', 'Capture Retained Now', 'Collect garbage and capture what is still retained', true),
    gc: button('gc', 'trash', 'Collect Garbage', 'Run a full garbage collection in every target'),
    why: button(
      'why',
      'references',
      'Why Is It Kept?',
      'First press: read the heap. Next press: explain what the tasks since kept and the lines that hold it. Each reading pauses the process.',
    ),
    export: button('export', 'export', 'Export', 'Save the report and the retained heap profile'),
  };
  const title = h('h1', { class: 'session-title' });
  const statePill = h('span', { class: 'state-pill', role: 'status' });
  const banner = h('section', { class: 'banner', 'aria-live': 'polite', 'aria-label': 'Verdict' });
  const warnings = h('div', { class: 'warnings', 'aria-live': 'polite' });

  const pause = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false' });
  pause.addEventListener('click', () => actions.togglePause());
  const follow = h(
    'button',
    { type: 'button', class: 'btn btn-small', title: 'Follow the newest data (double-click the chart does the same)' },
    icon('pinned'),
    h('span', null, 'Follow'),
  );
  follow.addEventListener('click', () => actions.follow());
  const windowSelect = h('select', { class: 'select', 'aria-label': 'Time window while following' });
  for (const [v, text] of [
    ['1', 'Last 1 min'],
    ['5', 'Last 5 min'],
    ['15', 'Last 15 min'],
    ['60', 'Last hour'],
    ['0', 'Everything'],
  ] as const) {
    windowSelect.append(h('option', { value: v }, text));
  }
  windowSelect.value = String(windowMinutes);
  windowSelect.addEventListener('change', () => actions.windowChanged(Number(windowSelect.value)));
  const viewStatus = h('span', { class: 'view-status', role: 'status' });

  const chartBox = h('div', { class: 'chart' });
  const retainedBox = h('div', { class: 'retained-chart' });
  const retainedLegend = h('div', { class: 'legend retained-legend', role: 'group', 'aria-label': 'Tasks drawn' });
  const retainedCard = h(
    'section',
    { class: 'card retained-card', 'aria-labelledby': 'retained-heading' },
    h('div', { class: 'card-head' }, h('h2', { id: 'retained-heading' }, 'Kept after each run')),
    retainedLegend,
    retainedBox,
    h('p', { class: 'hint retained-hint' }),
  );
  retainedCard.hidden = true;
  const whyBody = h('div', { class: 'why-wrap' });
  const whyCard = h(
    'section',
    { class: 'card why-card', 'aria-labelledby': 'why-heading' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { id: 'why-heading' }, 'Why it is kept'),
      h('span', { class: 'card-note' }, 'the references that hold what the runs kept'),
    ),
    whyBody,
  );
  whyCard.hidden = true;
  const legend = h('div', { class: 'legend', role: 'group', 'aria-label': 'Series (click to hide or show)' });
  const tasks = h('div', { class: 'table-wrap' });
  const sites = h('div', { class: 'table-wrap' });
  const taskCount = h('span', { class: 'count' });
  const siteCount = h('span', { class: 'count' });

  root.append(
    h(
      'header',
      { class: 'toolbar' },
      h('div', { class: 'toolbar-title' }, icon('pulse'), title, statePill),
      h(
        'div',
        { class: 'toolbar-actions', role: 'toolbar', 'aria-label': 'Session actions' },
        buttons.stop,
        buttons.capture,
        buttons.gc,
        buttons.why,
        buttons.export,
      ),
    ),
    banner,
    warnings,
    retainedCard,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'chart-heading' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', { id: 'chart-heading' }, 'Memory over time'),
        h('div', { class: 'chart-controls' }, viewStatus, windowSelect, pause, follow),
      ),
      legend,
      chartBox,
      h('p', { class: 'hint' }, 'Drag across the chart to zoom, double-click to follow again. Vertical lines mark GC, task start/end and captures.'),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'tasks-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'tasks-heading' }, 'Tasks ', taskCount)),
      tasks,
    ),
    whyCard,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sites-heading' },
      h(
        'div',
        { class: 'card-head' },
        h('h2', { id: 'sites-heading' }, 'Top retaining sites ', siteCount),
        h('span', { class: 'card-note' }, 'still reachable after a full GC'),
      ),
      sites,
    ),
  );
  return {
    el: { title, statePill, buttons, banner, warnings, pause, follow, windowSelect, viewStatus, tasks, taskCount, sites, siteCount, whyCard, whyBody },
    chartBox,
    legend,
    retainedCard,
    retainedBox,
    retainedLegend,
  };
}

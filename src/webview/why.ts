/**
 * "Why it is kept": per task whose kept memory is worth explaining, the retainer groups as chains
 * (root, the holder, the entries it gained), their growth, and a link to the line that stores into the
 * holder. Path steps and names come from the profiled program: they go into text nodes only.
 */
import type { ProgressUnit } from '../core/format';
import { explainsVerdict, formatEntries } from '../core/why/describe';
import type { RetainerGroup, SessionWhy, WhyRetained } from '../core/why/model';
import type { PanelTask } from '../shared/protocol';
import { h, icon } from './dom';
import { formatBytes, formatBytesPerRun, shortPath } from './format';

/** Groups shown per task (the report has up to eight). */
const GROUPS_SHOWN = 3;

export type LocationLink = (file: string, line: number, label: string) => HTMLElement;

function chain(group: RetainerGroup): HTMLElement {
  const list = h('ol', { class: 'why-path', 'aria-label': 'What holds it, from the root down' });
  group.path.forEach((step, i) => {
    const edge = i === 0 && step.edge === '' ? null : h('span', { class: 'why-edge' }, step.edge);
    list.append(h('li', { class: `why-step why-${step.kind}` }, edge, h('span', { class: 'why-holder' }, step.holder)));
  });
  return list;
}

function groupItem(group: RetainerGroup, unit: ProgressUnit, link: LocationLink): HTMLElement {
  const figures = h(
    'p',
    { class: 'why-figures' },
    h('strong', null, formatBytesPerRun(group.bytesPerRun, unit)),
    ` · ${formatEntries(group.entriesPerRun)} per ${unit} · ${formatBytes(group.bytes)} in ${group.objects.toLocaleString('en-US')} objects`,
  );
  const line = group.holdingLine;
  const holding = line
    ? h(
        'p',
        { class: 'why-line' },
        icon('arrow-right'),
        ' Stored by ',
        link(line.file, line.line, `${line.operation} (${shortPath(line.file)}:${line.line})`),
        line.confidence === 'exact' ? '' : h('span', { class: 'muted' }, ` likely: ${line.candidates} statements store there`),
      )
    : h('p', { class: 'why-line muted' }, 'No line of the task’s code stores into this holder (a library’s or the runtime’s).');
  return h('li', { class: 'why-group' }, figures, chain(group), holding);
}

/** The groups of one explanation, at most GROUPS_SHOWN, or a line saying there are none. */
function groupsOf(why: WhyRetained, unit: ProgressUnit, link: LocationLink): HTMLElement {
  if (why.groups.length === 0)
    return h('p', { class: 'muted' }, `No holder gained entries steadily over the ${unit}s: what was kept is spread thin, or is the runtime’s own.`);
  const list = h('ul', { class: 'why-groups' });
  for (const group of why.groups.slice(0, GROUPS_SHOWN)) list.append(groupItem(group, unit, link));
  return list;
}

/** The section's content, or undefined when there is nothing to explain (yet). */
export function whyContent(tasks: readonly PanelTask[], unit: ProgressUnit, link: LocationLink, sessionWhy?: SessionWhy): HTMLElement | undefined {
  const explained = tasks.filter((t) => t.why && explainsVerdict(t.verdict.kind));
  if (explained.length === 0 && !sessionWhy) return undefined;
  const body = h('div', { class: 'why-body' });
  if (sessionWhy) {
    body.append(
      groupsOf(sessionWhy, unit, link),
      h(
        'p',
        { class: 'hint' },
        `Objects the ${sessionWhy.tasks.toLocaleString('en-US')} tasks finished between two readings of pid ${sessionWhy.pid}’s heap added and still hold, grouped by the references that keep them (all task names together). The second reading paused the process ${Math.round(sessionWhy.pauseMs)} ms${sessionWhy.truncated ? ` (${sessionWhy.truncated})` : ''}.`,
      ),
    );
  }
  for (const task of explained) {
    const why = task.why!;
    if (explained.length > 1) body.append(h('h3', { class: 'why-task' }, task.name));
    body.append(groupsOf(why, unit, link));
    if (why.groups.length === 0) continue;
    body.append(
      h(
        'p',
        { class: 'hint' },
        `Objects that ${why.runs} ${unit}s added and still hold, grouped by the references that keep them. Reading the heap paused the process ${Math.round(why.pauseMs)} ms${why.truncated ? ` (${why.truncated})` : ''}.`,
      ),
    );
  }
  return body;
}

/** The recycling advisor's section of the panel: figures, the lines to paste, warnings, what it does not fix. */
import type { RecyclingAdvice } from '../core/recyclingAdvisor';
import { h, icon } from './dom';
import { formatBytes } from './format';

const SOURCE: Record<RecyclingAdvice['limitSource'], string> = {
  setting: 'your limit',
  cgroup: 'cgroup limit per child',
  'ram-per-child': 'RAM per child',
};

/** Every string here is built from numbers and our own text, but goes through text nodes all the same. */
export function recyclingSection(advice: RecyclingAdvice): HTMLElement {
  const figures = h(
    'p',
    { class: 'recycling-figures' },
    `Fresh child ${formatBytes(advice.freshRssBytes)} · the worker grows ${formatBytes(advice.growthPerTaskBytes)} per task · worst task +${formatBytes(advice.worstTaskBytes)} · limit ${formatBytes(advice.limitBytes)} (${SOURCE[advice.limitSource]})`,
  );
  const body = h('div', { class: 'recycling-body' }, figures);
  if (advice.pace) body.append(h('p', { class: 'recycling-pace' }, `That is ${advice.pace}.`));
  if (advice.lines.length) body.append(h('pre', { class: 'recycling-lines' }, advice.lines.join('\n')));
  for (const warning of advice.warnings) body.append(h('p', { class: 'warning' }, icon('warning'), h('span', null, warning)));
  body.append(h('p', { class: 'recycling-note' }, advice.note));
  const title =
    advice.maxTasksPerChild !== undefined
      ? `Recycling advice: a child every ${advice.maxTasksPerChild.toLocaleString('en-US')} tasks`
      : advice.maxMemoryPerChildKiB !== undefined
        ? `Recycling advice: a child above ${formatBytes(advice.maxMemoryPerChildKiB * 1024)}`
        : 'Recycling advice: no limit fits';
  return h('details', { class: 'recycling' }, h('summary', null, icon('refresh'), ` ${title}`), body);
}

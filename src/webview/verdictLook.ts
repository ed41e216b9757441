/** How a verdict looks in the panel: its label, its codicon and the badge that shows both. */
import type { Verdict, VerdictKind } from '../core/model';
import { h, icon } from './dom';

interface VerdictLook {
  label: string;
  icon: string;
}

export const VERDICT_LOOK: Record<VerdictKind, VerdictLook> = {
  leak: { label: 'Leak', icon: 'error' },
  plateau: { label: 'Plateau', icon: 'warning' },
  'no-leak': { label: 'No leak', icon: 'pass' },
  'allocator-high-water': { label: 'Allocator high water', icon: 'info' },
  inconclusive: { label: 'Inconclusive', icon: 'question' },
};

export function verdictBadge(v: Verdict): HTMLElement {
  const look = VERDICT_LOOK[v.kind] ?? VERDICT_LOOK.inconclusive;
  return h(
    'span',
    { class: `badge badge-${v.kind}`, title: `${v.summary} (${Math.round(v.confidence * 100)}% confidence)` },
    icon(look.icon),
    h('span', null, look.label),
  );
}

/** The banner of a session that failed: what went wrong in the user's terms, and a link to their line. */
import type { PanelFailure } from '../shared/protocol';
import { h, icon } from './dom';

/** Sets the banner's look and returns its content: icon, summary, the line to open, the user's frames. */
export function failureBanner(banner: HTMLElement, failure: PanelFailure, openSite: (file: string, line: number) => void, worker = false): HTMLElement[] {
  banner.className = 'banner banner-failed';
  const body = h(
    'div',
    { class: 'banner-body' },
    h('p', { class: 'banner-title' }, h('strong', null, 'Failed')),
    h('p', { class: 'banner-summary failure-summary' }, failure.summary),
  );
  const location = failure.location;
  if (location) {
    const name = location.file.split(/[\\/]/).pop() ?? location.file;
    const open = h(
      'button',
      { type: 'button', class: 'btn btn-small failure-open', title: `${location.file}:${location.line}` },
      icon('go-to-file'),
      ` Open ${name}:${location.line}`,
    );
    open.addEventListener('click', () => openSite(location.file, location.line));
    body.append(h('p', null, open));
  }
  if (failure.frames.length > 1) {
    const list = h('ul', { class: 'evidence' });
    for (const frame of failure.frames) list.append(h('li', null, frame));
    body.append(h('details', { class: 'evidence-details' }, h('summary', null, `Your code's frames (${failure.frames.length})`), list));
  }
  // A worker printed into its own terminal; the output channel has everything of every session.
  const where = worker ? "the worker's Task Memory terminal and the Task Memory output channel" : 'the Task Memory output channel';
  body.append(h('p', { class: 'banner-advice' }, `The whole output, with the traceback, is in ${where}.`));
  return [icon('error', 'banner-icon'), body];
}

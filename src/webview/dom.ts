/**
 * DOM building without innerHTML: every string becomes a text node or an attribute value, so text
 * from the profiled program (function names, file paths, task names) can never become markup.
 */
export type Child = Node | string | number | null | undefined | false;

export type Attrs = Record<string, string | number | boolean | undefined | null>;

/** Names of attributes we refuse to set from data (event handlers, javascript: URLs). */
function isDangerousAttr(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('on') || n === 'srcdoc' || n === 'style';
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (isDangerousAttr(name)) throw new Error(`h(): refusing to set attribute ${name}`);
      if ((name === 'href' || name === 'src') && /^\s*javascript:/i.test(String(value))) continue;
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A codicon glyph (decorative; the text next to it carries the meaning). */
export function icon(name: string, extraClass = ''): HTMLSpanElement {
  return h('span', { class: `codicon codicon-${name}${extraClass ? ' ' + extraClass : ''}`, 'aria-hidden': 'true' });
}

/**
 * Finds the functions a user may profile as a task (CodeLens "Profile Task", the quick pick):
 * exported functions in JavaScript/TypeScript modules and module-level or Celery task functions in
 * Python. Pure and line-based: comments and string contents are blanked first so that commented-out
 * code, docstrings and strings do not produce lenses. Not a parser; good enough for task modules.
 */

export type TaskLanguage = 'javascript' | 'typescript' | 'python';

export interface TaskFunction {
  /** The name the harness calls: the export name (JS/TS) or the function name (Python). */
  name: string;
  /** 0-based line the lens goes above (the declaration, or the first decorator in Python). */
  line: number;
  kind: 'function' | 'celery-task';
}

const ID = '[A-Za-z_$][\\w$]*';

/** Blanks comments and the inside of string literals, keeping line breaks and quotes. */
function maskJs(text: string): string {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  const blank = (c: string): string => (c === '\n' ? '\n' : ' ');
  while (i < n) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < n && text[i] !== '\n') {
        out.push(' ');
        i++;
      }
    } else if (c === '/' && next === '*') {
      out.push('  ');
      i += 2;
      while (i < n && !(text[i] === '*' && text[i + 1] === '/')) {
        out.push(blank(text[i]));
        i++;
      }
      if (i < n) {
        out.push('  ');
        i += 2;
      }
    } else if (c === '"' || c === "'" || c === '`') {
      out.push(c);
      i++;
      while (i < n && text[i] !== c && (c === '`' || text[i] !== '\n')) {
        if (text[i] === '\\' && i + 1 < n) {
          out.push(' ', blank(text[i + 1]));
          i += 2;
        } else {
          out.push(blank(text[i]));
          i++;
        }
      }
      if (i < n && text[i] === c) {
        out.push(c);
        i++;
      }
    } else {
      out.push(c);
      i++;
    }
  }
  return out.join('');
}

function maskPython(text: string): string {
  const out: string[] = [];
  let i = 0;
  const n = text.length;
  const blank = (c: string): string => (c === '\n' ? '\n' : ' ');
  while (i < n) {
    const c = text[i];
    if (c === '#') {
      while (i < n && text[i] !== '\n') {
        out.push(' ');
        i++;
      }
    } else if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      out.push(quote);
      i += quote.length;
      while (i < n && !text.startsWith(quote, i) && (triple || text[i] !== '\n')) {
        if (text[i] === '\\' && i + 1 < n) {
          out.push(' ', blank(text[i + 1]));
          i += 2;
        } else {
          out.push(blank(text[i]));
          i++;
        }
      }
      if (text.startsWith(quote, i)) {
        out.push(quote);
        i += quote.length;
      }
    } else {
      out.push(c);
      i++;
    }
  }
  return out.join('');
}

/** Offset → 0-based line. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function lineAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A value that is a function: `function`, `async (`, `(a) =>`, `x =>`, `<T>(`. */
const FUNCTION_VALUE = new RegExp(`^\\s*(?:async\\b\\s*)?(?:function\\b|\\(|<|${ID}\\s*=>)`);

function findJs(text: string): TaskFunction[] {
  const masked = maskJs(text);
  const starts = lineStarts(masked);
  const lines = masked.split('\n');
  const found = new Map<string, TaskFunction>();
  const add = (name: string, line: number): void => {
    if (!found.has(name)) found.set(name, { name, line, kind: 'function' });
  };

  // Top-level function declarations, for `module.exports = { a }` and `export { a as b }`.
  const declared = new Map<string, number>();
  const declFn = new RegExp(`^(?:export\\s+)?(?:async\\s+)?function\\s*\\*?\\s*(${ID})`);
  const declConst = new RegExp(`^(?:export\\s+)?(?:const|let|var)\\s+(${ID})\\s*(?::[^=]+)?=(.*)$`);
  lines.forEach((raw, line) => {
    const text = raw.trim();
    const fn = declFn.exec(text);
    if (fn) declared.set(fn[1], line);
    const c = declConst.exec(text);
    if (c && FUNCTION_VALUE.test(c[2])) declared.set(c[1], line);
  });

  const exportFn = new RegExp(`^\\s*export\\s+(default\\s+)?(?:async\\s+)?function\\s*\\*?\\s*(${ID})?`);
  const exportConst = new RegExp(`^\\s*export\\s+(?:const|let|var)\\s+(${ID})\\s*(?::[^=]+)?=(.*)$`);
  const exportsDot = new RegExp(`^\\s*(?:module\\.)?exports\\.(${ID})\\s*=(.*)$`);
  lines.forEach((raw, line) => {
    const fn = exportFn.exec(raw);
    if (fn) {
      if (fn[1]) add('default', line);
      else if (fn[2]) add(fn[2], line);
      return;
    }
    const c = exportConst.exec(raw);
    if (c && FUNCTION_VALUE.test(c[2])) return add(c[1], line);
    const d = exportsDot.exec(raw);
    if (d) {
      const value = d[2].trim();
      const ref = new RegExp(`^(${ID})\\s*;?$`).exec(value);
      if (FUNCTION_VALUE.test(d[2])) add(d[1], line);
      else if (ref && declared.has(ref[1])) add(d[1], declared.get(ref[1])!);
    }
  });

  // module.exports = { a, b: fn, c() {}, d: function () {} }
  const objectRe = /(?:^|[^.\w$])module\.exports\s*=\s*\{/g;
  for (let m = objectRe.exec(masked); m; m = objectRe.exec(masked)) {
    const open = m.index + m[0].length - 1;
    for (const prop of topLevelItems(masked, open, '{', '}')) {
      const item = prop.text.trim();
      const line = lineAt(starts, prop.offset + (prop.text.length - prop.text.trimStart().length));
      const method = new RegExp(`^(?:async\\s+)?\\*?\\s*(${ID})\\s*\\(`).exec(item);
      const pair = new RegExp(`^(${ID})\\s*:([\\s\\S]*)$`).exec(item);
      const shorthand = new RegExp(`^(${ID})$`).exec(item);
      if (pair) {
        const ref = new RegExp(`^\\s*(${ID})\\s*$`).exec(pair[2]);
        if (FUNCTION_VALUE.test(pair[2])) add(pair[1], line);
        else if (ref && declared.has(ref[1])) add(pair[1], declared.get(ref[1])!);
      } else if (method && method[1] !== 'function') add(method[1], line);
      else if (shorthand && declared.has(shorthand[1])) add(shorthand[1], declared.get(shorthand[1])!);
    }
  }

  // export { a, b as c }
  const listRe = /(?:^|[\s;])export\s*\{/g;
  for (let m = listRe.exec(masked); m; m = listRe.exec(masked)) {
    const open = m.index + m[0].length - 1;
    for (const prop of topLevelItems(masked, open, '{', '}')) {
      const spec = new RegExp(`^(${ID})(?:\\s+as\\s+(${ID}))?$`).exec(prop.text.trim());
      if (spec && declared.has(spec[1])) add(spec[2] ?? spec[1], declared.get(spec[1])!);
    }
  }
  return [...found.values()].sort((a, b) => a.line - b.line || (a.name < b.name ? -1 : 1));
}

/** The comma-separated items at depth 1 between `open` (an opening bracket) and its match. */
function topLevelItems(text: string, open: number, opener: string, closer: string): Array<{ text: string; offset: number }> {
  const items: Array<{ text: string; offset: number }> = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === opener || c === '(' || c === '[' || (c === '{' && opener !== '{')) depth++;
    else if (c === closer || c === ')' || c === ']' || (c === '}' && closer !== '}')) {
      depth--;
      if (depth === 0) {
        items.push({ text: text.slice(start, i), offset: start });
        break;
      }
    } else if (c === ',' && depth === 1) {
      items.push({ text: text.slice(start, i), offset: start });
      start = i + 1;
    }
  }
  return items.filter((item) => item.text.trim() !== '');
}

const CELERY_DECORATOR = /^@\s*(?:shared_task|(?:[A-Za-z_]\w*\.)*task)\b/;

function findPython(text: string): TaskFunction[] {
  const lines = maskPython(text).split('\n');
  const found: TaskFunction[] = [];
  const seen = new Set<string>();
  let decoratorStart = -1;
  let celery = false;
  let openParens = 0;
  for (let line = 0; line < lines.length; line++) {
    const raw = lines[line];
    if (openParens > 0) {
      // continuation of a multi-line decorator call
      openParens += count(raw, '(') - count(raw, ')');
      continue;
    }
    if (raw.trim() === '') continue;
    if (/^\s/.test(raw)) {
      decoratorStart = -1;
      celery = false;
      continue;
    }
    if (raw.startsWith('@')) {
      if (decoratorStart < 0) decoratorStart = line;
      if (CELERY_DECORATOR.test(raw)) celery = true;
      openParens = Math.max(0, count(raw, '(') - count(raw, ')'));
      continue;
    }
    const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/.exec(raw);
    if (def) {
      const name = def[1];
      if ((celery || !name.startsWith('_')) && !seen.has(name)) {
        seen.add(name);
        found.push({ name, line: decoratorStart >= 0 ? decoratorStart : line, kind: celery ? 'celery-task' : 'function' });
      }
    }
    decoratorStart = -1;
    celery = false;
  }
  return found;
}

function count(text: string, c: string): number {
  let n = 0;
  for (const ch of text) if (ch === c) n++;
  return n;
}

/** Task functions in a document, in line order. */
export function findTaskFunctions(text: string, languageId: TaskLanguage): TaskFunction[] {
  if (languageId === 'python') return findPython(text);
  return findJs(text);
}

/** Language ids (VS Code's) that {@link findTaskFunctions} understands. */
export function taskLanguage(languageId: string): TaskLanguage | undefined {
  switch (languageId) {
    case 'javascript':
    case 'javascriptreact':
      return 'javascript';
    case 'typescript':
    case 'typescriptreact':
      return 'typescript';
    case 'python':
      return 'python';
    default:
      return undefined;
  }
}

/** The language of a file by its name, for files that are not open in an editor. */
export function taskLanguageOfFile(fileName: string): TaskLanguage | undefined {
  if (/\.(?:[cm]?ts|tsx)$/i.test(fileName)) return 'typescript';
  if (/\.(?:[cm]?js|jsx)$/i.test(fileName)) return 'javascript';
  if (/\.py$/i.test(fileName)) return 'python';
  return undefined;
}

/**
 * Finds the functions a file offers as tasks, without loading it: a small scanner blanks out
 * comments and string contents (keeping offsets and line numbers), then regular expressions pick up
 * the export forms people write. Pure (no `vscode`), unit-tested in test/unit/extension-exportFinder.test.ts.
 *
 * JavaScript / TypeScript: `export [default] [async] function name`, `export const name = (…) =>` /
 * `= function`, `export { a, b as c }`, `module.exports = { a, b: c, d() {} }`, `module.exports.name =`
 * and `exports.name =`. Python: top-level `def name(` / `async def name(` that is not private.
 */

export interface FoundExport {
  /** The name the harness calls (`default` for a default export). */
  name: string;
  /** 1-based line of the declaration or export. */
  line: number;
}

export type SourceLanguage = 'javascript' | 'python';

const JS_EXTENSIONS = /\.(?:[cm]?js|[cm]?ts|jsx|tsx)$/i;
const PY_EXTENSIONS = /\.py$/i;

/** Which scanner applies to a file name; undefined when neither does. */
export function languageOf(fileName: string): SourceLanguage | undefined {
  if (JS_EXTENSIONS.test(fileName)) return 'javascript';
  if (PY_EXTENSIONS.test(fileName)) return 'python';
  return undefined;
}

export function findExports(source: string, language: SourceLanguage): FoundExport[] {
  return language === 'python' ? findPythonFunctions(source) : findJsExports(source);
}

/**
 * Replaces comments with spaces and the contents of string and template literals with `_`, keeping
 * newlines, so offsets and line numbers stay valid and no pattern matches inside them. Template
 * substitutions (`${…}`) are blanked as well (good enough to find top-level exports).
 */
export function blankCommentsAndStrings(source: string): string {
  const out = source.split('');
  let i = 0;
  const n = source.length;
  const blank = (from: number, to: number, fill: string): void => {
    for (let k = from; k < to && k < n; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = fill;
  };
  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      blank(i, stop, ' ');
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      blank(i, stop, ' ');
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let k = i + 1;
      while (k < n && source[k] !== c) {
        if (source[k] === '\\') k++;
        else if (c !== '`' && source[k] === '\n') break; // unterminated: stop at the line end
        k++;
      }
      blank(i + 1, k, '_');
      i = k + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

const IDENT = '[A-Za-z_$][\\w$]*';

function findJsExports(source: string): FoundExport[] {
  const text = blankCommentsAndStrings(source);
  const found = new Map<string, FoundExport>();
  const add = (name: string, offset: number): void => {
    if (!found.has(name)) found.set(name, { name, line: lineAt(text, offset) });
  };
  const patterns: Array<[RegExp, (m: RegExpExecArray) => void]> = [
    [new RegExp(`\\bexport\\s+(?:async\\s+)?function\\s*\\*?\\s*(${IDENT})`, 'g'), (m) => add(m[1], m.index)],
    [/\bexport\s+default\s+(?:async\s+)?function\b/g, (m) => add('default', m.index)],
    [
      new RegExp(`\\bexport\\s+(?:const|let|var)\\s+(${IDENT})\\s*(?::[^=]+)?=\\s*(?:async\\b\\s*)?(?:function\\b|\\([^)]*\\)\\s*(?::[^=]+)?=>|${IDENT}\\s*=>)`, 'g'),
      (m) => add(m[1], m.index),
    ],
    [new RegExp(`\\b(?:module\\.)?exports\\.(${IDENT})\\s*=(?!=)`, 'g'), (m) => add(m[1], m.index)],
  ];
  for (const [re, onMatch] of patterns) for (let m = re.exec(text); m; m = re.exec(text)) onMatch(m);

  // export { a, b as c } (not re-exports of types: `export type { … }`)
  const braces = /\bexport\s*\{([^}]*)\}/g;
  for (let m = braces.exec(text); m; m = braces.exec(text)) {
    for (const part of m[1].split(',')) {
      const spec = part.trim();
      if (/^type\s/.test(spec)) continue; // a type, not a function
      const alias = new RegExp(`^(${IDENT})(?:\\s+as\\s+(${IDENT}))?$`).exec(spec);
      if (alias) add(alias[2] ?? alias[1], m.index + m[0].indexOf(spec));
    }
  }

  // module.exports = { a, b: c, d() {}, async e() {} }
  const objectExport = /\bmodule\.exports\s*=\s*\{/g;
  for (let m = objectExport.exec(text); m; m = objectExport.exec(text)) {
    const body = objectBody(text, m.index + m[0].length);
    for (const entry of topLevelEntries(body.text)) {
      const key = new RegExp(`^(?:async\\s+)?(${IDENT})\\s*(?:$|:|\\()`).exec(entry.text.trim());
      if (key && key[1] !== 'async') add(key[1], body.start + entry.offset + entry.text.indexOf(key[1]));
    }
  }
  return [...found.values()].sort((a, b) => a.line - b.line || a.name.localeCompare(b.name));
}

/** The text between a `{` (already consumed, at `start`) and its matching `}`. */
function objectBody(text: string, start: number): { text: string; start: number } {
  let depth = 1;
  let i = start;
  for (; i < text.length && depth > 0; i++) {
    if (text[i] === '{' || text[i] === '(' || text[i] === '[') depth++;
    else if (text[i] === '}' || text[i] === ')' || text[i] === ']') depth--;
  }
  return { text: text.slice(start, Math.max(start, i - 1)), start };
}

/** Splits an object literal's body at its top-level commas. */
function topLevelEntries(body: string): Array<{ text: string; offset: number }> {
  const entries: Array<{ text: string; offset: number }> = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if ((c === ',' && depth === 0) || i === body.length) {
      const text = body.slice(from, i);
      const lead = text.length - text.trimStart().length;
      if (text.trim()) entries.push({ text: text.trim(), offset: from + lead });
      from = i + 1;
    }
  }
  return entries;
}

function findPythonFunctions(source: string): FoundExport[] {
  const found: FoundExport[] = [];
  const lines = source.split(/\r?\n/);
  const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;
  let inTripleQuote: string | undefined;
  lines.forEach((line, index) => {
    // Skip the insides of top-level docstrings and multi-line strings.
    const quotes = line.match(/"""|'''/g) ?? [];
    if (inTripleQuote) {
      if (quotes.some((q) => q === inTripleQuote)) inTripleQuote = undefined;
      return;
    }
    const m = def.exec(line);
    if (m && !m[1].startsWith('_')) found.push({ name: m[1], line: index + 1 });
    if (quotes.length % 2 === 1) inTripleQuote = quotes[0];
  });
  return found;
}

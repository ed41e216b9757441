/**
 * Finds the functions a user may profile as a task (CodeLens "Profile Task", the quick pick):
 * exported functions in JavaScript/TypeScript modules (on the syntax tree: jsTaskFunctions.ts) and
 * module-level or Celery task functions in Python. Python is read line by line after comments and
 * string contents are blanked, which is exact for what it looks for: `def` and decorators at column 0.
 */
import { findJsTaskFunctions } from './jsTaskFunctions';

export type TaskLanguage = 'javascript' | 'typescript' | 'python';

export interface TaskFunction {
  /** The name the harness calls: the export name (JS/TS) or the function name (Python). */
  name: string;
  /** 0-based line the lens goes above (the declaration, or the first decorator in Python). */
  line: number;
  kind: 'function' | 'celery-task';
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

/**
 * Task functions in a document, in line order; `undefined` when a JavaScript/TypeScript file does not
 * parse (while it is being typed: a caller with an earlier result keeps showing it).
 */
export function parseTaskFunctions(text: string, languageId: TaskLanguage): TaskFunction[] | undefined {
  if (languageId === 'python') return findPython(text);
  return findJsTaskFunctions(text, languageId);
}

/** Task functions in a document, in line order (none when it does not parse). */
export function findTaskFunctions(text: string, languageId: TaskLanguage): TaskFunction[] {
  return parseTaskFunctions(text, languageId) ?? [];
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

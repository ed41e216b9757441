/**
 * Python task functions from the token stream, by Python's own lexical rules (the `tokenize`
 * module's): comments, strings with any prefix (raw, bytes, f-strings with nested quotes in their
 * fields), triple quotes, implicit line joining inside brackets and backslash continuations. A
 * logical line that starts at column 0 with `def`/`async def` is a module-level function; the `@`
 * lines just above it are its decorators. So no string, comment or wrapped decorator can fool it.
 */
import type { TaskFunction } from './taskFunctions';

interface Token {
  kind: 'name' | 'op' | 'string' | 'other';
  text: string;
}

/** A logical line: its tokens, the 0-based line it starts on, and whether it starts at column 0. */
interface LogicalLine {
  tokens: Token[];
  line: number;
  atColumnZero: boolean;
}

class PythonSyntaxError extends Error {}

const STRING_PREFIX = /(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])?(?:'''|"""|'|")/y;
const NAME = /[A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff]*/y;
const NUMBER = /(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?[jJ]?|0[xXoObB][\da-fA-F_]+/y;

class Lexer {
  private i = 0;
  private line = 0;

  constructor(private readonly text: string) {}

  /** The logical lines of the module, in order; throws PythonSyntaxError on an unterminated string or bracket. */
  lines(): LogicalLine[] {
    const out: LogicalLine[] = [];
    let current: LogicalLine | undefined;
    let depth = 0;
    const text = this.text;
    while (this.i < text.length) {
      const c = text[this.i];
      if (c === '\n') {
        this.i++;
        this.line++;
        if (depth === 0 && current) {
          out.push(current);
          current = undefined;
        }
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
        this.i++;
        continue;
      }
      if (c === '#') {
        while (this.i < text.length && text[this.i] !== '\n') this.i++;
        continue;
      }
      if (c === '\\' && (text[this.i + 1] === '\n' || (text[this.i + 1] === '\r' && text[this.i + 2] === '\n'))) {
        // An explicit line join: the logical line goes on.
        this.i += text[this.i + 1] === '\n' ? 2 : 3;
        this.line++;
        continue;
      }
      if (!current) current = { tokens: [], line: this.line, atColumnZero: this.atLineStart() };
      current.tokens.push(this.token(c, (delta) => (depth += delta)));
      if (depth < 0) depth = 0;
    }
    if (depth > 0) throw new PythonSyntaxError('unclosed bracket');
    if (current) out.push(current);
    return out;
  }

  private atLineStart(): boolean {
    return this.i === 0 || this.text[this.i - 1] === '\n';
  }

  private token(c: string, nest: (delta: number) => void): Token {
    const text = this.text;
    STRING_PREFIX.lastIndex = this.i;
    const quote = STRING_PREFIX.exec(text);
    if (quote) {
      const start = this.i;
      this.i += quote[0].length;
      this.string(quote[0], start);
      return { kind: 'string', text: text.slice(start, this.i) };
    }
    NAME.lastIndex = this.i;
    const name = NAME.exec(text);
    if (name) {
      this.i += name[0].length;
      return { kind: 'name', text: name[0] };
    }
    NUMBER.lastIndex = this.i;
    const number = NUMBER.exec(text);
    if (number && number[0].length > 0) {
      this.i += number[0].length;
      return { kind: 'other', text: number[0] };
    }
    if ('([{'.includes(c)) nest(1);
    else if (')]}'.includes(c)) nest(-1);
    this.i++;
    return { kind: 'op', text: c };
  }

  /** Skips a string's body after its opening quote (with prefix); f-string fields may hold strings of their own. */
  private string(opening: string, start: number): void {
    const text = this.text;
    const quote = opening.replace(/^[rRbBuUfF]+/, '');
    const prefix = opening.slice(0, opening.length - quote.length).toLowerCase();
    const raw = prefix.includes('r');
    const formatted = prefix.includes('f');
    const triple = quote.length === 3;
    while (this.i < text.length) {
      const c = text[this.i];
      if (text.startsWith(quote, this.i)) {
        this.i += quote.length;
        return;
      }
      if (c === '\n') {
        if (!triple) throw new PythonSyntaxError(`unterminated string on line ${this.lineOf(start) + 1}`);
        this.line++;
        this.i++;
      } else if (c === '\\') {
        // A backslash keeps the next character in the string, raw or not (r"\"" is one string).
        if (text[this.i + 1] === '\n') this.line++;
        this.i += 2;
      } else if (formatted && c === '{') {
        if (text[this.i + 1] === '{') this.i += 2;
        else this.field(raw);
      } else {
        this.i++;
      }
    }
    throw new PythonSyntaxError(`unterminated string on line ${this.lineOf(start) + 1}`);
  }

  /** An f-string replacement field, `{` to its matching `}`: an expression with strings and brackets of its own. */
  private field(raw: boolean): void {
    const text = this.text;
    let depth = 0;
    this.i++;
    while (this.i < text.length) {
      const c = text[this.i];
      if (c === '}' && depth === 0) {
        this.i++;
        return;
      }
      STRING_PREFIX.lastIndex = this.i;
      const quote = STRING_PREFIX.exec(text);
      if (quote && !/[\w]/.test(text[this.i - 1] ?? '')) {
        const start = this.i;
        this.i += quote[0].length;
        this.string(quote[0], start);
        continue;
      }
      if (c === '\n') this.line++;
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
      else if (c === '\\' && !raw) this.i++;
      this.i++;
    }
    throw new PythonSyntaxError('unterminated f-string field');
  }

  private lineOf(offset: number): number {
    let line = 0;
    for (let k = 0; k < offset; k++) if (this.text[k] === '\n') line++;
    return line;
  }
}

/** A decorator's dotted name (`app.task` of `@app.task(bind=True)`), or undefined. */
function decoratorName(tokens: readonly Token[]): string | undefined {
  const parts: string[] = [];
  for (let k = 1; k < tokens.length; k += 2) {
    const token = tokens[k];
    if (token.kind !== 'name') break;
    parts.push(token.text);
    if (tokens[k + 1]?.text !== '.') break;
  }
  return parts.length ? parts.join('.') : undefined;
}

/** Celery's task decorators: `@shared_task`, `@app.task`, `@celery.task(...)`, `@task`. */
function isCeleryDecorator(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  return last === 'task' || last === 'shared_task';
}

/**
 * Module-level functions (public ones, and Celery tasks whatever their name), in line order; the
 * lens goes on the first decorator. Undefined when the text does not tokenize (a string or bracket
 * left open while it is typed): a caller with an earlier result keeps showing it.
 */
export function findPythonTaskFunctions(text: string): TaskFunction[] | undefined {
  let lines: LogicalLine[];
  try {
    lines = new Lexer(text).lines();
  } catch (error) {
    if (error instanceof PythonSyntaxError) return undefined;
    throw error;
  }
  const found: TaskFunction[] = [];
  const seen = new Set<string>();
  let decoratorLine = -1;
  let celery = false;
  for (const logical of lines) {
    const [first, second, third] = logical.tokens;
    if (!logical.atColumnZero) {
      decoratorLine = -1;
      celery = false;
      continue;
    }
    if (first.text === '@') {
      if (decoratorLine < 0) decoratorLine = logical.line;
      const name = decoratorName(logical.tokens);
      if (name !== undefined && isCeleryDecorator(name)) celery = true;
      continue;
    }
    const def = first.text === 'def' ? second : first.text === 'async' && second?.text === 'def' ? third : undefined;
    if (def?.kind === 'name' && (celery || !def.text.startsWith('_')) && !seen.has(def.text)) {
      seen.add(def.text);
      found.push({ name: def.text, line: decoratorLine >= 0 ? decoratorLine : logical.line, kind: celery ? 'celery-task' : 'function' });
    }
    decoratorLine = -1;
    celery = false;
  }
  return found;
}

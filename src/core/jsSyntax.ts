/**
 * JavaScript and TypeScript read as syntax trees (acorn, with the TypeScript and JSX plugin), and the
 * few ESTree shapes the readers here use. Comments, strings, templates and regular expressions
 * cannot fool a reader of the tree.
 */
import { Parser, type Options } from 'acorn';
import { tsPlugin } from '@sveltejs/acorn-typescript';

/** The few ESTree shapes we read; acorn's own types are looser than this. */
export interface Located {
  type: string;
  loc?: { start: { line: number } } | null;
}
export interface Identifier extends Located {
  type: 'Identifier';
  name: string;
}
export type Any = Located & Record<string, unknown>;

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
/** TypeScript wrappers around a value that do not change what it is: `x as Handler`, `x satisfies T`, `x!`. */
const TS_WRAPPERS = new Set(['TSAsExpression', 'TSSatisfiesExpression', 'TSNonNullExpression', 'TSTypeAssertion', 'ParenthesizedExpression']);

const jsParser = Parser;
const tsParser = Parser.extend(tsPlugin());
const tsxParser = Parser.extend(tsPlugin({ jsx: true }));

const BASE_OPTIONS: Options = {
  ecmaVersion: 'latest',
  locations: true,
  allowHashBang: true,
  allowReturnOutsideFunction: true,
  allowAwaitOutsideFunction: true,
};

export function parse(text: string, language: 'javascript' | 'typescript'): Any | undefined {
  // Plain JavaScript first (TypeScript's grammar reads some JavaScript differently), then with JSX;
  // modules first, then scripts (a CommonJS file may use `with` or octal literals).
  const parsers = language === 'typescript' ? [tsParser, tsxParser] : [jsParser, tsxParser];
  for (const parser of parsers) {
    for (const sourceType of ['module', 'script'] as const) {
      try {
        return parser.parse(text, { ...BASE_OPTIONS, sourceType }) as unknown as Any;
      } catch {
        // try the next reading
      }
    }
  }
  return undefined;
}

export function isNode(value: unknown): value is Any {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}

export function unwrap(node: unknown): Any | undefined {
  let current = isNode(node) ? node : undefined;
  while (current && TS_WRAPPERS.has(current.type)) current = isNode(current.expression) ? current.expression : undefined;
  return current;
}

export function isFunction(node: unknown): boolean {
  const value = unwrap(node);
  return value !== undefined && FUNCTION_TYPES.has(value.type);
}

export function identifierName(node: unknown): string | undefined {
  const value = unwrap(node);
  return value?.type === 'Identifier' ? (value as unknown as Identifier).name : undefined;
}

/** A property key or export name: `a`, `'a'`. */
export function keyName(node: unknown, computed = false): string | undefined {
  if (computed || !isNode(node)) return undefined;
  if (node.type === 'Identifier') return (node as unknown as Identifier).name;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  return undefined;
}

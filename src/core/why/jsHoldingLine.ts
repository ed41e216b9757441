/**
 * The statement of user code that stores into a retainer path's holder, found on the syntax tree of
 * the task's module (and the modules of its allocation stack): `seenCustomers.set(…)`,
 * `AuditRegistry.entries.push(…)`, `orders.on('order', …)`, `cache[key] = …`, `setInterval(…)` for
 * a timer. TypeScript is read as written, so lines are the user's without source maps. No match, no
 * line: a line is never guessed.
 */
import { identifierName, isNode, keyName, parse, unwrap, type Any } from '../jsSyntax';
import type { HoldingLine, RetainerStep } from './model';

/** Calls that add to what their object holds. */
const ADDING_METHODS = new Set(['set', 'add', 'push', 'unshift', 'splice', 'concat', 'assign', 'fill']);
const LISTENER_METHODS = new Set(['on', 'addListener', 'once', 'prependListener', 'prependOnceListener', 'addEventListener']);
const TIMER_FUNCTIONS = new Set(['setInterval', 'setTimeout']);

export interface SourceFile {
  file: string;
  text: string;
  language: 'javascript' | 'typescript';
}

/** What to look for, read from a path: the holder's name and how it is reached. */
interface HolderQuery {
  /**
   * The holder as a chain of names: a variable and the properties under it (`store.sessions`), or a
   * class and its static property (`AuditRegistry.entries`). Empty when only a timer is looked for.
   */
  names: string[];
  /** The event name, when the holder is an emitter's listeners. */
  event?: string;
  timer: boolean;
}

function queryOf(path: readonly RetainerStep[]): HolderQuery | undefined {
  const timer = path.some((s) => s.holder === 'Timeout' || s.holder === 'Immediate');
  const anchor = path.findIndex((s) => s.edge !== '');
  if (anchor < 0) return undefined;
  const root = path[0];
  const first = path[anchor];
  const names: string[] = [];
  // A static property: the root is the function (class) that has it.
  if (root.holder.startsWith('function ') && first.kind === 'property') names.push(root.holder.slice('function '.length), first.edge);
  else if (first.kind === 'variable') names.push(first.edge);
  else return timer ? { names: [], timer } : undefined;
  let event: string | undefined;
  for (const step of path.slice(anchor + 1)) {
    if (step.kind === 'listener') {
      event = path[path.indexOf(step) + 1]?.edge;
      break;
    }
    if (step.kind !== 'property') break;
    names.push(step.edge);
  }
  return { names, ...(event ? { event } : {}), timer };
}

/** `a.b.c` of a member chain, or undefined when it is not one of plain names (`this` reads as `this`). */
function chainOf(node: unknown): string[] | undefined {
  const value = unwrap(node);
  if (!value) return undefined;
  if (value.type === 'ThisExpression') return ['this'];
  const name = identifierName(value);
  if (name !== undefined) return [name];
  if (value.type !== 'MemberExpression') return undefined;
  const object = chainOf(value.object);
  const property = keyName(value.property, value.computed === true);
  if (!object) return undefined;
  return [...object, property ?? '[]'];
}

interface Candidate {
  line: number;
  operation: string;
}

/** Every node of the tree, depth first. */
function walk(node: Any, visit: (node: Any) => void): void {
  visit(node);
  for (const key of Object.keys(node)) {
    if (key === 'loc' || key === 'start' || key === 'end') continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const child of value) if (isNode(child)) walk(child, visit);
    } else if (isNode(value)) walk(value, visit);
  }
}

/** `store.sessions` is `store.sessions`, or `this.sessions` inside the class (a method, a static method). */
function matches(holder: string[] | undefined, query: HolderQuery): boolean {
  const names = query.names;
  if (!holder || names.length === 0 || holder.length !== names.length) return false;
  if (holder.some((name, i) => i > 0 && name !== names[i])) return false;
  return holder[0] === names[0] || (holder[0] === 'this' && names.length > 1);
}

function candidatesIn(program: Any, query: HolderQuery): Candidate[] {
  const found: Candidate[] = [];
  const line = (node: Any): number => node.loc?.start.line ?? 1;
  walk(program, (node) => {
    if (node.type === 'CallExpression') {
      const callee = chainOf(node.callee);
      if (!callee) return;
      const method = callee[callee.length - 1];
      const holder = callee.slice(0, -1);
      const args = Array.isArray(node.arguments) ? node.arguments : [];
      if (query.timer && callee.length <= 2 && TIMER_FUNCTIONS.has(method)) {
        found.push({ line: line(node), operation: method });
      } else if (query.event !== undefined && LISTENER_METHODS.has(method) && matches(holder, query)) {
        const event = isNode(args[0]) && args[0].type === 'Literal' ? String(args[0].value) : undefined;
        if (event === undefined || event === query.event) found.push({ line: line(node), operation: `${holder.join('.')}.${method}('${query.event}')` });
      } else if (ADDING_METHODS.has(method) && matches(holder, query)) {
        found.push({ line: line(node), operation: `${holder.join('.')}.${method}` });
      }
    } else if (node.type === 'AssignmentExpression') {
      // `cache[key] = …`, `cache.latest = …`
      const target = chainOf(node.left);
      if (target && target.length >= 2 && matches(target.slice(0, -1), query))
        found.push({ line: line(node), operation: `${target.slice(0, -1).join('.')}[…] =` });
    }
  });
  return found;
}

/** Syntax trees by source: an explanation asks the same files for each of its groups. */
const trees = new WeakMap<SourceFile, Any | null>();

function treeOf(source: SourceFile): Any | null {
  let tree = trees.get(source);
  if (tree === undefined) trees.set(source, (tree = parse(source.text, source.language) ?? null));
  return tree;
}

/**
 * The holding line of a path, searched in `files` (the task's module first). `stackLines` are the
 * lines of the allocation stack per file: among several candidates the one nearest above such a
 * line (the same function, usually) is preferred.
 */
export function findJsHoldingLine(
  path: readonly RetainerStep[],
  files: readonly SourceFile[],
  stackLines: ReadonlyMap<string, readonly number[]> = new Map(),
): HoldingLine | undefined {
  const query = queryOf(path);
  if (!query) return undefined;
  const all: Array<Candidate & { file: string }> = [];
  for (const source of files) {
    const program = treeOf(source);
    if (program) for (const candidate of candidatesIn(program, query)) all.push({ ...candidate, file: source.file });
  }
  if (all.length === 0) return undefined;
  const best = all.length === 1 ? all[0] : preferred(all, stackLines);
  return { file: best.file, line: best.line, operation: best.operation, confidence: all.length === 1 ? 'exact' : 'likely', candidates: all.length };
}

function preferred<T extends Candidate & { file: string }>(candidates: T[], stackLines: ReadonlyMap<string, readonly number[]>): T {
  let best = candidates[0];
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    for (const stackLine of stackLines.get(candidate.file) ?? []) {
      const distance = Math.abs(candidate.line - stackLine);
      if (distance < bestDistance) {
        best = candidate;
        bestDistance = distance;
      }
    }
  }
  return best;
}

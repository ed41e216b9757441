/**
 * What a task's runs kept, and what keeps it: the objects of a later heap snapshot whose ids the
 * earlier snapshot (same process, both after a full GC) did not have, each attributed to the path
 * that holds it. Paths come from a breadth-first walk from the heap's root over strong edges (the
 * shortest retainer chain, as DevTools' "distance"), cut at the nearest variable or static property
 * above the kept objects, with indices and repeated links folded so that one holder's entries form
 * one group. Groups are ranked by bytes.
 */
import { hasId, type HeapGraph } from './heapGraph';
import type { RetainerEdgeKind, RetainerGroup, RetainerStep, WhyRetained } from './model';

/**
 * Node types that are V8's own bookkeeping (compiled code, maps, feedback) or the embedder's objects
 * (their ids are not stable between snapshots), not the program's objects.
 */
const INTERNAL_NODE_TYPES = new Set(['hidden', 'code', 'synthetic', 'object shape', 'native']);
/**
 * Roots walked last: their objects are reached from them only when nothing else holds them. V8's
 * tables and caches, and the stack: a snapshot taken while the program runs (the inspector
 * interrupts JavaScript) sees the holder in a register, and the variable that keeps it is the answer.
 */
const V8_TABLE_ROOTS = new Set([
  '(Internalized strings)',
  '(External strings)',
  '(Startup object cache)',
  '(Read-only roots)',
  '(Compilation cache)',
  '(Builtins)',
  '(Code flusher)',
  '(Weak roots)',
  '(Weak collections)',
  '(Shared heap object cache)',
  '(Bootstrapper)',
  '(Extensions)',
  '(Debugger)',
  '(Stack roots)',
]);
/** Steps above the kept objects at most (a path longer than this is cut, and says so with `…`). */
const MAX_STEPS = 10;
/** Groups reported at most. */
const MAX_GROUPS = 8;
/**
 * A group must have gained entries in at least this share of the runs: what grew once (a lazily
 * built table, a one-off cache fill) is not what a leak keeps adding.
 */
const MIN_ENTRIES_PER_RUN = 0.1;

interface Walk {
  /** The edge by which the walk reached each node (-1: not reached, or the root). */
  parentEdge: Int32Array;
  parentNode: Int32Array;
  /** Nodes in the order the walk reached them: parents before children. */
  order: Uint32Array;
  reached: number;
}

/**
 * Breadth-first from the root over strong edges, in two rounds: first from the roots a program's
 * objects hang from (globals, handles, the stack), then from V8's own tables. A string a Map holds
 * is also in the internalized-string table, two steps from the root; it is the Map that keeps it.
 */
function shortestPaths(graph: HeapGraph): Walk {
  const parentEdge = new Int32Array(graph.nodeCount).fill(-1);
  const parentNode = new Int32Array(graph.nodeCount).fill(-1);
  const order = new Uint32Array(graph.nodeCount);
  const seen = new Uint8Array(graph.nodeCount);
  const deferred: number[] = [];
  let head = 0;
  let tail = 0;
  const visit = (node: number, edge: number, parent: number): void => {
    seen[node] = 1;
    parentEdge[node] = edge;
    parentNode[node] = parent;
    order[tail++] = node;
  };
  const drain = (): void => {
    while (head < tail) {
      const node = order[head++];
      const [from, to] = graph.edgeRange(node);
      for (let edge = from; edge < to; edge++) {
        if (graph.edgeType(edge) === 'weak') continue;
        const child = graph.edgeTarget(edge);
        if (seen[child]) continue;
        if (graph.type(child) === 'synthetic' && V8_TABLE_ROOTS.has(graph.name(child))) {
          seen[child] = 1;
          deferred.push(child, edge, node);
          continue;
        }
        visit(child, edge, node);
      }
    }
  };
  visit(0, -1, -1);
  drain();
  for (let i = 0; i < deferred.length; i += 3) {
    seen[deferred[i]] = 0;
    visit(deferred[i], deferred[i + 1], deferred[i + 2]);
  }
  drain();
  return { parentEdge, parentNode, order, reached: tail };
}

function edgeKind(graph: HeapGraph, edge: number, holder: number): RetainerEdgeKind {
  const type = graph.edgeType(edge);
  if (type === 'context') return 'variable';
  if (type === 'element') return 'element';
  if (type === 'property') {
    const name = graph.edgeName(edge);
    if (name === '_events' || name === '_eventsCount') return 'listener';
    return graph.type(holder) === 'object' && isCollection(graph.name(holder)) ? 'entry' : 'property';
  }
  return 'internal';
}

function isCollection(name: string): boolean {
  return name === 'Map' || name === 'Set' || name === 'WeakMap' || name === 'WeakSet';
}

/** How a node reads in a path: `Map`, `Array`, `Object`, `function onOrder`, `string`. */
function holderLabel(graph: HeapGraph, node: number): string {
  const type = graph.type(node);
  const name = graph.name(node);
  switch (type) {
    case 'closure':
      return name ? `function ${name}` : 'function (anonymous)';
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return 'string';
    case 'number':
    case 'heap number':
      return 'number';
    case 'array':
      return name.startsWith('system / ') ? name.slice('system / '.length) : 'internal array';
    default:
      if (name === 'system / Context') return 'scope';
      return name.startsWith('system / ') ? name.slice('system / '.length) : name || type;
  }
}

function edgeLabel(graph: HeapGraph, edge: number, kind: RetainerEdgeKind): string {
  const name = graph.edgeName(edge);
  if (kind === 'element') return '[]';
  if (graph.edgeType(edge) === 'hidden' || /^\d+$/.test(name)) return '[]';
  return name;
}

/** A node the program made and can name (not a backing store or V8 bookkeeping). */
function isVisible(graph: HeapGraph, node: number): boolean {
  const type = graph.type(node);
  if (INTERNAL_NODE_TYPES.has(type)) return false;
  if (type === 'array') return false;
  const name = graph.name(node);
  return !name.startsWith('system / ');
}

/** `node` is the next link after `parent`: the same kind of object, by a named property. */
function isLink(graph: HeapGraph, walk: Walk, node: number, parent: number): boolean {
  const edge = walk.parentEdge[node];
  return graph.edgeType(edge) === 'property' && isVisible(graph, node) && graph.name(node) === graph.name(parent) && graph.type(node) === graph.type(parent);
}

/** Whether the walk up from a kept object stops above this edge: a variable, or a static property of a function. */
function isAnchor(graph: HeapGraph, edge: number, holder: number): boolean {
  const type = graph.edgeType(edge);
  if (type === 'context') return true;
  return type === 'property' && graph.type(holder) === 'closure';
}

/** The steps from the nearest variable or static property down to `node`, folded. */
function pathTo(graph: HeapGraph, walk: Walk, node: number): RetainerStep[] {
  const steps: RetainerStep[] = [];
  let current = node;
  let cut = true;
  for (let i = 0; i < MAX_STEPS * 4 && steps.length < MAX_STEPS; i++) {
    const edge = walk.parentEdge[current];
    const parent = walk.parentNode[current];
    if (edge < 0 || parent < 0) {
      cut = false;
      break;
    }
    const kind = edgeKind(graph, edge, parent);
    const step: RetainerStep = { edge: edgeLabel(graph, edge, kind), kind, holder: holderLabel(graph, current) };
    // A Map's or Set's backing table and its slot read as one entry of the collection.
    const previousStep = steps[steps.length - 1];
    if (graph.edgeType(edge) === 'internal' && graph.edgeName(edge) === 'table' && isCollection(graph.name(parent)) && previousStep) {
      previousStep.edge = '{entry}';
      previousStep.kind = 'entry';
      current = parent;
      continue;
    }
    const previous = steps[steps.length - 1];
    // A linked list or nested arrays: one step for the run of equal links.
    if (!(previous && previous.edge === step.edge && previous.holder === step.holder)) steps.push(step);
    if (isAnchor(graph, edge, parent)) {
      steps.push({ edge: '', kind: 'variable', holder: holderLabel(graph, parent) });
      cut = false;
      break;
    }
    if (graph.type(parent) === 'synthetic') {
      steps.push({ edge: '', kind: 'internal', holder: graph.name(parent) || 'root' });
      cut = false;
      break;
    }
    current = parent;
  }
  if (cut) steps.push({ edge: '', kind: 'internal', holder: '…' });
  return steps.reverse();
}

function signature(path: readonly RetainerStep[]): string {
  return path.map((s) => `${s.kind}:${s.edge}>${s.holder}`).join('|');
}

/**
 * Compares `later` with the ids of an earlier snapshot of the same process: the groups of kept
 * objects by the path that holds them. `runs` is how many runs (or tasks) ran between the two.
 */
export function analyseSnapshots(earlierIds: Uint32Array, later: HeapGraph, runs: number): Omit<WhyRetained, 'pauseMs'> {
  const walk = shortestPaths(later);
  const isNew = new Uint8Array(later.nodeCount);
  for (let node = 0; node < later.nodeCount; node++) if (!hasId(earlierIds, later.id(node))) isNew[node] = 1;
  // The first object the program can name on the way down from what is old to each kept object: the
  // entry that a holder gained. Parents come before children in the walk's order.
  const entryOf = new Int32Array(later.nodeCount).fill(-1);
  const groups = new Map<string, Tally>();
  /** The group of each entry, once its path is known. */
  const groupOfEntry = new Map<number, Tally>();
  let keptBytes = 0;
  for (let i = 0; i < walk.reached; i++) {
    const node = walk.order[i];
    if (!isNew[node]) continue;
    const parent = walk.parentNode[node];
    const inherited = parent >= 0 && isNew[parent] ? entryOf[parent] : -1;
    entryOf[node] = inherited >= 0 ? inherited : isVisible(later, node) ? node : -1;
    // A linked list (timers, queues): each link is an entry of the group its first link is in.
    if (inherited >= 0 && isLink(later, walk, node, parent)) {
      const group = groupOfEntry.get(inherited);
      if (group) {
        entryOf[node] = node;
        groupOfEntry.set(node, group);
      }
    }
    const type = later.type(node);
    // Memory outside the heap (a Buffer's backing store) is a native node: its id is new in every
    // snapshot, so it counts only under a kept object, whose memory it is.
    const ownedNative = type === 'native' && inherited >= 0;
    if (INTERNAL_NODE_TYPES.has(type) && !ownedNative) continue;
    const size = later.selfSize(node);
    keptBytes += size;
    const entry = entryOf[node];
    if (entry < 0) continue;
    let group = groupOfEntry.get(entry);
    if (!group) {
      const path = pathTo(later, walk, entry);
      const key = signature(path);
      group = groups.get(key) ?? { path, objects: 0, bytes: 0, entries: new Set<number>() };
      groups.set(key, group);
      groupOfEntry.set(entry, group);
    }
    group.objects++;
    group.bytes += size;
    group.entries.add(entry);
  }
  const ranked: RetainerGroup[] = mergeSiblings([...groups.values()])
    .filter((g) => g.entries.size >= Math.max(2, runs * MIN_ENTRIES_PER_RUN))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, MAX_GROUPS)
    .map((g) => ({ path: g.path, objects: g.objects, bytes: g.bytes, bytesPerRun: g.bytes / runs, entriesPerRun: g.entries.size / runs }));
  return { runs, groups: ranked, keptBytes };
}

interface Tally {
  path: RetainerStep[];
  objects: number;
  bytes: number;
  entries: Set<number>;
}

/**
 * Groups whose paths differ only in their last step are one holder's: a Map's keys and values (the
 * same edge, entries counted once), a doubly linked list reached from both ends (different edges,
 * entries added up).
 */
function mergeSiblings(tallies: Tally[]): Tally[] {
  const byParent = new Map<string, Tally>();
  for (const tally of tallies.sort((a, b) => b.bytes - a.bytes)) {
    const key = signature(tally.path.slice(0, -1));
    const kept = byParent.get(key);
    if (!kept || tally.path.length < 2) {
      byParent.set(tally.path.length < 2 ? `${key}#${byParent.size}` : key, { ...tally, path: tally.path.map((s) => ({ ...s })) });
      continue;
    }
    const last = kept.path[kept.path.length - 1];
    const other = tally.path[tally.path.length - 1];
    const sameEdge = last.edge.split('|').includes(other.edge);
    if (!sameEdge) last.edge = `${last.edge}|${other.edge}`;
    if (!last.holder.split(', ').includes(other.holder)) last.holder = `${last.holder}, ${other.holder}`;
    kept.objects += tally.objects;
    kept.bytes += tally.bytes;
    // The same edge: the same entries reached twice (a key and its value); different edges: more entries.
    kept.entries = sameEdge ? (tally.entries.size > kept.entries.size ? tally.entries : kept.entries) : new Set([...kept.entries, ...tally.entries]);
  }
  return [...byParent.values()];
}

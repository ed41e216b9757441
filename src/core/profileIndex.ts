/**
 * One pass over a sampling heap profile's node tree: nodes numbered in pre-order (a parent's number
 * is below its children's), each node's parent and the number of its distinct call frame. 200k nodes
 * share a few thousand frames, so everything after this pass works on integers in typed arrays and
 * frames are resolved (source maps, categories) once each, not once per node.
 *
 * Profiles can hold a million nodes nested a hundred thousand deep, and malformed input must not
 * hang us: the walk is iterative, and cycles, duplicate ids and junk are skipped.
 */
import type { RawCallFrame, RawProfileNode } from './model';

/**
 * Work is written as generators that yield every `CHUNK` iterations: `aggregateSites` runs them to
 * the end at once, `aggregateSitesAsync` gives the event loop a turn between time slices, so a
 * million-node profile never blocks the extension host for long.
 */
export const CHUNK = 4096;
export type Steps<T> = Generator<undefined, T, undefined>;

/** A distinct call frame as the profile gave it (0-based line and column). */
export interface RawFrame {
  scriptId: string;
  url: string;
  line: number;
  column: number;
  name: string;
}

export interface ProfileIndex {
  /** Number of nodes; the typed arrays may be longer. */
  count: number;
  /** Pre-order number of each node's parent, -1 for the head. */
  parent: Int32Array;
  /** Index into `frames` of each node's call frame. */
  frameOf: Int32Array;
  /** Distinct frames, in order of first appearance in pre-order. */
  frames: RawFrame[];
  /** Each node's `selfSize` as found, only when asked for (profiles without samples). */
  selfSizes: unknown[] | undefined;
  /** Pre-order number of the node with this id, -1 when there is none. */
  indexOf: (id: number) => number;
}

/** Ids below this may go to a dense table; others (hostile or odd profiles) to a Map. */
const DENSE_IDS = 1 << 24;
/**
 * The dense table grows to any id below this (8 MB at most), beyond only as the node count justifies:
 * V8's ids follow creation, not pre-order, so early nodes carry ids up to the node count.
 */
const DENSE_GROWTH = 1 << 21;

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function grow(array: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(Math.max(atLeast, array.length * 2));
  bigger.set(array);
  return bigger;
}

/**
 * Node id → pre-order number. V8 numbers nodes 1..n: a typed array indexed by id, grown as far as
 * DENSE_GROWTH or the node count justifies (one hostile id of 16M must not cost 64 MB); other ids go
 * to a Map.
 */
class IdTable {
  /** Pre-order number + 1; 0 = free. */
  private dense = new Int32Array(1024);
  private readonly sparse = new Map<number, number>();

  find(id: number): number {
    if (id >= 0 && id < this.dense.length && Number.isInteger(id)) {
      const found = this.dense[id];
      if (found !== 0) return found - 1;
    }
    return this.sparse.get(id) ?? -1;
  }

  /** Gives `id` the pre-order number `index`; false when the id is taken (a cycle or a duplicate). */
  claim(id: number, index: number): boolean {
    if (id >= 0 && id < this.dense.length && Number.isInteger(id)) {
      // The common case, V8's ids 1..n: one typed-array read. A taken dense id may still be free
      // in `sparse` only if it was placed there before the table grew over it.
      if (this.dense[id] !== 0) return false;
      if (this.sparse.size > 0 && this.sparse.has(id)) return false;
      this.dense[id] = index + 1;
      return true;
    }
    if (this.find(id) !== -1) return false;
    if (id >= 0 && id < DENSE_IDS && Number.isInteger(id) && id < Math.max(DENSE_GROWTH, 4 * index)) {
      this.dense = grow(this.dense, id + 1);
      this.dense[id] = index + 1;
      return true;
    }
    this.sparse.set(id, index);
    return true;
  }
}

/**
 * Interns (script, line, column, name) as small integers in an open-addressing table: no key string
 * or object per node. A frame without a script id is told apart by its url.
 */
class FrameTable {
  readonly frames: RawFrame[] = [];
  private readonly scripts = new Map<string, number>();
  /** Nodes often repeat the script of the node before: skip the Map then. */
  private lastScriptKey = '';
  private lastScript = -1;
  private readonly frameScript: number[] = [];
  private slots = new Int32Array(4096).fill(-1);

  intern(callFrame: unknown): number {
    // Typed as the protocol says, checked as if it were anything.
    const cf: Partial<RawCallFrame> = typeof callFrame === 'object' && callFrame !== null ? callFrame : {};
    const scriptId = typeof cf.scriptId === 'string' ? cf.scriptId : String(cf.scriptId ?? '');
    const scriptKey = scriptId === '' || scriptId === '0' ? `url:${str(cf.url)}` : scriptId;
    let script = this.lastScript;
    if (scriptKey !== this.lastScriptKey || script === -1) {
      script = this.scripts.get(scriptKey) ?? -1;
      if (script === -1) this.scripts.set(scriptKey, (script = this.scripts.size));
      this.lastScriptKey = scriptKey;
      this.lastScript = script;
    }
    const line = num(cf.lineNumber);
    const column = num(cf.columnNumber);
    const name = str(cf.functionName);
    let h = Math.imul(script + 1, 0x9e3779b1) ^ Math.imul(line | 0, 0x85ebca6b) ^ Math.imul(column | 0, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    const mask = this.slots.length - 1;
    for (let slot = (h ^ (h >>> 13)) & mask; ; slot = (slot + 1) & mask) {
      const f = this.slots[slot];
      if (f === -1) {
        const id = this.frames.length;
        this.slots[slot] = id;
        this.frames.push({ scriptId, url: str(cf.url), line, column, name });
        this.frameScript.push(script);
        if (this.frames.length * 2 > this.slots.length) this.rehash();
        return id;
      }
      const known = this.frames[f];
      if (this.frameScript[f] === script && known.line === line && known.column === column && known.name === name) return f;
    }
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let f = 0; f < this.frames.length; f++) {
      const { line, column } = this.frames[f];
      let h = Math.imul(this.frameScript[f] + 1, 0x9e3779b1) ^ Math.imul(line | 0, 0x85ebca6b) ^ Math.imul(column | 0, 0xc2b2ae35);
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
      let slot = (h ^ (h >>> 13)) & mask;
      while (this.slots[slot] !== -1) slot = (slot + 1) & mask;
      this.slots[slot] = f;
    }
  }
}

/**
 * Pre-order numbering without recursion; duplicate ids and revisited objects are skipped. The walk is
 * a plain method run in slices: optimized like any function (a loop inside a generator is not).
 */
class Walk {
  readonly ids = new IdTable();
  readonly table = new FrameTable();
  readonly selfSizes: unknown[] | undefined;
  parent = new Int32Array(1024);
  frameOf = new Int32Array(1024);
  count = 0;
  private readonly seenObjects = new Set<object>();
  private readonly stackNodes: unknown[];
  private readonly stackParents: number[] = [-1];

  constructor(head: unknown, keepSelfSizes: boolean) {
    this.stackNodes = [head];
    this.selfSizes = keepSelfSizes ? [] : undefined;
  }

  /** Visits up to `budget` entries; true when the walk is over. */
  step(budget: number): boolean {
    const { stackNodes, stackParents, ids, table, selfSizes } = this;
    for (let steps = 0; steps < budget; steps++) {
      if (stackNodes.length === 0) return true;
      const value = stackNodes.pop();
      const parentIndex = stackParents.pop()!;
      if (typeof value !== 'object' || value === null) continue;
      const node = value as Partial<RawProfileNode>;
      const id: unknown = node.id;
      if (typeof id === 'number') {
        // A node seen again (cycle or duplicate) has its id taken already: no object set needed.
        if (!ids.claim(id, this.count)) continue;
      } else {
        if (this.seenObjects.has(value)) continue;
        this.seenObjects.add(value);
      }
      const index = this.count++;
      if (index === this.parent.length) {
        this.parent = grow(this.parent, index + 1);
        this.frameOf = grow(this.frameOf, index + 1);
      }
      this.parent[index] = parentIndex;
      this.frameOf[index] = table.intern(node.callFrame);
      selfSizes?.push(node.selfSize);
      const children: unknown = node.children;
      if (Array.isArray(children)) {
        for (let c = children.length - 1; c >= 0; c--) {
          stackNodes.push(children[c]);
          stackParents.push(index);
        }
      }
    }
    return stackNodes.length === 0;
  }
}

export function* indexProfile(head: unknown, keepSelfSizes: boolean): Steps<ProfileIndex> {
  const walk = new Walk(head, keepSelfSizes);
  while (!walk.step(CHUNK)) yield;
  const { count, parent, frameOf, ids, selfSizes } = walk;
  return { count, parent, frameOf, frames: walk.table.frames, selfSizes, indexOf: (id: number) => ids.find(id) };
}

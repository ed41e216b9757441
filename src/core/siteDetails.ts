/**
 * Stacks and caller lines of one retained site, from the per-node arrays sites.ts builds: only for
 * the heaviest sites, so what is made here is made a few hundred times per capture, not per node.
 */
import type { CallerLine, Frame, SiteStack } from './model';
import type { ResolvedFrame } from './siteFrames';

/** Per-node frames as the stack and caller builders need them. */
export interface NodeFrames {
  parent: Int32Array;
  frameOf: Int32Array;
  resolved: readonly ResolvedFrame[];
  keyOf: Int32Array;
  callerOf: Int32Array;
  lines: CallerLines;
}

/** Caller lines (`file:line`) numbered across sites, with per-site scratch sums. */
export interface CallerLines {
  /** Per distinct frame: its line's number, -1 until needed. */
  ofFrame: Int32Array;
  ids: Map<string, number>;
  keys: string[];
  /** Per line, for the site being built (valid where `stamped` is the site's stamp). */
  bytes: number[];
  frame: number[];
  stamped: number[];
  stamp: number;
}

export function buildStacks(groups: Int32Array, groupBytes: Float64Array, maxStacks: number, maxDepth: number, nodes: NodeFrames): SiteStack[] {
  if (maxStacks === 0) return [];
  // Source maps can fold different nodes into the same frames: merge paths with the same keys. Looking
  // a little past maxStacks lets such duplicates merge without walking every path. Paths are compared
  // by a hash of their keys, confirmed by walking both; frames are built only for the stacks returned.
  const pathHash: number[] = [];
  const pathNode: number[] = [];
  const pathBytes: number[] = [];
  const end = Math.min(groups.length, maxStacks * 4);
  for (let g = 0; g < end; g++) {
    const siteNode = groups[g];
    const hash = hashPath(siteNode, maxDepth, nodes);
    let same = -1;
    for (let p = 0; p < pathNode.length && same === -1; p++) {
      if (pathHash[p] === hash && samePath(pathNode[p], siteNode, maxDepth, nodes)) same = p;
    }
    if (same >= 0) {
      pathBytes[same] += groupBytes[siteNode];
    } else {
      pathHash.push(hash);
      pathNode.push(siteNode);
      pathBytes.push(groupBytes[siteNode]);
    }
  }
  return pathNode
    .map((_, p) => p)
    .sort((a, b) => pathBytes[b] - pathBytes[a] || a - b)
    .slice(0, maxStacks)
    .map((p) => ({ frames: stackFrames(pathNode[p], maxDepth, nodes), bytes: pathBytes[p] }));
}

/** The profiler's own frames (the harness that called the task) and V8's pseudo frames are not the user's stack. */
function kept(node: number, nodes: NodeFrames): boolean {
  const f = nodes.resolved[nodes.frameOf[node]];
  return !f.pseudo && f.frame.category !== 'profiler';
}

/** The nearest node from `node` outward (itself included) whose frame is kept, or -1. */
function nextKept(node: number, nodes: NodeFrames): number {
  let i = node;
  while (i >= 0 && !kept(i, nodes)) i = nodes.parent[i];
  return i;
}

function hashPath(siteNode: number, maxDepth: number, nodes: NodeFrames): number {
  let hash = 0x811c9dc5;
  let depth = 0;
  for (let i = nextKept(siteNode, nodes); i >= 0 && depth < maxDepth; i = nextKept(nodes.parent[i], nodes), depth++) {
    hash = Math.imul(hash ^ nodes.keyOf[nodes.frameOf[i]], 0x01000193);
  }
  return Math.imul(hash ^ depth, 0x01000193);
}

/** True when the stacks from `a` and `b` have the same keys, up to `maxDepth` frames. */
function samePath(a: number, b: number, maxDepth: number, nodes: NodeFrames): boolean {
  let i = nextKept(a, nodes);
  let j = nextKept(b, nodes);
  for (let depth = 0; depth < maxDepth; depth++) {
    if (i < 0 || j < 0) return i < 0 && j < 0;
    if (nodes.keyOf[nodes.frameOf[i]] !== nodes.keyOf[nodes.frameOf[j]]) return false;
    i = nextKept(nodes.parent[i], nodes);
    j = nextKept(nodes.parent[j], nodes);
  }
  return true;
}

/** The frames of the stack from `siteNode` outward, at most `maxDepth`. */
function stackFrames(siteNode: number, maxDepth: number, nodes: NodeFrames): Frame[] {
  const frames: Frame[] = [];
  for (let i = nextKept(siteNode, nodes); i >= 0 && frames.length < maxDepth; i = nextKept(nodes.parent[i], nodes)) {
    frames.push(nodes.resolved[nodes.frameOf[i]].frame);
  }
  return frames;
}

/**
 * The user lines that call into a site, heaviest first (ties by `file:line`). Lines are numbered once
 * per frame; the per-line sums are scratch arrays shared by all sites (stamped with the site), so a
 * site with thousands of paths makes objects only for the callers it returns.
 */
export function buildCallers(groups: Int32Array, groupBytes: Float64Array, maxCallers: number, via: string, nodes: NodeFrames): CallerLine[] {
  if (maxCallers === 0) return [];
  const { frameOf, resolved, callerOf, lines } = nodes;
  const stamp = ++lines.stamp;
  const touched: number[] = [];
  for (const siteNode of groups) {
    const c = callerOf[siteNode];
    if (c < 0) continue;
    const id = frameOf[c];
    let line = lines.ofFrame[id];
    if (line === -1) {
      const f = resolved[id].frame;
      const key = `${f.file}:${f.line}`;
      line = lines.ids.get(key) ?? -1;
      if (line === -1) {
        lines.ids.set(key, (line = lines.keys.length));
        lines.keys.push(key);
      }
      lines.ofFrame[id] = line;
    }
    if (lines.stamped[line] !== stamp) {
      // First caller on this line for this site: it names the line.
      lines.stamped[line] = stamp;
      lines.bytes[line] = groupBytes[siteNode];
      lines.frame[line] = id;
      touched.push(line);
    } else {
      lines.bytes[line] += groupBytes[siteNode];
    }
  }
  const { keys, bytes } = lines;
  return touched
    .sort((a, b) => bytes[b] - bytes[a] || (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : 0))
    .slice(0, maxCallers)
    .map((line) => {
      const f = resolved[lines.frame[line]].frame;
      return { function: f.function, file: f.file, line: f.line, via, bytes: bytes[line] };
    });
}

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
  // as key numbers; frames are built only for the stacks returned.
  const paths: number[][] = [];
  const pathNode: number[] = [];
  const pathBytes: number[] = [];
  const end = Math.min(groups.length, maxStacks * 4);
  for (let g = 0; g < end; g++) {
    const siteNode = groups[g];
    const keys = walkStack(siteNode, maxDepth, nodes, undefined);
    const same = paths.findIndex((path) => path.length === keys.length && path.every((key, i) => key === keys[i]));
    if (same >= 0) {
      pathBytes[same] += groupBytes[siteNode];
    } else {
      paths.push(keys);
      pathNode.push(siteNode);
      pathBytes.push(groupBytes[siteNode]);
    }
  }
  return paths
    .map((_, p) => p)
    .sort((a, b) => pathBytes[b] - pathBytes[a] || a - b)
    .slice(0, maxStacks)
    .map((p) => {
      const frames: Frame[] = [];
      walkStack(pathNode[p], maxDepth, nodes, frames);
      return { frames, bytes: pathBytes[p] };
    });
}

/** The keys of the stack from `siteNode` outward (and its frames into `frames`), capped at `maxDepth`. */
function walkStack(siteNode: number, maxDepth: number, nodes: NodeFrames, frames: Frame[] | undefined): number[] {
  const { parent, frameOf, resolved, keyOf } = nodes;
  const keys: number[] = [];
  for (let i = siteNode; i >= 0 && keys.length < maxDepth; i = parent[i]) {
    const f = resolved[frameOf[i]];
    // The profiler's own frames (the harness that called the task) are not the user's stack.
    if (f.pseudo || f.frame.category === 'profiler') continue;
    keys.push(keyOf[frameOf[i]]);
    frames?.push(f.frame);
  }
  return keys;
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

/**
 * Retained sites: groups a sampling heap profile's retained bytes by the innermost user or dependency
 * frame, with the heaviest stacks and the user lines that call into each site.
 *
 * Profiles can hold a million nodes nested a hundred thousand deep, and malformed input must not
 * hang us, so everything is iterative and linear: nodes are numbered in pre-order (a parent's number
 * is below its children's), which lets one forward pass fill every per-node memo from its parent.
 */
import { classifyFrame, urlToPath } from './frames';
import type { CallerLine, Frame, FrameCategory, RawProfileNode, RawSamplingProfile, RetainedSite, RuntimeKind, SiteStack, SourceMapper } from './model';

export interface AggregateOptions {
  runtime: RuntimeKind;
  mapper?: SourceMapper;
  /** Count only samples with a larger ordinal (what a task allocated after this point). */
  minOrdinalExclusive?: number;
  profilerPaths?: string[];
  /** Default 3. */
  maxStacksPerSite?: number;
  /** Stacks and callers are built for this many of the heaviest sites (default 500). */
  maxDetailedSites?: number;
  /** Default 5. */
  maxCallersPerSite?: number;
  /** Frames kept per stack, from the site outward (default 64): deep recursion must not bloat reports. */
  maxStackDepth?: number;
}

export interface SiteAggregation {
  sites: RetainedSite[];
  /** All counted bytes, including runtime and profiler stacks that are not listed as sites. */
  totalBytes: number;
  byCategory: Record<FrameCategory, number>;
  /** Highest sample ordinal in the profile, filter or not (0 when there are no samples). */
  maxOrdinal: number;
  sampleCount: number;
}

interface ResolvedFrame {
  frame: Frame;
  /** `file:line:function`. */
  key: string;
  /** V8 pseudo frames such as (root): kept out of stacks. */
  pseudo: boolean;
}

interface NodeIndex {
  nodes: RawProfileNode[];
  parent: Int32Array;
  indexOf: (id: number) => number | undefined;
}

/** Ids below this go to a dense array; others (hostile or odd profiles) to a Map. */
const DENSE_IDS = 1 << 24;

/**
 * Work is written as generators that yield every `CHUNK` iterations: `aggregateSites` runs them to
 * the end at once, `aggregateSitesAsync` gives the event loop a turn between time slices, so a
 * million-node profile never blocks the extension host for long.
 */
const CHUNK = 4096;
type Steps<T> = Generator<undefined, T, undefined>;

/** Pre-order numbering without recursion; duplicate ids and revisited objects are skipped. */
function* indexNodes(head: unknown): Steps<NodeIndex> {
  const nodes: RawProfileNode[] = [];
  const parents: number[] = [];
  const idToIndex = new Map<number, number>();
  const denseIds: number[] = [];
  const seenObjects = new Set<object>();
  const stackNodes: unknown[] = [head];
  const stackParents: number[] = [-1];
  let steps = 0;
  while (stackNodes.length > 0) {
    if ((++steps & (CHUNK - 1)) === 0) yield;
    const value = stackNodes.pop();
    const parent = stackParents.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    const node = value as Partial<RawProfileNode>;
    const id = node.id;
    if (typeof id === 'number' && id >= 0 && id < DENSE_IDS && Number.isInteger(id)) {
      // V8 numbers nodes 1..n: a plain array beats a Map of 200k entries. A node seen again
      // (cycle or duplicate) has its id taken already: no object set needed.
      if (denseIds[id] !== undefined) continue;
      denseIds[id] = nodes.length;
    } else if (typeof id === 'number') {
      if (idToIndex.has(id)) continue;
      idToIndex.set(id, nodes.length);
    } else {
      if (seenObjects.has(value)) continue;
      seenObjects.add(value);
    }
    parents.push(parent);
    const index = nodes.length;
    nodes.push(node as RawProfileNode);
    const children: unknown = node.children;
    if (Array.isArray(children)) {
      for (let c = children.length - 1; c >= 0; c--) {
        stackNodes.push(children[c]);
        stackParents.push(index);
      }
    }
  }
  return {
    nodes,
    parent: Int32Array.from(parents),
    indexOf: (id: number) => (id >= 0 && id < DENSE_IDS && Number.isInteger(id) ? denseIds[id] : idToIndex.get(id)),
  };
}

/** Sizes beyond 2^53 bytes (8 PiB) are garbage from a broken target: they would turn every total into Infinity. */
function validSize(size: unknown): size is number {
  return typeof size === 'number' && Number.isFinite(size) && size >= 0 && size <= Number.MAX_SAFE_INTEGER;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function int(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

const PSEUDO_NAME = /^\(.*\)$/;

class FrameResolver {
  /** scriptId (or url when the id says nothing) → line/column → function name → frame. */
  private readonly cache = new Map<string, Map<number, Map<string, ResolvedFrame>>>();

  constructor(private readonly options: AggregateOptions) {}

  resolve(node: RawProfileNode): ResolvedFrame {
    const cf: Partial<RawProfileNode['callFrame']> = typeof node.callFrame === 'object' && node.callFrame !== null ? node.callFrame : {};
    const scriptId = String(cf.scriptId ?? '');
    const url = str(cf.url);
    const line = int(cf.lineNumber);
    const column = int(cf.columnNumber);
    const rawName = str(cf.functionName);
    // Numbers and short ids, not one long string per node: 200k nodes share a few thousand frames.
    const scriptKey = scriptId === '' || scriptId === '0' ? `url:${url}` : scriptId;
    let byPosition = this.cache.get(scriptKey);
    if (!byPosition) this.cache.set(scriptKey, (byPosition = new Map<number, Map<string, ResolvedFrame>>()));
    const position = line * 1_000_003 + column;
    let byName = byPosition.get(position);
    if (!byName) byPosition.set(position, (byName = new Map<string, ResolvedFrame>()));
    const cached = byName.get(rawName);
    if (cached) return cached;

    let file = urlToPath(url);
    let outLine = line + 1;
    let outColumn = column + 1;
    let name = rawName;
    const mapper = this.options.mapper;
    if (mapper && url !== '') {
      let original: ReturnType<SourceMapper['original']>;
      try {
        original = mapper.original(scriptId, url, line, column);
      } catch {
        original = undefined; // a broken map must not cost us the whole profile
      }
      if (original) {
        file = original.file;
        outLine = original.line;
        outColumn = original.column;
        if (name === '' && original.name) name = original.name;
      }
    }
    if (name === '') name = '(anonymous)';
    const category = classifyFrame(file, name, { profilerPaths: this.options.profilerPaths ?? [] });
    const resolved: ResolvedFrame = {
      frame: { function: name, file, line: outLine, column: outColumn, category },
      key: `${file}:${outLine}:${name}`,
      pseudo: file === '' && PSEUDO_NAME.test(name),
    };
    byName.set(rawName, resolved);
    return resolved;
  }
}

interface SiteAccumulator {
  resolved: ResolvedFrame;
  bytes: number;
  count: number;
  /** Bytes per site node: each node stands for one distinct path to the root. */
  groups: Map<number, number>;
}

function emptyCategories(): Record<FrameCategory, number> {
  return { user: 0, dependency: 0, runtime: 0, profiler: 0 };
}

export function aggregateSites(profile: RawSamplingProfile, options: AggregateOptions): SiteAggregation {
  const steps = aggregateSteps(profile, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `aggregateSites` in slices of about `sliceMs` with a `setImmediate` turn between them: the same
 * result, and the event loop (statistics, UI) keeps running while a big profile is analysed.
 */
export async function aggregateSitesAsync(profile: RawSamplingProfile, options: AggregateOptions, sliceMs = 20): Promise<SiteAggregation> {
  const steps = aggregateSteps(profile, options);
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

function* aggregateSteps(profile: RawSamplingProfile, options: AggregateOptions): Steps<SiteAggregation> {
  const { nodes, parent, indexOf } = yield* indexNodes(profile?.head);
  const n = nodes.length;
  const bytes = new Float64Array(n);
  const counts = new Float64Array(n);
  let maxOrdinal = 0;
  let sampleCount = 0;

  const samples: unknown = profile?.samples;
  if (Array.isArray(samples) && samples.length > 0) {
    const minOrdinal = options.minOrdinalExclusive;
    let steps = 0;
    for (const raw of samples as unknown[]) {
      if ((++steps & (CHUNK - 1)) === 0) yield;
      if (typeof raw !== 'object' || raw === null) continue;
      const sample = raw as { size?: unknown; nodeId?: unknown; ordinal?: unknown };
      const ordinal = typeof sample.ordinal === 'number' && Number.isFinite(sample.ordinal) ? sample.ordinal : undefined;
      if (ordinal !== undefined && ordinal > maxOrdinal) maxOrdinal = ordinal;
      if (!validSize(sample.size) || typeof sample.nodeId !== 'number') continue;
      if (minOrdinal !== undefined && !(ordinal !== undefined && ordinal > minOrdinal)) continue;
      const index = indexOf(sample.nodeId);
      if (index === undefined) continue;
      bytes[index] += sample.size;
      counts[index] += 1;
    }
  } else {
    // No samples: selfSize is all we have, and it carries no ordinals to filter on.
    for (let i = 0; i < n; i++) {
      if ((i & (CHUNK - 1)) === CHUNK - 1) yield;
      const size: unknown = nodes[i].selfSize;
      if (validSize(size) && size > 0) {
        bytes[i] = size;
        counts[i] = 1;
      }
    }
  }

  // Per-node memos, filled parent-first.
  const resolver = new FrameResolver(options);
  const frames: ResolvedFrame[] = new Array<ResolvedFrame>(n);
  const siteOf = new Int32Array(n); // innermost user/dependency frame on the path, or -1
  const profilerOnPath = new Uint8Array(n);
  const userAbove = new Int32Array(n); // nearest strict ancestor in user code, or -1
  const callerOf = new Int32Array(n); // nearest user ancestor whose key differs (skips recursion), or -1
  for (let i = 0; i < n; i++) {
    if ((i & (CHUNK - 1)) === CHUNK - 1) yield;
    const f = resolver.resolve(nodes[i]);
    frames[i] = f;
    const p = parent[i];
    const category = f.frame.category;
    siteOf[i] = category === 'user' || category === 'dependency' ? i : p >= 0 ? siteOf[p] : -1;
    profilerOnPath[i] = category === 'profiler' || (p >= 0 && profilerOnPath[p] === 1) ? 1 : 0;
    userAbove[i] = p < 0 ? -1 : frames[p].frame.category === 'user' ? p : userAbove[p];
    const above = userAbove[i];
    // An ancestor with the same key has already skipped past that key itself.
    callerOf[i] = above < 0 ? -1 : frames[above].key !== f.key ? above : callerOf[above];
  }

  const byCategory = emptyCategories();
  const accumulators = new Map<string, SiteAccumulator>();
  let totalBytes = 0;
  for (let i = 0; i < n; i++) {
    if ((i & (CHUNK - 1)) === CHUNK - 1) yield;
    const c = counts[i];
    if (c === 0) continue;
    const b = bytes[i];
    totalBytes += b;
    sampleCount += c;
    const s = siteOf[i];
    if (s < 0) {
      byCategory[profilerOnPath[i] === 1 ? 'profiler' : 'runtime'] += b;
      continue;
    }
    const resolved = frames[s];
    let acc = accumulators.get(resolved.key);
    if (!acc) {
      acc = { resolved, bytes: 0, count: 0, groups: new Map() };
      accumulators.set(resolved.key, acc);
    }
    acc.bytes += b;
    acc.count += c;
    acc.groups.set(s, (acc.groups.get(s) ?? 0) + b);
  }

  const maxStacks = Math.max(0, options.maxStacksPerSite ?? 3);
  const maxCallers = Math.max(0, options.maxCallersPerSite ?? 5);
  const maxDepth = Math.max(1, options.maxStackDepth ?? 64);
  const precision = options.runtime === 'python' ? 'line' : 'function';
  const sites: RetainedSite[] = [];
  const groupsBySite = new Map<RetainedSite, Map<number, number>>();
  for (const [key, acc] of accumulators) {
    const f = acc.resolved.frame;
    byCategory[f.category] += acc.bytes;
    const site: RetainedSite = {
      key,
      function: f.function,
      file: f.file,
      line: f.line,
      column: f.column,
      category: f.category,
      precision,
      retainedBytes: acc.bytes,
      count: acc.count,
      share: totalBytes > 0 ? acc.bytes / totalBytes : 0,
      stacks: [],
      callers: [],
    };
    sites.push(site);
    groupsBySite.set(site, acc.groups);
  }
  sites.sort(compareSites);
  // Stacks and callers for the heaviest sites only: a report lists a few hundred at most, and
  // walking every site's paths was most of the analysis time on big profiles.
  const detailed = Math.min(sites.length, Math.max(0, options.maxDetailedSites ?? 500));
  let built = 0;
  for (let i = 0; i < detailed; i++) {
    const site = sites[i];
    const siteGroups = groupsBySite.get(site)!;
    built += siteGroups.size + maxStacks * 4;
    if (built >= CHUNK / 4) {
      built = 0;
      yield;
    }
    const groups = [...siteGroups].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    site.stacks = buildStacks(groups, maxStacks, maxDepth, frames, parent);
    site.callers = buildCallers(groups, maxCallers, site.function, frames, callerOf);
  }
  return { sites, totalBytes, byCategory, maxOrdinal, sampleCount };
}

export function compareSites(a: RetainedSite, b: RetainedSite): number {
  if (b.retainedBytes !== a.retainedBytes) return b.retainedBytes - a.retainedBytes;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function buildStacks(
  groups: ReadonlyArray<readonly [number, number]>,
  maxStacks: number,
  maxDepth: number,
  frames: readonly ResolvedFrame[],
  parent: Int32Array,
): SiteStack[] {
  if (maxStacks === 0) return [];
  // Source maps can fold different nodes into the same frames: merge by signature. Looking a little
  // past maxStacks lets such duplicates merge without walking every path.
  const merged = new Map<string, SiteStack>();
  for (const [siteNode, groupBytes] of groups.slice(0, maxStacks * 4)) {
    const stackFrames: Frame[] = [];
    const keys: string[] = [];
    for (let i = siteNode; i >= 0 && stackFrames.length < maxDepth; i = parent[i]!) {
      const f = frames[i];
      // The profiler's own frames (the harness that called the task) are not the user's stack.
      if (f.pseudo || f.frame.category === 'profiler') continue;
      stackFrames.push(f.frame);
      keys.push(f.key);
    }
    const signature = keys.join('\n');
    const existing = merged.get(signature);
    if (existing) existing.bytes += groupBytes;
    else merged.set(signature, { frames: stackFrames, bytes: groupBytes });
  }
  return [...merged.values()].sort((a, b) => b.bytes - a.bytes).slice(0, maxStacks);
}

function buildCallers(
  groups: ReadonlyArray<readonly [number, number]>,
  maxCallers: number,
  via: string,
  frames: readonly ResolvedFrame[],
  callerOf: Int32Array,
): CallerLine[] {
  if (maxCallers === 0) return [];
  const byLine = new Map<string, CallerLine>();
  for (const [siteNode, groupBytes] of groups) {
    const c = callerOf[siteNode];
    if (c < 0) continue;
    const f = frames[c].frame;
    const lineKey = `${f.file}:${f.line}`;
    const existing = byLine.get(lineKey);
    if (existing) existing.bytes += groupBytes;
    else byLine.set(lineKey, { function: f.function, file: f.file, line: f.line, via, bytes: groupBytes });
  }
  return [...byLine.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxCallers)
    .map(([, caller]) => caller);
}

/**
 * Retained sites: groups a sampling heap profile's retained bytes by the innermost user or dependency
 * frame, with the heaviest stacks and the user lines that call into each site.
 *
 * It runs after every capture, so it is built to stay well under the cost of parsing the profile:
 * one walk of the node objects (profileIndex.ts), each distinct frame resolved once (siteFrames.ts),
 * then passes over typed arrays in pre-order, where every per-node memo is filled from its parent's.
 */
import type { CallerLine, Frame, FrameCategory, RawSamplingProfile, RetainedSite, RuntimeKind, SiteStack, SourceMapper } from './model';
import { CHUNK, indexProfile, type Steps } from './profileIndex';
import { DEPENDENCY, PROFILER, USER, resolveFrames, type ResolvedFrame } from './siteFrames';

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

/** Per-node frames as the stack and caller builders need them. */
interface NodeFrames {
  parent: Int32Array;
  frameOf: Int32Array;
  resolved: readonly ResolvedFrame[];
  keyOf: Int32Array;
  callerOf: Int32Array;
}

/** Sizes beyond 2^53 bytes (8 PiB) are garbage from a broken target: they would turn every total into Infinity. */
function validSize(size: unknown): size is number {
  return typeof size === 'number' && Number.isFinite(size) && size >= 0 && size <= Number.MAX_SAFE_INTEGER;
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
  const samples: unknown = profile?.samples;
  const haveSamples = Array.isArray(samples) && samples.length > 0;
  const { count: n, parent, frameOf, frames, selfSizes, indexOf } = yield* indexProfile(profile?.head, !haveSamples);
  const bytes = new Float64Array(n);
  const counts = new Float64Array(n);
  let maxOrdinal = 0;
  let sampleCount = 0;

  if (haveSamples) {
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
      if (index === -1) continue;
      bytes[index] += sample.size;
      counts[index] += 1;
    }
  } else if (selfSizes) {
    // No samples: selfSize is all we have, and it carries no ordinals to filter on.
    for (let i = 0; i < n; i++) {
      const size = selfSizes[i];
      if (validSize(size) && size > 0) {
        bytes[i] = size;
        counts[i] = 1;
      }
    }
  }

  const { resolved, category, keyOf, keyCount } = yield* resolveFrames(frames, options);

  // Per-node memos, filled parent-first (integers only).
  const siteOf = new Int32Array(n); // innermost user/dependency frame on the path, or -1
  const profilerOnPath = new Uint8Array(n);
  const userAbove = new Int32Array(n); // nearest strict ancestor in user code, or -1
  const callerOf = new Int32Array(n); // nearest user ancestor whose key differs (skips recursion), or -1
  for (let i = 0; i < n; i++) {
    if ((i & (CHUNK - 1)) === CHUNK - 1) yield;
    const f = frameOf[i];
    const p = parent[i];
    const c = category[f];
    siteOf[i] = c === USER || c === DEPENDENCY ? i : p >= 0 ? siteOf[p] : -1;
    profilerOnPath[i] = c === PROFILER || (p >= 0 && profilerOnPath[p] === 1) ? 1 : 0;
    userAbove[i] = p < 0 ? -1 : category[frameOf[p]] === USER ? p : userAbove[p];
    const above = userAbove[i];
    // An ancestor with the same key has already skipped past that key itself.
    callerOf[i] = above < 0 ? -1 : keyOf[frameOf[above]] !== keyOf[f] ? above : callerOf[above];
  }

  // Per key: bytes, count and the frame that stands for it (the first site node's, in pre-order);
  // per site node: its bytes (each site node stands for one distinct path to the root).
  const byCategory: Record<FrameCategory, number> = { user: 0, dependency: 0, runtime: 0, profiler: 0 };
  const keyBytes = new Float64Array(keyCount);
  const keyCounts = new Float64Array(keyCount);
  const keyFrame = new Int32Array(keyCount).fill(-1);
  const keyGroups = new Int32Array(keyCount);
  const keysSeen: number[] = [];
  const groupBytes = new Float64Array(n);
  const isGroup = new Uint8Array(n);
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
    const k = keyOf[frameOf[s]];
    if (keyFrame[k] === -1) {
      keyFrame[k] = frameOf[s];
      keysSeen.push(k);
    }
    keyBytes[k] += b;
    keyCounts[k] += c;
    if (isGroup[s] === 0) {
      isGroup[s] = 1;
      keyGroups[k]++;
    }
    groupBytes[s] += b;
  }

  const precision = options.runtime === 'python' ? 'line' : 'function';
  const sites: RetainedSite[] = [];
  const keyOfSite = new Map<RetainedSite, number>();
  for (const k of keysSeen) {
    const { frame: f, key } = resolved[keyFrame[k]];
    byCategory[f.category] += keyBytes[k];
    const site: RetainedSite = {
      key,
      function: f.function,
      file: f.file,
      line: f.line,
      column: f.column,
      category: f.category,
      precision,
      retainedBytes: keyBytes[k],
      count: keyCounts[k],
      share: totalBytes > 0 ? keyBytes[k] / totalBytes : 0,
      stacks: [],
      callers: [],
    };
    sites.push(site);
    keyOfSite.set(site, k);
  }
  sites.sort(compareSites);

  // Stacks and callers for the heaviest sites only: a report lists a few hundred at most, and
  // walking every site's paths was most of the analysis time on big profiles.
  const detailed = Math.min(sites.length, Math.max(0, options.maxDetailedSites ?? 500));
  const detailedKeys = sites.slice(0, detailed).map((site) => keyOfSite.get(site)!);
  const groupsOf = yield* collectGroups(detailedKeys, keyGroups, isGroup, frameOf, keyOf, n);
  const nodeFrames: NodeFrames = { parent, frameOf, resolved, keyOf, callerOf };
  const maxStacks = Math.max(0, options.maxStacksPerSite ?? 3);
  const maxCallers = Math.max(0, options.maxCallersPerSite ?? 5);
  const maxDepth = Math.max(1, options.maxStackDepth ?? 64);
  let built = 0;
  for (let d = 0; d < detailed; d++) {
    const site = sites[d];
    const groups = groupsOf[d];
    built += groups.length + maxStacks * 4;
    if (built >= CHUNK / 4) {
      built = 0;
      yield;
    }
    // Heaviest path first; equal bytes in pre-order.
    groups.sort((a, b) => groupBytes[b] - groupBytes[a] || a - b);
    site.stacks = buildStacks(groups, groupBytes, maxStacks, maxDepth, nodeFrames);
    site.callers = buildCallers(groups, groupBytes, maxCallers, site.function, nodeFrames);
  }
  return { sites, totalBytes, byCategory, maxOrdinal, sampleCount };
}

/** The site nodes of each of `keys` (in pre-order), from one pass over the nodes. */
function* collectGroups(
  keys: readonly number[],
  keyGroups: Int32Array,
  isGroup: Uint8Array,
  frameOf: Int32Array,
  keyOf: Int32Array,
  n: number,
): Steps<Int32Array[]> {
  const slotOfKey = new Int32Array(keyGroups.length).fill(-1);
  const groups = keys.map((k, slot) => {
    slotOfKey[k] = slot;
    return new Int32Array(keyGroups[k]);
  });
  const filled = new Int32Array(keys.length);
  for (let s = 0; s < n; s++) {
    if ((s & (CHUNK - 1)) === CHUNK - 1) yield;
    if (isGroup[s] === 0) continue;
    const slot = slotOfKey[keyOf[frameOf[s]]];
    if (slot >= 0) groups[slot][filled[slot]++] = s;
  }
  return groups;
}

export function compareSites(a: RetainedSite, b: RetainedSite): number {
  if (b.retainedBytes !== a.retainedBytes) return b.retainedBytes - a.retainedBytes;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function buildStacks(groups: Int32Array, groupBytes: Float64Array, maxStacks: number, maxDepth: number, nodes: NodeFrames): SiteStack[] {
  if (maxStacks === 0) return [];
  // Source maps can fold different nodes into the same frames: merge by signature. Looking a little
  // past maxStacks lets such duplicates merge without walking every path.
  const merged = new Map<string, SiteStack>();
  const { parent, frameOf, resolved } = nodes;
  const end = Math.min(groups.length, maxStacks * 4);
  for (let g = 0; g < end; g++) {
    const siteNode = groups[g];
    const stackFrames: Frame[] = [];
    const keys: string[] = [];
    for (let i = siteNode; i >= 0 && stackFrames.length < maxDepth; i = parent[i]) {
      const f = resolved[frameOf[i]];
      // The profiler's own frames (the harness that called the task) are not the user's stack.
      if (f.pseudo || f.frame.category === 'profiler') continue;
      stackFrames.push(f.frame);
      keys.push(f.key);
    }
    const signature = keys.join('\n');
    const existing = merged.get(signature);
    if (existing) existing.bytes += groupBytes[siteNode];
    else merged.set(signature, { frames: stackFrames, bytes: groupBytes[siteNode] });
  }
  return [...merged.values()].sort((a, b) => b.bytes - a.bytes).slice(0, maxStacks);
}

function buildCallers(groups: Int32Array, groupBytes: Float64Array, maxCallers: number, via: string, nodes: NodeFrames): CallerLine[] {
  if (maxCallers === 0) return [];
  const byLine = new Map<string, CallerLine>();
  const { frameOf, resolved, callerOf } = nodes;
  for (const siteNode of groups) {
    const c = callerOf[siteNode];
    if (c < 0) continue;
    const f = resolved[frameOf[c]].frame;
    const lineKey = `${f.file}:${f.line}`;
    const existing = byLine.get(lineKey);
    if (existing) existing.bytes += groupBytes[siteNode];
    else byLine.set(lineKey, { function: f.function, file: f.file, line: f.line, via, bytes: groupBytes[siteNode] });
  }
  return [...byLine.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxCallers)
    .map(([, caller]) => caller);
}

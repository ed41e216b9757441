/**
 * Retained sites: groups a sampling heap profile's retained bytes by the innermost user or dependency
 * frame, with the heaviest stacks and the user lines that call into each site.
 *
 * It runs after every capture, so it is built to stay well under the cost of parsing the profile:
 * one walk of the node objects (profileIndex.ts), each distinct frame resolved once (siteFrames.ts),
 * then passes over typed arrays in pre-order, where every per-node memo is filled from its parent's.
 */
import type { FrameCategory, RawSamplingProfile, RetainedSite, SourceMapper } from './model';
import { CHUNK, indexProfile, type Steps } from './profileIndex';
import { buildCallers, buildStacks, type NodeFrames } from './siteDetails';
import { DEPENDENCY, PROFILER, USER, resolveFrames } from './siteFrames';

export interface AggregateOptions {
  /** How exactly the runtime places an allocation: its function (V8) or its line (tracemalloc). */
  precision: RetainedSite['precision'];
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
  const sums = new Float64Array(SUMS);

  // The hot loops are plain functions over slices: they are optimized like any function, where a
  // loop inside a generator waits for on-stack replacement and deoptimizes at the next loop.
  if (haveSamples) {
    const list = samples as unknown[];
    for (let from = 0; from < list.length; from += CHUNK) {
      countSamples(list, from, Math.min(list.length, from + CHUNK), options.minOrdinalExclusive, indexOf, bytes, counts, sums);
      yield;
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
  const memos: Memos = {
    parent,
    frameOf,
    category,
    keyOf,
    siteOf: new Int32Array(n),
    profilerOnPath: new Uint8Array(n),
    userAbove: new Int32Array(n),
    callerOf: new Int32Array(n),
  };
  for (let from = 0; from < n; from += CHUNK) {
    fillMemos(memos, from, Math.min(n, from + CHUNK));
    yield;
  }

  const keys: KeySums = {
    bytes: new Float64Array(keyCount),
    counts: new Float64Array(keyCount),
    frame: new Int32Array(keyCount).fill(-1),
    groups: new Int32Array(keyCount),
    seen: [],
  };
  const groupBytes = new Float64Array(n);
  const isGroup = new Uint8Array(n);
  for (let from = 0; from < n; from += CHUNK) {
    sumSites(memos, bytes, counts, from, Math.min(n, from + CHUNK), keys, groupBytes, isGroup, sums);
    yield;
  }

  const totalBytes = sums[TOTAL_BYTES];
  const byCategory: Record<FrameCategory, number> = { user: 0, dependency: 0, runtime: sums[RUNTIME_BYTES], profiler: sums[PROFILER_BYTES] };
  const precision = options.precision;
  const sites: RetainedSite[] = [];
  const keyOfSite = new Map<RetainedSite, number>();
  for (const k of keys.seen) {
    const { frame: f, key } = resolved[keys.frame[k]];
    byCategory[f.category] += keys.bytes[k];
    const site: RetainedSite = {
      key,
      function: f.function,
      file: f.file,
      line: f.line,
      column: f.column,
      category: f.category,
      precision,
      retainedBytes: keys.bytes[k],
      count: keys.counts[k],
      share: totalBytes > 0 ? keys.bytes[k] / totalBytes : 0,
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
  const groupsOf = yield* collectGroups(detailedKeys, keys.groups, isGroup, frameOf, keyOf, n);
  const nodeFrames: NodeFrames = {
    parent,
    frameOf,
    resolved,
    keyOf,
    callerOf: memos.callerOf,
    lines: { ofFrame: new Int32Array(resolved.length).fill(-1), ids: new Map(), keys: [], bytes: [], frame: [], stamped: [], stamp: 0 },
  };
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
  return { sites, totalBytes, byCategory, maxOrdinal: sums[MAX_ORDINAL], sampleCount: sums[SAMPLE_COUNT] };
}

/** Slots of the running sums (a typed array: doubles without boxing). */
const MAX_ORDINAL = 0;
const TOTAL_BYTES = 1;
const SAMPLE_COUNT = 2;
const RUNTIME_BYTES = 3;
const PROFILER_BYTES = 4;
const SUMS = 5;

function countSamples(
  samples: unknown[],
  from: number,
  to: number,
  minOrdinal: number | undefined,
  indexOf: (id: number) => number,
  bytes: Float64Array,
  counts: Float64Array,
  sums: Float64Array,
): void {
  for (let s = from; s < to; s++) {
    const raw = samples[s];
    if (typeof raw !== 'object' || raw === null) continue;
    const sample = raw as { size?: unknown; nodeId?: unknown; ordinal?: unknown };
    const ordinal = typeof sample.ordinal === 'number' && Number.isFinite(sample.ordinal) ? sample.ordinal : undefined;
    if (ordinal !== undefined && ordinal > sums[MAX_ORDINAL]) sums[MAX_ORDINAL] = ordinal;
    if (!validSize(sample.size) || typeof sample.nodeId !== 'number') continue;
    if (minOrdinal !== undefined && !(ordinal !== undefined && ordinal > minOrdinal)) continue;
    const index = indexOf(sample.nodeId);
    if (index === -1) continue;
    bytes[index] += sample.size;
    counts[index] += 1;
  }
}

interface Memos {
  parent: Int32Array;
  frameOf: Int32Array;
  /** Per distinct frame. */
  category: Uint8Array;
  keyOf: Int32Array;
  /** Innermost user/dependency frame on the path, or -1. */
  siteOf: Int32Array;
  profilerOnPath: Uint8Array;
  /** Nearest strict ancestor in user code, or -1. */
  userAbove: Int32Array;
  /** Nearest user ancestor whose key differs (skips recursion), or -1. */
  callerOf: Int32Array;
}

/** Per-node memos, filled parent-first (a parent's number is below its children's). */
function fillMemos(m: Memos, from: number, to: number): void {
  const { parent, frameOf, category, keyOf, siteOf, profilerOnPath, userAbove, callerOf } = m;
  for (let i = from; i < to; i++) {
    const f = frameOf[i];
    const p = parent[i];
    const c = category[f];
    // What our own code allocates (a task-mark subscriber the program's publish called) is ours,
    // not the calling line's: only a user or dependency frame called from it is a site again.
    siteOf[i] = c === USER || c === DEPENDENCY ? i : c === PROFILER ? -1 : p >= 0 ? siteOf[p] : -1;
    profilerOnPath[i] = c === PROFILER || (p >= 0 && profilerOnPath[p] === 1) ? 1 : 0;
    userAbove[i] = p < 0 ? -1 : category[frameOf[p]] === USER ? p : userAbove[p];
    const above = userAbove[i];
    // An ancestor with the same key has already skipped past that key itself.
    callerOf[i] = above < 0 ? -1 : keyOf[frameOf[above]] !== keyOf[f] ? above : callerOf[above];
  }
}

/** Per key: bytes, count, the frame that stands for it (its first site node's) and its site nodes. */
interface KeySums {
  bytes: Float64Array;
  counts: Float64Array;
  frame: Int32Array;
  groups: Int32Array;
  /** Keys in order of first appearance. */
  seen: number[];
}

/** Adds each counted node to its site's key and to its site node (one distinct path to the root). */
function sumSites(
  m: Memos,
  bytes: Float64Array,
  counts: Float64Array,
  from: number,
  to: number,
  keys: KeySums,
  groupBytes: Float64Array,
  isGroup: Uint8Array,
  sums: Float64Array,
): void {
  const { frameOf, keyOf, siteOf, profilerOnPath } = m;
  for (let i = from; i < to; i++) {
    const c = counts[i];
    if (c === 0) continue;
    const b = bytes[i];
    sums[TOTAL_BYTES] += b;
    sums[SAMPLE_COUNT] += c;
    const s = siteOf[i];
    if (s < 0) {
      sums[profilerOnPath[i] === 1 ? PROFILER_BYTES : RUNTIME_BYTES] += b;
      continue;
    }
    const k = keyOf[frameOf[s]];
    if (keys.frame[k] === -1) {
      keys.frame[k] = frameOf[s];
      keys.seen.push(k);
    }
    keys.bytes[k] += b;
    keys.counts[k] += c;
    if (isGroup[s] === 0) {
      isGroup[s] = 1;
      keys.groups[k]++;
    }
    groupBytes[s] += b;
  }
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

// Analysis bench: a synthetic sampling heap profile of 200k nodes (user scripts compiled from
// TypeScript with source maps, dependencies, Node internals), analysed the way a capture is
// (SourceMapStore + aggregateSites), timed against JSON.parse of the same profile text.
// Bundled and loaded by bench/run.mjs (esbuild); nothing here does I/O.
import { performance } from 'node:perf_hooks';
import { aggregateSites } from '../../src/core/sites';
import { SourceMapStore } from '../../src/core/sourcemaps';
import type { RawProfileNode, RawSample, RawSamplingProfile } from '../../src/core/model';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function vlq(value: number): string {
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += B64[digit];
  } while (v > 0);
  return out;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Script {
  id: string;
  url: string;
  user: boolean;
  lines: number;
}

export interface Fixture {
  text: string;
  nodes: number;
  samples: number;
  maps: Array<{ scriptId: string; url: string; text: string; mapUrl: string }>;
}

/** A profile with `nodeCount` nodes; a third of them allocate; source maps for the user scripts. */
export function makeFixture(nodeCount = 200_000, seed = 42): Fixture {
  const random = rng(seed);
  const root = '/srv/app';
  const scripts: Script[] = [];
  for (let i = 0; i < 30; i++) scripts.push({ id: String(100 + i), url: `file://${root}/dist/module${i}.js`, user: true, lines: 1500 });
  for (let i = 0; i < 15; i++) scripts.push({ id: String(200 + i), url: `${root}/node_modules/dep${i}/lib/index.js`, user: false, lines: 3000 });
  for (let i = 0; i < 10; i++) scripts.push({ id: String(300 + i), url: `node:internal/module${i}`, user: false, lines: 800 });
  const functions = Array.from({ length: 4000 }, (_, i) => {
    const script = scripts[Math.floor(random() * scripts.length)];
    return {
      functionName: `fn${i}`,
      scriptId: script.id,
      url: script.url,
      lineNumber: Math.floor(random() * script.lines),
      columnNumber: Math.floor(random() * 40),
    };
  });
  const head: RawProfileNode = {
    callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 },
    selfSize: 0,
    id: 1,
    children: [],
  };
  const all: Array<{ node: RawProfileNode; depth: number }> = [{ node: head, depth: 0 }];
  while (all.length < nodeCount) {
    // Prefer recent nodes: deep, bushy stacks as in real programs (depth up to ~60).
    const pick = random() < 0.7 ? all[all.length - 1 - Math.floor(random() * Math.min(all.length, 50))] : all[Math.floor(random() * all.length)];
    const parent = pick.depth < 60 ? pick : all[Math.floor(random() * Math.min(all.length, 1000))];
    const node: RawProfileNode = { callFrame: { ...functions[Math.floor(random() * functions.length)] }, selfSize: 0, id: all.length + 1, children: [] };
    parent.node.children.push(node);
    all.push({ node, depth: parent.depth + 1 });
  }
  const samples: RawSample[] = [];
  let ordinal = 0;
  for (const { node } of all) {
    if (random() < 0.33) {
      const count = 1 + Math.floor(random() * 3);
      for (let k = 0; k < count; k++) {
        const size = 8192 * (1 + Math.floor(random() * 4));
        node.selfSize += size;
        samples.push({ size, nodeId: node.id, ordinal: (ordinal += 1 + Math.floor(random() * 5)) });
      }
    }
  }
  const profile: RawSamplingProfile = { head, samples };
  const maps = scripts
    .filter((s) => s.user)
    .map((s, i) => {
      // One mapped segment every 8 columns up to column 80, on every line; original lines shifted.
      const lines: string[] = [];
      let prevLine = 0;
      let prevCol = 0;
      for (let line = 0; line < s.lines; line++) {
        const segs: string[] = [];
        let genCol = 0;
        for (let col = 0; col < 80; col += 8) {
          const origLine = line + 3;
          const origCol = col + 2;
          segs.push(vlq(col - genCol) + vlq(0) + vlq(origLine - prevLine) + vlq(origCol - prevCol));
          genCol = col;
          prevLine = origLine;
          prevCol = origCol;
        }
        lines.push(segs.join(','));
      }
      const text = JSON.stringify({ version: 3, file: `module${i}.js`, sources: [`../src/module${i}.ts`], names: [], mappings: lines.join(';') });
      return { scriptId: s.id, url: s.url, text, mapUrl: `${s.url}.map` };
    });
  return { text: JSON.stringify(profile), nodes: all.length, samples: samples.length, maps };
}

/** JSON.parse of the profile text: the baseline (the connection does it for every capture anyway). */
export function timeParse(fixture: Fixture): number {
  const t0 = performance.now();
  const parsed = JSON.parse(fixture.text) as RawSamplingProfile;
  const ms = performance.now() - t0;
  if (!parsed.head) throw new Error('bad fixture');
  return ms;
}

/**
 * The analysis of one capture: source maps into a SourceMapStore (as the session's loader does, map
 * text already read) and aggregateSites with that mapper. The profile object is parsed beforehand
 * (not timed): the figure is analysis time / parse time. Returns the two parts separately.
 */
export function timeAnalysis(fixture: Fixture): { totalMs: number; mapsMs: number; aggregateMs: number; sites: number } {
  const profile = JSON.parse(fixture.text) as RawSamplingProfile;
  const t0 = performance.now();
  const store = new SourceMapStore();
  for (const m of fixture.maps) {
    const problem = store.add(m.scriptId, m.url, m.text, m.mapUrl);
    if (problem) throw new Error(problem);
  }
  const t1 = performance.now();
  const aggregation = aggregateSites(profile, { precision: 'function', mapper: store, profilerPaths: ['/opt/taskmem/dist/'] });
  const t2 = performance.now();
  return { totalMs: t2 - t0, mapsMs: t1 - t0, aggregateMs: t2 - t1, sites: aggregation.sites.length };
}

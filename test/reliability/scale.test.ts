/**
 * Scale: a million-node profile is analysed in slices (no long event-loop stall) with the same
 * result as the one-shot analysis, and a 24-hour session's statistics (864,000 points at 10 Hz)
 * stay bounded in the engine's series and the panel host's buffer. Timing figures go to the bench
 * (bench/reliability-scale.mjs); the bounds here are generous so they cannot flake.
 */
import { strict as assert } from 'node:assert';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { HeapStatsPoint, RawProfileNode, RawSample, RawSamplingProfile } from '../../src/core/model';
import { aggregateSites, aggregateSitesAsync } from '../../src/core/sites';
import { StatsSeries } from '../../src/core/timeseries';
import { HostStatsBuffer } from '../../src/extension/panel/statsBuffer';
import { Rng, trapUnhandled } from './helpers';

/** A wide and deep synthetic profile: `n` nodes over 300 files and 5,000 functions, one sample each. */
export function syntheticProfile(n: number, seed = 1): RawSamplingProfile {
  const rng = new Rng(seed);
  const frame = (i: number) => ({
    functionName: i === 0 ? '(root)' : `f${i % 5000}`,
    scriptId: String(i % 300),
    url: i === 0 ? '' : `/app/src/m${i % 300}.js`,
    lineNumber: i % 400,
    columnNumber: 2,
  });
  const nodes: RawProfileNode[] = [{ id: 0, selfSize: 0, children: [], callFrame: frame(0) }];
  const samples: RawSample[] = [];
  for (let i = 1; i < n; i++) {
    // Mostly near recent nodes (deep chains), sometimes anywhere (wide).
    const parent = nodes[rng.next() < 0.7 ? Math.max(0, i - 1 - rng.int(3)) : rng.int(i)];
    const node: RawProfileNode = { id: i, selfSize: 0, children: [], callFrame: frame(i) };
    parent.children.push(node);
    nodes.push(node);
    samples.push({ nodeId: i, size: 64 + (i % 7) * 8, ordinal: i });
  }
  return { head: nodes[0], samples };
}

const collect = (): void => {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
};

function heapUsedAfterGc(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

function point(t: number, i: number): HeapStatsPoint {
  return { t, targetId: 'node:1', heapUsed: 50e6 + (i % 1000) * 1e3, heapTotal: 80e6, rss: 120e6 + (i % 77), external: 1e6, arrayBuffers: 5e5 };
}

const DAY_POINTS = 864_000;

describe('reliability: scale', function () {
  this.timeout(180_000);
  trapUnhandled();

  it('aggregateSitesAsync gives the same result as aggregateSites', async () => {
    const profile = syntheticProfile(50_000, 3);
    const sync = aggregateSites(profile, { precision: 'function' });
    const sliced = await aggregateSitesAsync(profile, { precision: 'function' }, 1);
    assert.deepEqual(sliced, sync);
  });

  it('a 1M-node profile is analysed without a long event-loop stall', async () => {
    const profile = syntheticProfile(1_000_000);
    // Start from a collected heap: the stall measured is the analysis's, not the earlier tests' garbage.
    heapUsedAfterGc();
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    histogram.enable();
    const started = performance.now();
    const result = await aggregateSitesAsync(profile, { precision: 'function' });
    const elapsed = performance.now() - started;
    histogram.disable();
    clearInterval(ticker);
    const longestStallMs = histogram.max / 1e6;
    console.log(
      `      1M nodes: ${result.sites.length} sites in ${(elapsed / 1000).toFixed(1)} s; longest event-loop stall ${longestStallMs.toFixed(0)} ms; ${ticks} timer ticks ran meanwhile`,
    );
    assert.equal(result.sampleCount, 999_999);
    assert.ok(ticks > 0, 'timers ran while the profile was analysed');
    // Slices are 20 ms; a major GC of the ~1 GB heap the test builds can add a few hundred ms.
    assert.ok(longestStallMs < 1000, `longest stall ${longestStallMs} ms`);
  });

  it('StatsSeries: 864,000 points (24 h at 10 Hz) keep a bounded length and memory and still span the whole session', () => {
    const before = heapUsedAfterGc();
    const series = new StatsSeries();
    let maxLength = 0;
    for (let i = 0; i < DAY_POINTS; i++) {
      series.push(point(i * 100, i));
      if ((i & 1023) === 0) maxLength = Math.max(maxLength, series.length);
    }
    const grown = heapUsedAfterGc() - before;
    const points = series.points();
    console.log(`      StatsSeries: ${series.length} points kept of ${DAY_POINTS}; ${(grown / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(maxLength <= 72_001 && series.length <= 72_001, `length ${series.length}`);
    assert.equal(points[0].t, 0);
    assert.equal(points[points.length - 1].t, (DAY_POINTS - 1) * 100);
    assert.ok(grown < 64 * 2 ** 20, `series holds ${grown} bytes`);
  });

  it("the panel host's buffer: 864,000 points keep a bounded length and memory and still span the whole session", () => {
    const before = heapUsedAfterGc();
    const buffer = new HostStatsBuffer();
    let maxSize = 0;
    for (let i = 0; i < DAY_POINTS; i++) {
      buffer.add(point(i * 100, i));
      if ((i & 1023) === 0) maxSize = Math.max(maxSize, buffer.size);
    }
    const grown = heapUsedAfterGc() - before;
    const [columns] = buffer.columns();
    console.log(`      HostStatsBuffer: ${buffer.size} rows kept of ${DAY_POINTS}; ${(grown / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(Math.max(maxSize, buffer.size) <= 150_000, `rows ${buffer.size}`);
    assert.equal(columns.t[0], 0);
    assert.equal(columns.t[columns.t.length - 1], (DAY_POINTS - 1) * 100);
    assert.ok(grown < 64 * 2 ** 20, `buffer holds ${grown} bytes`);
    // The peak of the day survives downsampling.
    const peak = Math.max(...(columns.values.heapUsed ?? []).map((v) => v ?? 0));
    assert.equal(peak, 50e6 + 999 * 1e3);
  });
});

import assert from 'node:assert/strict';
import { HEAP_STATS_FIGURES, type HeapStatsPoint } from '../../src/core/model';
import { mergeStatsPoints, StatsSeries } from '../../src/core/timeseries';

function point(t: number, heapUsed: number, extra: Partial<HeapStatsPoint> = {}): HeapStatsPoint {
  return { t, targetId: 'T1', heapUsed, heapTotal: heapUsed * 2, ...extra };
}

describe('HEAP_STATS_FIGURES', () => {
  it('lists every figure of a statistics point, once (a new field must be added to the list to compile here)', () => {
    const point: Required<HeapStatsPoint> = {
      t: 0,
      targetId: 'T1',
      heapUsed: 1,
      heapTotal: 2,
      rss: 3,
      external: 4,
      arrayBuffers: 5,
      tracedBytes: 6,
      allocatedBlocks: 7,
      gcCollections: 8,
    };
    const figures = Object.keys(point).filter((key) => key !== 't' && key !== 'targetId');
    assert.deepEqual([...HEAP_STATS_FIGURES].sort(), figures.sort());
  });
});

describe('StatsSeries', () => {
  it('keeps points in order at full resolution while there is room', () => {
    const s = new StatsSeries({ recentCapacity: 100, maxTotal: 200 });
    assert.equal(s.latest(), undefined);
    for (let i = 0; i < 50; i++) s.push(point(i * 100, i));
    assert.equal(s.length, 50);
    assert.deepEqual(
      s.points().map((p) => p.t),
      Array.from({ length: 50 }, (_, i) => i * 100),
    );
    assert.equal(s.latest()?.t, 4900);
  });

  it('downsamples the oldest half by pairs, keeping the max of memory figures', () => {
    const s = new StatsSeries({ recentCapacity: 8, maxTotal: 100 });
    for (let i = 0; i < 8; i++) s.push(point(i, i === 1 ? 1000 : i, i === 2 ? { rss: 50 } : {}));
    // The first 4 points became 2: [t0 max(0,1000)] and [t2 max(2,3), rss 50].
    const pts = s.points();
    assert.equal(s.length, 6);
    assert.deepEqual(
      pts.map((p) => p.t),
      [0, 2, 4, 5, 6, 7],
    );
    assert.equal(pts[0].heapUsed, 1000);
    assert.equal(pts[0].heapTotal, 2000);
    assert.equal(pts[1].heapUsed, 3);
    assert.equal(pts[1].rss, 50);
  });

  it('merges optional figures only when present', () => {
    const m = mergeStatsPoints(point(0, 1), point(1, 2, { external: 7, gcCollections: 3 }));
    assert.deepEqual(m, { t: 0, targetId: 'T1', heapUsed: 2, heapTotal: 4, external: 7, gcCollections: 3 });
    assert.equal(mergeStatsPoints(point(0, 1), point(1, 1)).rss, undefined);
  });

  it('stays bounded for 24 hours at 10 Hz and still covers the whole span', function () {
    // 864,000 points: it checks the bound, not the speed (a loaded CI machine took over 2 s).
    this.timeout(30_000);
    const s = new StatsSeries();
    const total = 864_000;
    let maxLength = 0;
    for (let i = 0; i < total; i++) {
      // A single 1-sample spike early in the session.
      s.push(point(i * 100, i === 123_457 ? 999_999_999 : 1_000_000 + (i % 10)));
      if (s.length > maxLength) maxLength = s.length;
    }
    assert.ok(maxLength <= 72_000, `max length ${maxLength}`);
    assert.equal(s.latest()?.t, (total - 1) * 100);
    const pts = s.points();
    assert.equal(pts[0].t, 0);
    assert.equal(pts[pts.length - 1].t, (total - 1) * 100);
    let maxGap = 0;
    for (let i = 1; i < pts.length; i++) {
      const gap = pts[i].t - pts[i - 1].t;
      assert.ok(gap > 0, 'chronological');
      maxGap = Math.max(maxGap, gap);
    }
    // Even resolution: 828,000 older points in <= 36,000 buckets of 32 points, 3.2 s each.
    assert.ok(maxGap <= 3_200, `max gap ${maxGap} ms`);
    assert.ok(
      pts.some((p) => p.heapUsed === 999_999_999),
      'the spike survives downsampling',
    );
    // The last hour is still at full resolution.
    assert.equal(pts[pts.length - 1].t - pts[pts.length - 2].t, 100);
  });

  it('clamps silly options so memory stays bounded', () => {
    const s = new StatsSeries({ recentCapacity: 10, maxTotal: 5 });
    for (let i = 0; i < 10_000; i++) s.push(point(i, i));
    assert.ok(s.length <= 10 + 2 + 1);
    assert.equal(s.points()[0].t, 0);
    s.clear();
    assert.equal(s.length, 0);
  });
});

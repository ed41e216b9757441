import * as assert from 'node:assert/strict';
import { columnsToPoints, decimate, extractTarget, paddedRange, SeriesStore } from '../../src/webview/series';

const pt = (t: number, targetId: string, heapUsed: number, rss?: number) => ({ t, targetId, heapUsed, heapTotal: heapUsed * 2, rss });

describe('webview SeriesStore', () => {
  it('grows amortised and keeps columns aligned with NaN for missing values', () => {
    const s = new SeriesStore(0.05, 16);
    for (let i = 0; i < 1000; i++) s.append(pt(i * 100, 'a', i, i % 2 ? 5 : undefined));
    assert.equal(s.length, 1000);
    assert.equal(s.keys.length, 3); // heapUsed, heapTotal, rss
    const rss = s.cols[s.seriesIndex({ targetId: 'a', metric: 'rss' })];
    assert.ok(Number.isNaN(rss[0]));
    assert.equal(rss[1], 5);
    assert.equal(s.x[999], 99.9);
  });

  it('merges points of several targets that arrive within the merge window into one row', () => {
    const s = new SeriesStore(0.05);
    s.append(pt(1000, 'a', 1));
    s.append(pt(1010, 'b', 2));
    s.append(pt(1100, 'a', 3));
    assert.equal(s.length, 2);
    assert.equal(s.cols[s.seriesIndex({ targetId: 'b', metric: 'heapUsed' })][0], 2);
  });

  it('keeps x monotonic for out-of-order points and sorts batches', () => {
    const s = new SeriesStore(0);
    s.appendMany([pt(300, 'a', 3), pt(100, 'a', 1), pt(200, 'a', 2)]);
    assert.deepEqual(Array.from(s.x.subarray(0, 3)), [0.1, 0.2, 0.3]);
    s.append(pt(50, 'a', 9));
    assert.equal(s.x[3], 0.3);
  });

  it('respects the accept filter (e.g. no heapTotal for Python targets)', () => {
    const s = new SeriesStore(0.05, 16, (_t, m) => m !== 'heapTotal');
    s.append(pt(0, 'a', 1));
    assert.deepEqual(
      s.keys.map((k) => k.metric),
      ['heapUsed'],
    );
  });
});

describe('webview decimate', () => {
  const big = (): SeriesStore => {
    const s = new SeriesStore(0.05, 1024);
    for (let i = 0; i < 36000; i++) s.append(pt(i * 100, 'a', i === 20000 ? 1e9 : i % 100, i % 7));
    return s;
  };

  it('returns raw rows when they fit and nulls for gaps', () => {
    const s = new SeriesStore(0);
    s.append(pt(0, 'a', 1, 5));
    s.append(pt(100, 'a', 2));
    const d = decimate(s, 0, 0.1, 100);
    assert.deepEqual(d[0], [0, 0.1]);
    assert.deepEqual(d[3], [5, null]);
  });

  it('shrinks 36,000 rows to about two per bucket and keeps spikes (min and max)', () => {
    const s = big();
    const d = decimate(s, s.firstX, s.lastX, 1000);
    assert.ok(d[0].length <= 2 * 1000 + 2, `rows ${d[0].length}`);
    assert.ok(d[0].length >= 1000);
    const heap = d[1] as number[];
    assert.equal(Math.max(...heap), 1e9);
    assert.equal(Math.min(...heap), 0);
    for (let i = 1; i < d[0].length; i++) assert.ok(d[0][i] >= d[0][i - 1], 'x stays sorted');
    for (const col of d) assert.equal(col.length, d[0].length);
  });

  it('limits to the visible range with one neighbour on each side', () => {
    const s = big();
    const d = decimate(s, 100, 200, 2000);
    assert.ok(d[0][0] < 100 && d[0][0] >= 99.8);
    assert.ok(d[0][d[0].length - 1] > 200 && d[0][d[0].length - 1] <= 200.2);
  });

  it('gives hidden series all-null columns', () => {
    const s = big();
    const d = decimate(s, s.firstX, s.lastX, 500, [true, false, true]);
    assert.ok(d[2].every((v) => v === null));
    assert.ok(d[1].some((v) => v !== null));
  });

  it('never loops on bucket edges that rounding puts on a boundary', () => {
    const s = new SeriesStore(0);
    for (let i = 0; i < 5000; i++) s.append(pt(i * 100 + 0.1, 'a', i));
    for (const b of [3, 7, 999, 1234, 2499]) {
      const d = decimate(s, s.firstX, s.lastX, b);
      assert.ok(d[0].length <= 2 * b + 2);
    }
  });

  it('extracts a target as thinned columns and restores points from them', () => {
    const s = big();
    s.append(pt(3600 * 1000 + 5, 'b', 7));
    const cols = extractTarget(s, 'a', 300);
    assert.ok(cols.t.length <= 602);
    assert.ok(cols.values.heapUsed!.includes(1e9));
    const back = columnsToPoints({ targetId: 'a', ...cols });
    assert.equal(back.length, cols.t.length);
    assert.equal(back[0].targetId, 'a');
    const s2 = new SeriesStore();
    s2.appendMany(back);
    assert.equal(s2.keys.length, 3);
  });
});

describe('webview paddedRange (the y axes)', () => {
  const MiB = 1024 * 1024;
  it('gives a nearly flat series room enough for distinct tick labels, centred on it', () => {
    const [lo, hi] = paddedRange(17.4 * MiB, 17.42 * MiB);
    assert.ok(hi - lo >= 0.05 * 17.42 * MiB, `${lo}..${hi}`);
    assert.ok(lo < 17.4 * MiB && hi > 17.42 * MiB);
    assert.ok(Math.abs((lo + hi) / 2 - 17.41 * MiB) < 1024, 'centred');
  });

  it('keeps 8% headroom on a wide range and never goes below zero for memory', () => {
    const [lo, hi] = paddedRange(1 * MiB, 101 * MiB);
    assert.equal(hi, 101 * MiB + 8 * MiB);
    assert.equal(lo, 0);
    assert.deepEqual(paddedRange(null, 5), [0, 1]);
    assert.deepEqual(paddedRange(0, 0), [0, 1]);
  });
});

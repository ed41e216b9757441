import assert from 'node:assert/strict';
import type { RawProfileNode, RawSamplingProfile } from '../../src/core/model';
import { fitGrowth } from '../../src/core/growth';
import { SiteHistory } from '../../src/session/siteHistory';

/** A profile whose live bytes sit at `ingest` (node 3) and `parse` (node 4) in /app/worker.js. */
function profile(ingestBytes: number, parseBytes: number): RawSamplingProfile {
  const frame = (id: number, functionName: string, url: string, lineNumber: number, children: RawProfileNode[] = []): RawProfileNode => ({
    id,
    selfSize: 0,
    children,
    callFrame: { functionName, url, scriptId: url === '' ? '0' : '7', lineNumber, columnNumber: 0 },
  });
  const head = frame(1, '(root)', '', -1, [
    frame(2, 'handle', '/app/worker.js', 1, [frame(3, 'ingest', '/app/worker.js', 10), frame(4, 'parse', '/app/worker.js', 20)]),
  ]);
  const samples = [
    ...(ingestBytes > 0 ? [{ nodeId: 3, size: ingestBytes, ordinal: 1 }] : []),
    ...(parseBytes > 0 ? [{ nodeId: 4, size: parseBytes, ordinal: 2 }] : []),
  ];
  return { head, samples };
}

const INGEST = '/app/worker.js:11:ingest';
const PARSE = '/app/worker.js:21:parse';

describe('SiteHistory', () => {
  it('has nothing before the first capture', () => {
    assert.equal(new SiteHistory([]).current(), undefined);
  });

  it('fits each site’s growth against progress (runs or tasks), not against the capture count', () => {
    const history = new SiteHistory([]);
    // Captures at uneven progress: ingest keeps 100 B per task, parse stays at 4 KiB.
    for (const tasks of [0, 10, 40, 100]) history.add('main', 'function', profile(1000 + 100 * tasks, 4096), tasks, undefined);
    const sites = history.current()?.sites ?? [];
    const ingest = sites.find((s) => s.key === INGEST);
    const parse = sites.find((s) => s.key === PARSE);
    assert.ok(ingest && parse, `sites: ${sites.map((s) => s.key).join(', ')}`);
    assert.equal(Math.round(ingest.bytesPerRun ?? NaN), 100);
    assert.equal(Math.round(parse.bytesPerRun ?? NaN), 0);
    // Largest first; only the latest capture's bytes are shown.
    assert.deepEqual(
      sites.map((s) => [s.key, s.retainedBytes]),
      [
        [INGEST, 11_000],
        [PARSE, 4096],
      ],
    );
  });

  it('merges the latest capture of every target and sums their growth', () => {
    const history = new SiteHistory([]);
    for (const tasks of [0, 50, 100]) {
      history.add('child-1', 'function', profile(200 * tasks, 0), tasks, undefined);
      history.add('child-2', 'function', profile(50 * tasks, 1024), tasks, undefined);
    }
    const merged = history.current();
    assert.ok(merged);
    const ingest = merged.sites.find((s) => s.key === INGEST);
    assert.ok(ingest);
    assert.equal(ingest.retainedBytes, 200 * 100 + 50 * 100);
    assert.equal(Math.round(ingest.bytesPerRun ?? NaN), 250);
    assert.equal(merged.totalBytes, 25_000 + 1024);
    assert.equal(Math.round((ingest.share ?? 0) * 1000), Math.round((25_000 / 26_024) * 1000));
  });

  it('a site missing from a capture had 0 bytes then', () => {
    const history = new SiteHistory([]);
    history.add('main', 'function', profile(0, 512), 0, undefined);
    history.add('main', 'function', profile(3000, 512), 10, undefined);
    const ingest = history.current()?.sites.find((s) => s.key === INGEST);
    assert.equal(Math.round(ingest?.bytesPerRun ?? NaN), 300);
  });

  it('keeps the merged list until the next capture, then recomputes it', () => {
    const history = new SiteHistory([]);
    history.add('main', 'function', profile(100, 0), 0, undefined);
    const first = history.current();
    assert.equal(history.current(), first);
    history.add('main', 'function', profile(900, 0), 1, undefined);
    const second = history.current();
    assert.notEqual(second, first);
    assert.equal(second?.sites[0].retainedBytes, 900);
  });

  it('fits growth over a recent window only, so a day of captures stays bounded', () => {
    const history = new SiteHistory([]);
    // 300 captures: flat for the first 100, then +10 B per task.
    const bytesAt = (tasks: number): number => (tasks < 100 ? 1000 : 1000 + 10 * (tasks - 100));
    const progress = Array.from({ length: 300 }, (_, i) => i);
    for (const tasks of progress) history.add('main', 'function', profile(bytesAt(tasks), 0), tasks, undefined);
    const slope = history.current()?.sites.find((s) => s.key === INGEST)?.bytesPerRun;
    const fitOver = (xs: number[]): number | undefined => fitGrowth(xs.map(bytesAt), xs)?.slope;
    const latest240 = fitOver(progress.slice(-240));
    assert.ok(latest240 !== undefined && slope !== undefined);
    assert.equal(slope.toFixed(6), latest240.toFixed(6));
    assert.notEqual(slope.toFixed(3), fitOver(progress)?.toFixed(3));
  });
});

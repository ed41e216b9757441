/**
 * Python through the whole engine (ProfilingSession → agent → analysis), on a real interpreter:
 * the verdicts the product promises for the four classic shapes.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { example, fixture, harness, runSession } from './helpers';

describe('python harness through the session (real interpreter)', function () {
  this.timeout(90_000);

  it('a list that leaks: leak, ~100 KiB per run, on the appending line', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(fixture('python', 'leaky.py'), 'handle', 8, 1) });
    assert.equal(report.verdict.kind, 'leak', report.verdict.summary);
    const perRun = report.tasks[0]?.bytesPerRun ?? 0;
    assert.ok(perRun > 100_000 && perRun < 110_000, `bytesPerRun ${perRun}`);
    const top = report.sites[0];
    assert.ok(top);
    assert.equal(path.basename(top.file), 'leaky.py');
    assert.equal(top.precision, 'line');
  });

  it('an unbounded lru_cache: leak, on the cached line', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(fixture('python', 'cache.py'), 'handle', 8, 1) });
    assert.equal(report.verdict.kind, 'leak', report.verdict.summary);
    assert.equal(report.sites[0]?.function, 'render');
  });

  it('a bounded lru_cache: plateau', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(example('python', 'jobs.py'), 'quote', 12, 1) });
    assert.equal(report.verdict.kind, 'plateau', report.verdict.summary);
  });

  it('reference cycles: no leak after gc.collect()', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(fixture('python', 'cycles.py'), 'handle', 8, 1) });
    assert.equal(report.verdict.kind, 'no-leak', report.verdict.summary);
  });

  it('a burst of small objects that are freed: allocator high water, not a leak', async () => {
    const { report } = await runSession({ mode: 'harness', harness: harness(fixture('python', 'burst.py'), 'handle', 6, 0) });
    assert.equal(report.verdict.kind, 'allocator-high-water', report.verdict.summary);
    assert.ok(report.verdict.advice.length > 0);
  });

  it('a file that does not import and a missing function fail with clear messages', async () => {
    const broken = await runSession({ mode: 'harness', harness: harness(fixture('python', 'broken.py'), 'handle', 2, 0) });
    assert.match(broken.report.endReason, /broken\.py failed to import/);
    const missing = await runSession({ mode: 'harness', harness: harness(fixture('python', 'cache.py'), 'nope', 2, 0) });
    assert.match(missing.report.endReason, /has no function 'nope' \(found: .*handle/);
  });
});

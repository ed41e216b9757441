/**
 * Worker-mode attribution against real V8 inlining: test/fixtures/node/inlined-worker.js keeps ~2 KB
 * per `ingest` task in `rememberReading`, a small function that TurboFan inlines into the hot loop in
 * `ingest` that calls it. With inlining on, the sampler credits the kept arrays to `ingest` (5 of 5
 * runs when this test was written); with precise attribution (--precise) they must go to
 * `rememberReading`, and with the worker defaults (inlining kept: --no-turbo-inlining made hot code
 * built from small helpers 9x slower) the report must say that a site may hold inlined callees.
 */
import { strict as assert } from 'node:assert';
import { fixture, runSession } from './helpers';

describe('worker-mode attribution: the leaking function, not its caller (real V8 inlining)', function () {
  this.timeout(120_000);

  it('names the small allocating function as the top user site with --precise, 3 runs in a row', async () => {
    const tops: string[] = [];
    for (let run = 0; run < 3; run++) {
      const { report } = await runSession({
        mode: 'worker',
        command: [process.execPath, fixture('node', 'inlined-worker.js')],
        durationSec: 8,
        preciseAttribution: true,
      });
      assert.equal(report.settings.preciseAttribution, true, 'precise attribution on');
      const user = report.sites.filter((site) => site.category === 'user');
      assert.ok(user.length > 0, `run ${run + 1}: no user site (${report.sites.map((s) => s.function).join(', ')})`);
      const top = user[0];
      tops.push(`${top.function}:${top.line}`);
      assert.equal(
        top.function,
        'rememberReading',
        `run ${run + 1}: top user sites ${user
          .slice(0, 3)
          .map((s) => `${s.function} ${(s.share * 100).toFixed(0)}%`)
          .join(', ')}`,
      );
      assert.ok(top.file.endsWith('inlined-worker.js'), top.file);
      assert.ok(!report.notes.some((note) => /inlined/.test(note)), 'no inlining note when precise attribution is on');
    }
    assert.deepEqual(tops, ['rememberReading:12', 'rememberReading:12', 'rememberReading:12']);
  });

  it('says with the worker defaults that a site may hold inlined callees', async () => {
    const { report } = await runSession({ mode: 'worker', command: [process.execPath, fixture('node', 'inlined-worker.js')], durationSec: 4 });
    assert.equal(report.settings.preciseAttribution, false);
    assert.ok(
      report.notes.some((note) => /inlined/.test(note)),
      `notes: ${report.notes.join(' | ')}`,
    );
  });
});

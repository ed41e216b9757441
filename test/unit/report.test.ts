import assert from 'node:assert/strict';
import type { TaskRun } from '../../src/core/model';
import { buildReport, escapeMarkdown, renderMarkdownReport, renderTextReport, sanitizeText, type ReportInput } from '../../src/core/report';
import { aggregateSites } from '../../src/core/sites';
import { summarizeTask } from '../../src/core/verdict';
import { profileNode } from '../support/profiles';

const K = 1024;
const M = 1024 * 1024;

function runs(n: number, f: (i: number) => number): TaskRun[] {
  return Array.from({ length: n }, (_, i) => ({ index: i, retainedBytes: f(i), durationMs: 3 }));
}

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  const head = profileNode(1, '(root)', '', -1, 0, [
    profileNode(2, 'handle', '/srv/app/src/handler.ts', 4, 0, [profileNode(3, 'processOrder', '/srv/app/src/orders.ts', 41, 4404019)]),
    profileNode(4, 'evil\x1b[31mred\x1b]8;;http://x\x07link', '/srv/app/src/<b>|`x`.ts', 0, 1 * M),
    profileNode(5, '(garbage collector)', '', -1, 512 * K),
  ]);
  const aggregation = aggregateSites({ head, samples: [] }, { precision: 'function' });
  // Growth per run as the session's site history fits it: the order site grew 41 KiB over one run.
  for (const site of aggregation.sites) site.bytesPerRun = site.key === '/srv/app/src/orders.ts:42:processOrder' ? 41 * K : 0;
  return {
    mode: 'harness',
    command: 'node worker.js#sendEmail',
    startedAt: Date.UTC(2025, 0, 2, 3, 4, 5),
    durationMs: 12_345,
    endReason: 'completed',
    tasks: [
      summarizeTask(
        'sendEmail',
        runs(12, (i) => 20 * M + 41 * K * i),
      ),
      summarizeTask(
        'ping',
        runs(12, () => 5 * M),
      ),
    ],
    aggregation,
    targets: [{ id: 'T1', pid: 123, runtime: 'node', title: 'node worker.js', argv: ['node', 'worker.js'] }],
    settings: { runs: 12, warmup: 2, preciseAttribution: true },
    notes: ['Site figures are sampled estimates.'],
    warnings: ['target T2 exited (code 1)'],
    toolVersion: '0.1.0',
    ...overrides,
  };
}

describe('report', () => {
  describe('buildReport', () => {
    it('fills the schema with the overall verdict, tasks and sites', () => {
      const r = buildReport(input());
      assert.equal(r.schemaVersion, 1);
      assert.deepEqual(r.tool, { name: 'taskmem', version: '0.1.0' });
      assert.equal(r.startedAt, '2025-01-02T03:04:05.000Z');
      assert.equal(r.verdict.kind, 'leak');
      assert.equal(r.verdict.summary, 'sendEmail keeps +41.0 KiB per run (+3.9 GiB per 100,000 runs): a leak.');
      assert.deepEqual(
        r.tasks.map((t) => [t.name, t.verdict, t.runs]),
        [
          ['sendEmail', 'leak', 12],
          ['ping', 'no-leak', 12],
        ],
      );
      assert.equal(r.tasks[0].series.length, 12);
      assert.ok(r.tasks[0].fit);
      assert.deepEqual(
        r.sites.map((s) => s.function),
        ['processOrder', 'evil\x1b[31mred\x1b]8;;http://x\x07link'],
      );
      const top = r.sites[0];
      assert.equal(top.bytesPerRun, 41 * K);
      assert.equal(r.sites[1].bytesPerRun, 0);
      assert.deepEqual(
        top.stack.map((f) => f.function),
        ['processOrder', 'handle'],
      );
      assert.deepEqual(
        top.callers.map((c) => c.function),
        ['handle'],
      );
      assert.equal(r.grouped.runtime, 512 * K);
      assert.equal(r.grouped.user, 4404019 + M);
      assert.deepEqual(r.notes, ['Site figures are sampled estimates.']);
      assert.deepEqual(r.warnings, ['target T2 exited (code 1)']);
      // Round-trips through JSON unchanged (no undefined-only or non-finite surprises).
      assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
    });

    it('uses null for unknown site growth, and notes missing profiles and cut sites', () => {
      const noGrowth = input();
      noGrowth.aggregation!.sites.forEach((s) => delete s.bytesPerRun);
      assert.equal(buildReport(noGrowth).sites[0].bytesPerRun, null);
      const none = buildReport(input({ aggregation: undefined, startedAt: new Date(Number.NaN) }));
      assert.deepEqual(none.sites, []);
      assert.deepEqual(none.grouped, { user: 0, dependency: 0, runtime: 0, profiler: 0 });
      assert.ok(none.notes.some((n) => /No retained heap profile/.test(n)));
      assert.equal(none.startedAt, '1970-01-01T00:00:00.000Z');
      const cut = buildReport(input({ maxSites: 1 }));
      assert.equal(cut.sites.length, 1);
      assert.ok(cut.notes.some((n) => n.startsWith('1 smaller sites (1.0 MiB)')));
    });

    it('says inconclusive with no tasks', () => {
      assert.equal(buildReport(input({ tasks: [] })).verdict.kind, 'inconclusive');
    });
  });

  describe('renderTextReport', () => {
    const report = buildReport(input());

    it('leads with the verdict, then tasks, sites and advice', () => {
      const text = renderTextReport(report, { cwd: '/srv/app' });
      const lines = text.split('\n');
      assert.equal(lines[0], 'LEAK: sendEmail keeps +41.0 KiB per run (+3.9 GiB per 100,000 runs): a leak.');
      assert.ok(
        lines.some((l) => /^ {2}sendEmail +12 runs +\+41\.0 KiB\/run +leak \(100%\)$/.test(l)),
        text,
      );
      assert.ok(
        lines.some((l) => /^ {2}ping +12 runs +±0 B\/run +no-leak/.test(l)),
        text,
      );
      assert.ok(lines.includes('Top retaining sites'));
      assert.ok(lines.includes('  4.2 MiB  74%  +41.0 KiB/run  processOrder  src/orders.ts:42'), text);
      assert.ok(lines.some((l) => l.startsWith('  Not listed: runtime 512.0 KiB')));
      assert.ok(lines.some((l) => l.startsWith('Advice: Look at the top retaining sites')));
      assert.ok(lines.includes('Start with: in processOrder() at src/orders.ts:42, 74% of what is retained.'), text);
      assert.ok(text.includes('  - target T2 exited (code 1)'));
      assert.ok(text.includes('harness: node worker.js#sendEmail · 12.3 s · completed · taskmem 0.1.0'));
      assert.ok(!text.includes('\x1b'), 'no escapes at all without colour');
    });

    it('strips escapes that come from the profiled program', () => {
      const text = renderTextReport(report);
      assert.ok(text.includes('evilredlink'));
      assert.ok(!/[\x00-\x09\x0b-\x1f\x7f]/.test(text));
    });

    it('colours verdicts only when asked', () => {
      const text = renderTextReport(report, { color: true });
      assert.ok(text.startsWith('\x1b[31m\x1b[1mLEAK\x1b[0m: '));
      assert.ok(text.includes('\x1b[32mno-leak\x1b[0m'));
      // The only escapes are ours: strip known SGR codes and nothing control-like remains.
      assert.ok(!/[\x00-\x09\x0b-\x1f]/.test(text.replace(/\x1b\[[0-9;]*m/g, '')));
      const plateau = buildReport(
        input({
          tasks: [
            summarizeTask(
              'warm',
              runs(12, (i) => 100 * K * Math.min(i, 4)),
            ),
          ],
        }),
      );
      assert.ok(renderTextReport(plateau, { color: true }).startsWith('\x1b[33m\x1b[1mPLATEAU'));
    });

    it('limits the sites shown', () => {
      const text = renderTextReport(report, { maxSites: 1 });
      assert.ok(text.includes('  … 1 more site (1.0 MiB)'));
      assert.ok(!text.includes('evilredlink'));
    });
  });

  describe('renderMarkdownReport', () => {
    it('renders tables for a pull request with everything escaped', () => {
      const md = renderMarkdownReport(buildReport(input()), { cwd: '/srv/app/' });
      assert.ok(md.startsWith('### Task Memory Profiler: LEAK\n\nsendEmail keeps +41.0 KiB per run (+3.9 GiB per 100,000 runs): a leak.\n'));
      assert.ok(md.includes('| sendEmail | 12 | +41.0 KiB/run | leak | 100% |'));
      assert.ok(md.includes('| 4.2 MiB | 74% | +41.0 KiB/run | processOrder | src/orders.ts:42 |'));
      assert.ok(md.includes('src/&lt;b&gt;\\|\\`x\\`.ts:1'), md);
      assert.ok(!md.includes('<b>'));
      assert.ok(!md.includes('\x1b'));
    });

    it('escapes Markdown and HTML specials', () => {
      assert.equal(escapeMarkdown('a|b<c>`d`'), 'a\\|b&lt;c&gt;\\`d\\`');
      assert.equal(escapeMarkdown('[x](http://e) *y* @z'), '\\[x\\](http://e) \\*y\\* &#64;z');
      assert.equal(sanitizeText('a\x1b[2Jb\nc\u202ed\x00'), 'ab cd');
    });
  });
});

/**
 * Golden tests of the text and Markdown reports: a wording change shows as a reviewed diff of
 * test/golden/*. After an intended change: `UPDATE_GOLDEN=1 npm run test:unit`, then read the diff.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskRun } from '../../src/core/model';
import { buildReport, renderMarkdownReport, renderTextReport, type ReportInput } from '../../src/core/report';
import { adviseRecycling } from '../../src/core/recyclingAdvisor';
import { aggregateSites } from '../../src/core/sites';
import { summarizeTask } from '../../src/core/verdict';
import { profileNode } from '../support/profiles';

const K = 1024;
const M = 1024 * K;
const GOLDEN_DIR = path.resolve(__dirname, '../golden');

function runs(n: number, bytesAt: (i: number) => number): TaskRun[] {
  return Array.from({ length: n }, (_, i) => ({ index: i, retainedBytes: bytesAt(i), durationMs: 4 + (i % 3) }));
}

/** A harness session of a Node job: one leak, one plateau (a bounded cache), one clean task; a hostile site name. */
function harnessLeak(): ReportInput {
  const head = profileNode(1, '(root)', '', -1, 0, [
    profileNode(2, 'handleJob', '/srv/app/src/jobs.ts', 9, 0, [profileNode(3, 'rememberCustomer', '/srv/app/src/customers.ts', 21, 1_250_000)]),
    profileNode(4, 'warmCache', '/srv/app/src/cache.ts', 4, 300 * K),
    profileNode(5, 'evil\x1b[31mred\x1b]8;;http://x\x07<b>|`x`', '/srv/app/node_modules/lib/index.js', 0, 2 * K),
    profileNode(6, '(garbage collector)', '', -1, 96 * K),
  ]);
  const aggregation = aggregateSites({ head, samples: [] }, { precision: 'function' });
  for (const site of aggregation.sites) site.bytesPerRun = site.function === 'rememberCustomer' ? 20.5 * K : 0;
  return {
    mode: 'harness',
    command: 'src/jobs.ts#handleJob',
    startedAt: Date.UTC(2026, 10, 30, 9, 15, 0),
    durationMs: 8_420,
    endReason: 'completed',
    tasks: [
      summarizeTask(
        'handleJob',
        runs(60, (i) => 30 * M + 20.5 * K * i + ((i * 7919) % 13) * 64),
      ),
      summarizeTask(
        'warmCache',
        runs(60, (i) => 30 * M + Math.min(i, 10) * 30 * K),
      ),
      summarizeTask(
        'ping',
        runs(60, (i) => 30 * M + ((i * 31) % 5) * 16),
      ),
    ],
    aggregation,
    targets: [{ id: 'T1', pid: 4242, runtime: 'node', title: 'node src/jobs.ts', argv: ['node', 'src/jobs.ts'] }],
    settings: { runs: 60, warmup: 5, preciseAttribution: true },
    notes: ['Site figures are sampled estimates (one sample per 32 KiB allocated on average).'],
    warnings: [],
    toolVersion: '1.0.0',
  };
}

/** A Celery worker session that leaks outside the traced heap, with recycling advice. */
function celeryWorker(): ReportInput {
  const head = profileNode(1, '(root)', '', -1, 0, [
    profileNode(2, '<module>', '/srv/app/tasks.py', 0, 0, [profileNode(3, 'render_invoice', '/srv/app/tasks.py', 41, 3 * M)]),
    profileNode(4, 'send_mail', '/srv/app/mail.py', 12, 64 * K),
  ]);
  const aggregation = aggregateSites({ head, samples: [] }, { precision: 'line' });
  for (const site of aggregation.sites) site.bytesPerRun = site.function === 'render_invoice' ? 6 * K : 0;
  const recycling = adviseRecycling({
    freshRssBytes: 58 * M,
    growthPerTaskBytes: 6 * K,
    worstTaskBytes: 12 * M,
    limitBytes: 512 * M,
    limitSource: 'cgroup',
    tasksPerChild: 1_800,
    tasksPerSecond: 15,
    supervisor: 'celery',
    current: { maxTasksPerChild: 100_000 },
  });
  return {
    mode: 'worker',
    command: 'celery -A app worker --pool prefork --concurrency 2',
    startedAt: Date.UTC(2026, 10, 30, 10, 0, 0),
    durationMs: 125_000,
    endReason: 'stopped by user',
    tasks: [
      summarizeTask(
        'app.tasks.render_invoice',
        runs(40, (i) => 80 * M + 6 * K * i + ((i * 13) % 7) * 100),
      ),
      summarizeTask(
        'app.tasks.send_mail',
        runs(40, (i) => 80 * M + ((i * 17) % 9) * 50),
      ),
    ],
    aggregation,
    targets: [
      { id: 'P1', pid: 5101, runtime: 'python', title: 'celery worker (child 1)', argv: ['celery', '-A', 'app', 'worker'] },
      { id: 'P2', pid: 5102, runtime: 'python', title: 'celery worker (child 2)', argv: ['celery', '-A', 'app', 'worker'] },
    ],
    settings: { sampleEvery: 8, duration: 120 },
    notes: ['Task marks from Celery signals.'],
    warnings: ['target P3 exited (code 1)'],
    toolVersion: '1.0.0',
    recycling,
  };
}

/** A session that ended before any task finished. */
function nothingRan(): ReportInput {
  return {
    mode: 'harness',
    command: 'billing.py#charge',
    startedAt: Date.UTC(2026, 10, 30, 11, 0, 0),
    durationMs: 900,
    endReason: 'target exited (code 1)',
    tasks: [],
    aggregation: undefined,
    targets: [],
    settings: { runs: 30, warmup: 3 },
    warnings: ["billing.py:9: SyntaxError: '(' was never closed"],
    toolVersion: '1.0.0',
  };
}

const CASES: Record<string, () => ReportInput> = { 'harness-leak': harnessLeak, 'celery-worker': celeryWorker, 'nothing-ran': nothingRan };

function checkGolden(file: string, actual: string): void {
  const goldenPath = path.join(GOLDEN_DIR, file);
  if (process.env.UPDATE_GOLDEN === '1') {
    fs.mkdirSync(GOLDEN_DIR, { recursive: true });
    fs.writeFileSync(goldenPath, actual);
    return;
  }
  assert.ok(fs.existsSync(goldenPath), `${goldenPath} is missing: run UPDATE_GOLDEN=1 npm run test:unit and review it`);
  assert.equal(actual, fs.readFileSync(goldenPath, 'utf8'), `${file} changed: if intended, run UPDATE_GOLDEN=1 npm run test:unit and review the diff`);
}

describe('report renderings (golden)', () => {
  for (const [name, build] of Object.entries(CASES)) {
    it(`${name}: text`, () => checkGolden(`${name}.txt`, renderTextReport(buildReport(build()), { cwd: '/srv/app' })));
    it(`${name}: Markdown`, () => checkGolden(`${name}.md`, renderMarkdownReport(buildReport(build()), { cwd: '/srv/app' })));
  }
});

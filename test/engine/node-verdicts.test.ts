/**
 * Issue 15: the verdict per task, and the leaking site first, for each Node shape of the issue's
 * table, on real processes under the real inspector. Worker-mode sessions use the default settings
 * (no GC budget or sampling interval overrides): defaults are what users get.
 *
 * The fixtures (test/fixtures/node/verdicts/) say at their top what they really keep, measured
 * without the profiler by measure-truth.js (node --expose-gc, heapUsed after full GCs). Bounds on
 * bytes per run are those truths with room for a loaded 2-core machine (35%), never the figure one
 * engine run printed.
 *
 * Sessions are independent processes, so they are started up front through a small pool (three at a
 * time; they mostly wait on their targets' GCs and timers) and each test awaits its own: the file
 * takes about three minutes of wall time on 2 cores.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportTask, TaskmemReport } from '../../src/core/report';
import type { SessionOptions } from '../../src/session/api';
import { fixture, harness, runSession, type RunResult } from './helpers';

const verdicts = (file: string): string => fixture('node', 'verdicts', file);

// ---- measured truths (measure-truth.js; see each fixture's header) ----
/** audit-trail.js: 564 B per run over 100 runs (one-time warm-up included), 606-640 B by the slope of the checkpoints. */
const AUDIT_TRUTH = { low: 564, high: 640 };
/** leakage-cases.js rememberClick: 66 B per run over 300 runs (with warm-up), 42-46 B steady. */
const OUTER_SYNC_TRUTH = { low: 42, high: 66 };
/** leakage-cases.js rememberClickLater: 179 B per run over 300 runs (40 KB of one-time timer and promise machinery), 44-46 B steady. */
const OUTER_ASYNC_TRUTH = { low: 44, high: 179 };
/** queue-tasks.js recordShipment: 2,148 B per run, steady from the first run (5,000 runs, 5 processes). */
const SHIPMENT_TRUTH = { low: 2148, high: 2148 };
/** Room for a loaded machine around a measured truth. */
const ROOM = 0.35;

/**
 * A worker's split of its growth between task names comes from a regression whose per-name error is
 * several times that of the sum (the names' counts move nearly together); the sum stays within ROOM.
 */
const WORKER_SPLIT_ROOM = 0.75;

function assertBytesPerRun(task: ReportTask, truth: { low: number; high: number }, room = ROOM): void {
  const low = truth.low * (1 - room);
  const high = truth.high * (1 + room);
  assert.ok(
    task.bytesPerRun >= low && task.bytesPerRun <= high,
    `${task.name}: ${Math.round(task.bytesPerRun)} B/run, truth ${truth.low}-${truth.high} B/run (accepted ${Math.round(low)}-${Math.round(high)}); ${task.summary}`,
  );
}

/** The 1-based line where `function <name>(` starts in a fixture: sites are per function. */
function functionLine(file: string, name: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((line) => new RegExp(`function ${name}\\(`).test(line));
  assert.ok(index >= 0, `function ${name} in ${file}`);
  return index + 1;
}

function describeSites(report: TaskmemReport): string {
  const sites = report.sites
    .slice(0, 4)
    .map((s) => `${s.function || '(anonymous)'} ${path.basename(s.file)}:${s.line} ${s.category} ${Math.round(s.retainedBytes / 1024)} KiB`);
  const grouped = Object.entries(report.grouped)
    .map(([k, v]) => `${k} ${Math.round(v / 1024)} KiB`)
    .join(', ');
  return `sites: [${sites.join('; ')}] grouped: ${grouped}`;
}

/** The leaking function is the first site listed, in user code, on the line where it starts. */
/** The 1-based lines of a top-level function, from its `function` line to its closing brace. */
function functionLines(file: string, name: string): { first: number; last: number } {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const first = functionLine(file, name);
  const close = lines.findIndex((line, i) => i >= first && line.startsWith('}'));
  return { first, last: close + 1 };
}

/** The top site is in the function's body: V8 may name a callback or async continuation inside it after the expression it allocates. */
function assertTopSiteWithin(report: TaskmemReport, file: string, functionName: string): void {
  const top = report.sites[0];
  assert.ok(top, `no site at all; ${describeSites(report)}`);
  const { first, last } = functionLines(file, functionName);
  assert.equal(top.file, file, describeSites(report));
  assert.ok(top.line >= first && top.line <= last, `top site line ${top.line} not in ${functionName} (${first}-${last}); ${describeSites(report)}`);
  assert.equal(top.category, 'user', describeSites(report));
}

function assertTopSite(report: TaskmemReport, file: string, functionName: string): void {
  const top = report.sites[0];
  assert.ok(top, `no site at all; ${describeSites(report)}`);
  assert.equal(top.function, functionName, describeSites(report));
  assert.equal(top.file, file, describeSites(report));
  assert.equal(top.line, functionLine(file, functionName), describeSites(report));
  assert.equal(top.category, 'user', describeSites(report));
}

function task(report: TaskmemReport, name: string): ReportTask {
  const found = report.tasks.find((t) => t.name === name);
  assert.ok(found, `task ${name} not in the report (tasks: ${report.tasks.map((t) => t.name).join(', ') || 'none'}; ${report.endReason})`);
  return found;
}

function printResult(label: string, { report }: RunResult): void {
  const tasks = report.tasks
    .map((t) => `${t.name}: ${t.verdict} ${Math.round(t.bytesPerRun)} B/run over ${t.runs} runs (${Math.round(t.confidence * 100)}%)`)
    .join(' | ');
  const top = report.sites[0];
  const site = top ? `${top.function || '(anonymous)'} ${path.basename(top.file)}:${top.line} ${top.category}` : 'none';
  console.log(`      [${label}] ${report.endReason}; overall ${report.verdict.kind}; ${tasks}; top site ${site}`);
}

/**
 * runSession with a watchdog: a session that has not ended long after its fixture's own run time
 * (seconds, bare) is stopped, so a hang fails its test through the end reason instead of holding a
 * pool slot until mocha's timeout. Not a timing assertion: the limit is several times what the
 * longest of these sessions (the 15 s worker, 300 harness runs) needs on a loaded machine.
 */
const WATCHDOG_MS = 150_000;
function runGuarded(options: Omit<SessionOptions, 'cwd'>): Promise<RunResult> {
  return runSession(options, WATCHDOG_MS);
}

// ---- a small pool: sessions run three at a time, each test awaits its own ----
const CONCURRENCY = 3;
let running = 0;
const queue: Array<() => void> = [];
function pooled<T>(job: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const start = () => {
      running++;
      job()
        .then(resolve, reject)
        .finally(() => {
          running--;
          queue.shift()?.();
        });
    };
    if (running < CONCURRENCY) start();
    else queue.push(start);
  });
}

/**
 * Which sessions the selected tests need: each test names its sessions (itNeeds), and with mocha's
 * --grep / --fgrep only the matching tests' sessions are started (all of them otherwise).
 */
const testNeeds = new Map<string, string[]>();
function itNeeds(title: string, labels: string[], fn: () => Promise<void>): void {
  testNeeds.set(title, labels);
  it(title, fn);
}
function selectedBy(argv: readonly string[]): ((fullTitle: string) => boolean) | undefined {
  if (argv.includes('-i') || argv.includes('--invert')) return undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2) as [string, string | undefined];
    const value = inline ?? argv[i + 1];
    if (value === undefined) continue;
    if (flag === '-g' || flag === '--grep') return (title) => new RegExp(value).test(title);
    if (flag === '-f' || flag === '--fgrep') return (title) => title.includes(value);
  }
  return undefined;
}
function wantedSessions(root: Mocha.Suite): Set<string> | undefined {
  const matches = selectedBy(process.argv);
  if (!matches) return undefined;
  const wanted = new Set<string>();
  const visit = (suite: Mocha.Suite): void => {
    for (const test of suite.tests) if (matches(test.fullTitle())) for (const label of testNeeds.get(test.title) ?? []) wanted.add(label);
    suite.suites.forEach(visit);
  };
  visit(root);
  return wanted;
}

const sessions = new Map<string, Promise<RunResult>>();
let wanted: Set<string> | undefined;
function schedule(label: string, options: Omit<SessionOptions, 'cwd'>): void {
  if (wanted && !wanted.has(label)) return;
  const promise = pooled(() => runGuarded(options)).then((result) => {
    printResult(label, result);
    return result;
  });
  promise.catch(() => undefined);
  sessions.set(label, promise);
}
function session(label: string): Promise<RunResult> {
  const found = sessions.get(label);
  assert.ok(found, `session ${label} was not scheduled`);
  return found;
}

const CLEAN_REPEATS = 3;
const repeats = (label: string): string[] => Array.from({ length: CLEAN_REPEATS }, (_, i) => `${label} #${i + 1}`);
const worker = (file: string, extra: Partial<SessionOptions> = {}): Omit<SessionOptions, 'cwd'> => ({
  mode: 'worker',
  command: [process.execPath, verdicts(file)],
  ...extra,
});

describe('verdicts per task on real Node processes (issue 15)', function () {
  this.timeout(480_000);

  before(function () {
    wanted = wantedSessions(this.test!.parent!);
    // Longest first, so the pool slots stay busy to the end.
    schedule('endless worker', worker('endless-worker.js', { durationSec: 15 }));
    schedule('burst worker', worker('burst-worker.js'));
    schedule('paced worker', worker('paced-worker.js'));
    schedule('alternating worker', worker('alternating-worker.js'));
    // These keep ~57 B per run: 17 KB over 300 runs, about 2 samples at the default 8 KiB interval,
    // so one session in eight would have no sample of the leak at all (Poisson). The verdict needs no
    // samples; the site does: these two sample every 1 KiB (~17 samples), as a user hunting a leak
    // this small would (--sampling-interval 1024).
    const fine = { samplingIntervalBytes: 1024 };
    schedule('leakage: outer array, async', { mode: 'harness', harness: harness(verdicts('leakage-cases.js'), 'rememberClickLater', 300, 2), ...fine });
    schedule('leakage: outer array, sync', { mode: 'harness', harness: harness(verdicts('leakage-cases.js'), 'rememberClick', 300, 2), ...fine });
    // ~450 B per run over 100 runs is ~5.5 samples at 8 KiB: the site would be missing in about one
    // session in 250 (Poisson); at 2 KiB (~22 samples) practically never.
    schedule('audit trail', { mode: 'harness', harness: harness(verdicts('audit-trail.js'), 'settleInvoice', 100, 2), samplingIntervalBytes: 2048 });
    // Two more large libraries that V8 is still compiling after 200 runs (README, "Large libraries still being compiled").
    schedule('eslint Linter.verify', { mode: 'harness', harness: harness(verdicts('linters.js'), 'lintSource', 200, 2) });
    schedule('prettier format', { mode: 'harness', harness: harness(verdicts('linters.js'), 'formatSource', 200, 2) });
    for (let i = 1; i <= CLEAN_REPEATS; i++) {
      schedule(`leakage: local array, async #${i}`, { mode: 'harness', harness: harness(verdicts('leakage-cases.js'), 'countClickLater', 300, 2) });
      schedule(`leakage: local array, sync #${i}`, { mode: 'harness', harness: harness(verdicts('leakage-cases.js'), 'countClick', 300, 2) });
      schedule(`typescript transpileModule #${i}`, { mode: 'harness', harness: harness(verdicts('transpile.js'), 'transpileShipping', 200, 2) });
    }
    for (let i = 1; i <= CLEAN_REPEATS; i++) {
      schedule(`lru worker #${i}`, worker('lru-worker.js'));
      schedule(`temporaries worker #${i}`, worker('temporaries-worker.js'));
      schedule(`temporaries harness #${i}`, { mode: 'harness', harness: harness(verdicts('temporaries.js'), 'summarizeReadings', 100, 2) });
      schedule(`bounded cache harness #${i}`, { mode: 'harness', harness: harness(verdicts('bounded-cache.js'), 'exchangeTable', 100, 2) });
    }
  });

  describe('harness', () => {
    itNeeds('calls a ~600 B/run audit trail a leak over 100 runs and lists settleInvoice first', ['audit trail'], async () => {
      const { report } = await session('audit trail');
      assert.equal(report.endReason, 'completed');
      const audit = task(report, 'settleInvoice');
      assert.equal(audit.verdict, 'leak', audit.summary);
      assertBytesPerRun(audit, AUDIT_TRUTH);
      assertTopSite(report, verdicts('audit-trail.js'), 'settleInvoice');
    });

    itNeeds('flags one small object kept per call in an outer array (leakage suite, sync), 300 runs', ['leakage: outer array, sync'], async () => {
      const { report } = await session('leakage: outer array, sync');
      assert.equal(report.endReason, 'completed');
      const clicks = task(report, 'rememberClick');
      assert.equal(clicks.verdict, 'leak', clicks.summary);
      assertBytesPerRun(clicks, OUTER_SYNC_TRUTH);
      // 300 runs read one in 10 (core/harnessReadings): all 300 count, 31 readings, the last run read.
      assert.equal(clicks.runs, 300);
      assert.equal(clicks.series.length, 31);
      assert.equal(clicks.series[clicks.series.length - 1].index, 299);
      assert.ok(
        report.notes.some((note) => note.includes('one measured run in 10 (and the last)')),
        report.notes.join('\n'),
      );
      assertTopSite(report, verdicts('leakage-cases.js'), 'rememberClick');
    });

    itNeeds('flags the same kept after a 20 ms timer (leakage suite, async task), 300 runs', ['leakage: outer array, async'], async () => {
      const { report } = await session('leakage: outer array, async');
      assert.equal(report.endReason, 'completed');
      const clicks = task(report, 'rememberClickLater');
      assert.equal(clicks.verdict, 'leak', clicks.summary);
      assertBytesPerRun(clicks, OUTER_ASYNC_TRUTH);
      assertTopSiteWithin(report, verdicts('leakage-cases.js'), 'rememberClickLater');
    });

    itNeeds(
      `clears the same objects in a local array (leakage suite, sync), 300 runs, ${CLEAN_REPEATS} sessions out of ${CLEAN_REPEATS}`,
      repeats('leakage: local array, sync'),
      async () => {
        for (let i = 1; i <= CLEAN_REPEATS; i++) {
          const { report } = await session(`leakage: local array, sync #${i}`);
          assert.equal(report.endReason, 'completed', `session ${i}`);
          const clicks = task(report, 'countClick');
          assert.equal(clicks.verdict, 'no-leak', `session ${i}: ${clicks.summary}`);
        }
      },
    );

    itNeeds(
      `clears the same objects in a local array after a 20 ms timer (leakage suite, async), 300 runs, ${CLEAN_REPEATS} sessions out of ${CLEAN_REPEATS}`,
      repeats('leakage: local array, async'),
      async () => {
        for (let i = 1; i <= CLEAN_REPEATS; i++) {
          const { report } = await session(`leakage: local array, async #${i}`);
          assert.equal(report.endReason, 'completed', `session ${i}`);
          const clicks = task(report, 'countClickLater');
          assert.equal(clicks.verdict, 'no-leak', `session ${i}: ${clicks.summary}`);
        }
      },
    );

    itNeeds(
      `does not call typescript.transpileModule of the same source a leak (JIT warm-up, then flat with steps), 200 runs, ${CLEAN_REPEATS} sessions out of ${CLEAN_REPEATS}`,
      repeats('typescript transpileModule'),
      async () => {
        for (let i = 1; i <= CLEAN_REPEATS; i++) {
          const { report } = await session(`typescript transpileModule #${i}`);
          assert.equal(report.endReason, 'completed', `session ${i}`);
          const transpile = task(report, 'transpileShipping');
          // Never a leak. Over 200 runs V8 is still compiling TypeScript, and the heap grows with the
          // compiled code (~900 B/run each), so the verdict is "inconclusive": growth slowing, or still
          // compiling. It levels off by run ~600; "no leak" at 200 runs is not the target.
          assert.ok(transpile.verdict !== 'leak', `session ${i}: ${transpile.verdict}: ${transpile.summary}`);
          assert.notEqual(report.verdict.kind, 'leak', `session ${i}: ${report.verdict.summary}`);
        }
      },
    );

    itNeeds(
      "does not call ESLint's Linter.verify or Prettier's format of the same source a leak (V8 still compiling them), 200 runs",
      ['eslint Linter.verify', 'prettier format'],
      async () => {
        for (const [name, fn] of [
          ['eslint Linter.verify', 'lintSource'],
          ['prettier format', 'formatSource'],
        ] as const) {
          const { report } = await session(name);
          assert.equal(report.endReason, 'completed', name);
          const library = task(report, fn);
          assert.ok(library.verdict !== 'leak', `${name}: ${library.verdict}: ${library.summary}`);
          // The harness recorded compiled code after every run, and V8 was still compiling.
          assert.ok(
            library.series.every((run) => run.compiledCodeBytes !== undefined && run.compiledCodeBytes > 0),
            `${name}: compiled code on every run`,
          );
        }
      },
    );

    itNeeds(
      `never calls temporaries only a leak (no-leak, or its warm-up a plateau), ${CLEAN_REPEATS} sessions out of ${CLEAN_REPEATS}`,
      repeats('temporaries harness'),
      async () => {
        for (let i = 1; i <= CLEAN_REPEATS; i++) {
          const { report } = await session(`temporaries harness #${i}`);
          assert.equal(report.endReason, 'completed', `session ${i}`);
          const summarize = task(report, 'summarizeReadings');
          // ~19 KB of one-time warm-up in the first ~60 runs, then exactly flat: no leak, though the
          // harness may read the one-time rise as a plateau (a known shortfall).
          assert.ok(summarize.verdict === 'no-leak' || summarize.verdict === 'plateau', `session ${i}: ${summarize.verdict}: ${summarize.summary}`);
        }
      },
    );

    itNeeds(
      `calls a cache that fills in 20 runs a plateau or no leak, never a leak, ${CLEAN_REPEATS} sessions out of ${CLEAN_REPEATS}`,
      repeats('bounded cache harness'),
      async () => {
        for (let i = 1; i <= CLEAN_REPEATS; i++) {
          const { report } = await session(`bounded cache harness #${i}`);
          assert.equal(report.endReason, 'completed', `session ${i}`);
          const exchange = task(report, 'exchangeTable');
          assert.ok(exchange.verdict === 'plateau' || exchange.verdict === 'no-leak', `session ${i}: ${exchange.verdict}: ${exchange.summary}`);
        }
      },
    );
  });

  describe('worker mode, default settings', () => {
    const tasksFile = verdicts('queue-tasks.js');

    itNeeds(
      'a fast burst (40,000 mixed tasks in seconds, then exit): record-shipment leaks, price-basket does not, recordShipment first',
      ['burst worker'],
      async () => {
        const { report } = await session('burst worker');
        assert.match(report.endReason, /exited with code 0|killed by SIGSEGV/);
        const shipment = task(report, 'record-shipment');
        const basket = task(report, 'price-basket');
        assert.equal(shipment.verdict, 'leak', shipment.summary);
        assertBytesPerRun(shipment, SHIPMENT_TRUTH, WORKER_SPLIT_ROOM);
        assert.equal(basket.verdict, 'no-leak', basket.summary);
        assertTopSite(report, tasksFile, 'recordShipment');
      },
    );

    itNeeds('paced (1 ms between 9,000 tasks, exits by itself): record-shipment leaks, price-basket does not', ['paced worker'], async () => {
      const { report } = await session('paced worker');
      assert.match(report.endReason, /exited with code 0|killed by SIGSEGV/);
      const shipment = task(report, 'record-shipment');
      const basket = task(report, 'price-basket');
      assert.equal(shipment.verdict, 'leak', shipment.summary);
      assertBytesPerRun(shipment, SHIPMENT_TRUTH, WORKER_SPLIT_ROOM);
      assert.equal(basket.verdict, 'no-leak', basket.summary);
      assertTopSite(report, tasksFile, 'recordShipment');
    });

    itNeeds('running for good, stopped after 15 s: record-shipment leaks, price-basket does not', ['endless worker'], async () => {
      const { report } = await session('endless worker');
      assert.match(report.endReason, /15 s/);
      const shipment = task(report, 'record-shipment');
      const basket = task(report, 'price-basket');
      assert.equal(shipment.verdict, 'leak', shipment.summary);
      assertBytesPerRun(shipment, SHIPMENT_TRUTH, WORKER_SPLIT_ROOM);
      assert.equal(basket.verdict, 'no-leak', basket.summary);
      assertTopSite(report, tasksFile, 'recordShipment');
    });

    itNeeds(
      'strictly alternating tasks (collinear counts): record-shipment found through its site, price-basket not called a leak',
      ['alternating worker'],
      async () => {
        const { report } = await session('alternating worker');
        assert.match(report.endReason, /exited with code 0|killed by SIGSEGV/);
        const shipment = task(report, 'record-shipment');
        const basket = task(report, 'price-basket');
        assert.equal(shipment.verdict, 'leak', shipment.summary);
        assert.notEqual(basket.verdict, 'leak', basket.summary);
        assertTopSite(report, tasksFile, 'recordShipment');
      },
    );

    itNeeds(
      `a bounded LRU cache (300 entries) over 12,000 tasks: no task is a leak, ${CLEAN_REPEATS} sessions out of ${CLEAN_REPEATS}`,
      repeats('lru worker'),
      async () => {
        for (let i = 1; i <= CLEAN_REPEATS; i++) {
          const { report } = await session(`lru worker #${i}`);
          assert.match(report.endReason, /exited with code 0|killed by SIGSEGV/, `session ${i}`);
          for (const name of ['lookup-customer', 'render-statement']) {
            const t = task(report, name);
            assert.notEqual(t.verdict, 'leak', `session ${i}, ${name}: ${t.summary}`);
            assert.notEqual(t.verdict, 'inconclusive', `session ${i}, ${name}: 12,000 tasks must conclude: ${t.summary}`);
          }
          assert.notEqual(report.verdict.kind, 'leak', `session ${i}: ${report.verdict.summary}`);
        }
      },
    );

    itNeeds(
      `temporaries only over 12,000 tasks: no task is a leak, ${CLEAN_REPEATS} sessions out of ${CLEAN_REPEATS}`,
      repeats('temporaries worker'),
      async () => {
        for (let i = 1; i <= CLEAN_REPEATS; i++) {
          const { report } = await session(`temporaries worker #${i}`);
          assert.match(report.endReason, /exited with code 0|killed by SIGSEGV/, `session ${i}`);
          for (const name of ['parse-batch', 'tally-events']) {
            const t = task(report, name);
            assert.notEqual(t.verdict, 'leak', `session ${i}, ${name}: ${t.summary}`);
            assert.notEqual(t.verdict, 'inconclusive', `session ${i}, ${name}: 12,000 tasks must conclude: ${t.summary}`);
          }
          assert.notEqual(report.verdict.kind, 'leak', `session ${i}: ${report.verdict.summary}`);
        }
      },
    );
  });
});

/**
 * Issue 11: why the memory is kept, on real Node processes under the real inspector: for each way a
 * leak is usually made (test/fixtures/node/why/), the top retainer group's path and the line that
 * stores into its holder, found by its text in the fixture (never a hard-coded line number). A clean
 * task with a bounded cache reports no group.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportTask } from '../../src/core/report';
import { pathText } from '../../src/core/why/describe';
import { fixture, harness, repoRoot, runSession } from './helpers';

const HOLDERS = fixture('node', 'why', 'holders.js');
const SESSIONS_TS = fixture('node', 'why', 'sessions.ts');
const RUNS = 40;

/** The 1-based line of the fixture that contains `text` (exactly one). */
function lineOf(file: string, text: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const found = lines.flatMap((line, i) => (line.includes(text) ? [i + 1] : []));
  assert.equal(found.length, 1, `"${text}" is on one line of ${file}`);
  return found[0];
}

async function why(file: string, exportName: string): Promise<ReportTask> {
  const { report } = await runSession({ mode: 'harness', harness: { ...harness(file, exportName, RUNS, 3)!, why: true } });
  const task = report.tasks.find((t) => t.name === exportName);
  assert.ok(task, `the report has ${exportName}`);
  assert.ok(task.why, `the report says why ${exportName} keeps memory`);
  assert.ok(
    report.notes.some((n) => /Why retained: read over \d+ more runs after the measured ones; the process was paused \d+ ms/.test(n)),
    report.notes.join('\n'),
  );
  return task;
}

interface Expected {
  exportName: string;
  file?: string;
  /** The path's text, from the holder down. */
  path: RegExp;
  /** The statement's text in the fixture, and the operation the report names. */
  statement: string;
  operation: string;
  /** At least this much per run in the group (what the fixture keeps for sure). */
  minBytesPerRun?: number;
}

const SHAPES: Expected[] = [
  { exportName: 'rememberCustomer', path: /seenCustomers \(Map\) > \{entry\} \(Object/, statement: 'seenCustomers.set(', operation: 'seenCustomers.set' },
  {
    exportName: 'subscribeToOrders',
    path: /orders \(EventEmitter\) > _events \(Object\) > order \(Array\) > \[\] \(function/,
    statement: "orders.on('order'",
    operation: "orders.on('order')",
  },
  {
    exportName: 'auditCall',
    path: /^function AuditRegistry > entries \(Array\) > \[\] \(Object\)/,
    statement: 'AuditRegistry.entries.push(',
    operation: 'AuditRegistry.entries.push',
  },
  { exportName: 'trackValue', path: /recent \(Array\) > \[\] \(Object\)/, statement: 'recent.push(', operation: 'recent.push' },
  { exportName: 'pollLater', path: /\(TimersList\) > .*_idle(Next|Prev).* \(Timeout\)/, statement: 'setInterval(', operation: 'setInterval' },
  {
    exportName: 'renderThumbnail',
    path: /thumbnails \(Array\) > \[\] \(Buffer\)/,
    statement: 'thumbnails.push(',
    operation: 'thumbnails.push',
    // The Buffer's 4 KiB backing store is outside the heap; the group counts it with its Buffer.
    minBytesPerRun: 4096,
  },
  {
    exportName: 'handleLogin',
    file: SESSIONS_TS,
    path: /store \(SessionStore\) > sessions \(Map\) > \{entry\} \(Object/,
    statement: 'this.sessions.set(',
    operation: 'this.sessions.set',
  },
];

describe('why it is kept: Node retainer paths and holding lines (real processes)', function () {
  this.timeout(180_000);

  for (const shape of SHAPES) {
    it(`${shape.exportName}: the path to its holder and the line that stores into it`, async () => {
      const file = shape.file ?? HOLDERS;
      const task = await why(file, shape.exportName);
      const top = task.why!.groups[0];
      assert.ok(top, `a group for ${shape.exportName}: ${JSON.stringify(task.why)}`);
      assert.match(pathText(top.path), shape.path);
      // One entry per call: the holder gains what each run adds, not a one-off.
      assert.ok(top.entriesPerRun >= 0.9 && top.entriesPerRun <= 1.1, `entries per run ${top.entriesPerRun}`);
      // The group is most of what the runs kept (the rest: V8's own objects, one-off strings).
      assert.ok(top.bytes >= 0.5 * task.why!.keptBytes && top.bytes <= task.why!.keptBytes, `group ${top.bytes} B of ${task.why!.keptBytes} B kept`);
      if (shape.minBytesPerRun !== undefined) assert.ok(top.bytesPerRun >= shape.minBytesPerRun, `group ${top.bytesPerRun} B/run`);
      assert.deepEqual(
        { file: top.holdingLine?.file, line: top.holdingLine?.line, operation: top.holdingLine?.operation, confidence: top.holdingLine?.confidence },
        { file, line: lineOf(file, shape.statement), operation: shape.operation, confidence: 'exact' },
      );
    });
  }

  it('formatReport (temporary rows, a bounded cache full after the warm-up): no group', async () => {
    const task = await why(HOLDERS, 'formatReport');
    assert.notEqual(task.verdict, 'leak', task.summary);
    assert.deepEqual(
      task.why!.groups.map((g) => pathText(g.path)),
      [],
      'no holder gained entries steadily',
    );
  });
});

describe('why it is kept: the default on a large heap (real process)', function () {
  this.timeout(180_000);

  it('skips the snapshots when the heap after the warm-up is above the limit, and says how to ask for them', async () => {
    const file = fixture('node', 'why', 'big-heap.js');
    const { report } = await runSession({ mode: 'harness', harness: { ...harness(file, 'keepSome', 6, 1)!, why: 'auto' } });
    assert.equal(report.tasks[0]?.why, undefined, 'no snapshots were read');
    const note = report.notes.find((n) => n.startsWith('Why retained was skipped'));
    assert.match(note ?? report.notes.join('\n'), /the heap after the warm-up is [\d.]+ MiB.*--why/);
  });
});

describe('why it is kept in a worker (taskmem run --why, real process)', function () {
  this.timeout(120_000);

  it('reads the heap after the first task and at the end: the array that keeps the sent emails, and its push', async () => {
    const worker = path.join(repoRoot, 'examples', 'node', 'queue-worker.js');
    const { report } = await runSession({
      mode: 'worker',
      command: [process.execPath, worker],
      maxTasks: 120,
      env: { JOB_INTERVAL_MS: '5' },
      why: true,
    });
    const why = report.why;
    assert.ok(why, `the report says why: ${report.warnings.join('; ')}`);
    // The worker runs on while the session stops, until the second reading: more than --max-tasks may finish.
    assert.ok(why.tasks >= 20, `tasks between the readings: ${why.tasks}`);
    const top = why.groups[0];
    assert.ok(top, JSON.stringify(why));
    assert.match(pathText(top.path), /sentEmails \(Array\) > \[\] \(Object\)/);
    // One email kept per sendEmail task: half of the tasks.
    assert.ok(top.entriesPerRun >= 0.4 && top.entriesPerRun <= 0.6, `entries per task ${top.entriesPerRun}`);
    assert.equal(top.holdingLine?.file, worker);
    assert.equal(top.holdingLine?.line, lineOf(worker, 'sentEmails.push('));
  });
});

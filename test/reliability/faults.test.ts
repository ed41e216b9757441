/**
 * Faults against real processes: a target killed (SIGKILL) while streaming, during a capture and
 * during the harness; a target that exits while a capture is in flight; the inspector socket
 * dropping under a live process; a Python fork child dying. Each time the session ends cleanly (or
 * goes on for the survivors) with the reason shown, keeps what it measured before the fault, and
 * nothing rejects or throws unhandled in this process.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { isAlive } from '../../src/launch/processes';
import type { SessionOptions } from '../../src/session/api';
import { ProfilingSession } from '../../src/session/session';
import { EXCEPTION_EXIT_NOTE } from '../../src/session/workerMode';
import { probePythons } from '../fixtures/python/session-kit';
import { assertNodeExit } from '../support/nodeExit';
import { reliabilityFixture, repoRoot, sleep, trapUnhandled, waitFor, within } from './helpers';

interface Running {
  session: ProfilingSession;
  warnings: string[];
  output: () => string;
}

/** Every session a test started; a failed test must not leave its processes behind. */
const started: ProfilingSession[] = [];

async function start(options: Omit<SessionOptions, 'cwd' | 'onOutput'>): Promise<Running> {
  let output = '';
  const warnings: string[] = [];
  // Fine sampling: these workers run for seconds, not hours, and the tests check that sites survive.
  const session = new ProfilingSession({
    cwd: repoRoot,
    statsIntervalMs: 50,
    samplingIntervalBytes: 16 * 1024,
    ...options,
    onOutput: (_s, chunk) => void (output += chunk.toString()),
  });
  started.push(session);
  session.onWarning((w) => warnings.push(w));
  await session.start();
  return { session, warnings, output: () => output };
}

function statsPoints(session: ProfilingSession): number {
  return session.statsPoints().length;
}

const bigHeap = reliabilityFixture('big-heap-worker.js');

describe('reliability: faults (real processes)', function () {
  this.timeout(90_000);
  trapUnhandled();
  afterEach(async () => {
    await Promise.all(started.splice(0).map((session) => session.stop('test ended')));
  });

  it('target SIGKILLed while streaming (worker mode): the session ends with the reason and keeps tasks, series and sites', async () => {
    const { session } = await start({ mode: 'worker', command: [process.execPath, bigHeap], env: { OBJECTS: '1000' } });
    await waitFor(() => session.targets.length >= 1 && session.tasks.finished >= 5, 20_000, 'tasks');
    await session.captureNow();
    await waitFor(() => statsPoints(session) >= 5, 10_000, 'statistics');
    const before = { tasks: session.tasks.finished, points: statsPoints(session), sites: session.report().sites.length };
    assert.ok(before.sites > 0, 'a capture before the fault found sites');
    process.kill(session.targets[0].pid, 'SIGKILL');
    const report = await within(20_000, 'the session ending after the kill', session.done);
    assert.match(report.endReason, /killed by SIGKILL/);
    assert.ok(report.tasks.reduce((n, t) => n + t.runs, 0) >= Math.min(before.tasks, 1), 'tasks kept');
    assert.ok(report.sites.length >= 1, 'sites kept');
    assert.ok(statsPoints(session) >= before.points, 'series kept');
    assert.ok(
      report.warnings.some((w) => /SIGKILL/.test(w)),
      `warnings: ${report.warnings.join(' | ')}`,
    );
  });

  it('target SIGKILLed while a retained capture of a big heap is in flight', async () => {
    const { session } = await start({ mode: 'worker', command: [process.execPath, bigHeap], env: { OBJECTS: '1500000' } });
    await waitFor(() => session.targets.length >= 1 && session.tasks.finished >= 3, 60_000, 'the big heap to be built');
    await waitFor(() => statsPoints(session) >= 3, 10_000, 'statistics');
    const pid = session.targets[0].pid;
    const capture = session.captureNow();
    let captured = false;
    void capture.then(() => (captured = true));
    await sleep(50);
    assert.equal(captured, false, 'the capture is still in flight when the kill lands (make the heap bigger if not)');
    process.kill(pid, 'SIGKILL');
    await within(15_000, 'the in-flight capture settling', capture);
    const report = await within(20_000, 'the session ending', session.done);
    assert.match(report.endReason, /killed by SIGKILL/);
    assert.ok(report.tasks.length >= 1, 'tasks measured before the kill are kept');
    assert.ok(statsPoints(session) >= 3, 'series kept');
    assert.ok(!isAlive(pid));
  });

  it('target exits by itself while a capture is in flight', async () => {
    const { session } = await start({ mode: 'worker', command: [process.execPath, bigHeap], env: { OBJECTS: '1500000' } });
    await waitFor(() => session.targets.length >= 1 && session.tasks.finished >= 3, 60_000, 'the big heap to be built');
    const pid = session.targets[0].pid;
    const capture = session.captureNow();
    await sleep(50);
    process.kill(pid, 'SIGUSR2'); // the fixture calls process.exit(3) as soon as its JavaScript runs
    await within(20_000, 'the in-flight capture settling', capture);
    const report = await within(25_000, 'the session ending', session.done);
    // Node 20 itself sometimes segfaults in process.exit() while an inspector request is in flight
    // (test/support/nodeExit.ts). Either way the data is kept.
    assertNodeExit(report.endReason, 3, 'exit during a capture');
    assert.ok(report.tasks.length >= 1, 'tasks kept');
  });

  // Node 20's inspector can segfault at exit with a client attached (README, known issue). The
  // fault is injected as it reaches us through a shell or npm: exit code 139 (128 + SIGSEGV).
  it('a segfault after the program finished (exit code 139 through a shell) ends the session normally, with a note', async () => {
    const fixture = JSON.stringify(reliabilityFixture('finishes.js'));
    const { session } = await start({ mode: 'worker', shell: true, command: [`${JSON.stringify(process.execPath)} ${fixture}; exit 139`] });
    const report = await within(30_000, 'the session ending', session.done);
    assert.equal(session.failureReason, undefined, report.endReason);
    assert.match(report.endReason, /exited with code 139 \(Node crashed at exit, after the program had finished\)/);
    assert.ok(
      report.notes.some((note) => note.startsWith('Node crashed (SIGSEGV) after the program had finished')),
      report.notes.join('\n'),
    );
    assert.ok(
      report.tasks.some((task) => task.name === 'record' && task.runs > 0),
      'tasks kept',
    );
  });

  it('exit code 139 after the program threw an uncaught exception stays a failure: the crash does not hide the error', async () => {
    const fixture = JSON.stringify(reliabilityFixture('finishes.js'));
    const { session } = await start({
      mode: 'worker',
      shell: true,
      command: [`${JSON.stringify(process.execPath)} ${fixture}; exit 139`],
      env: { THROW_AT_END: '1' },
    });
    const report = await within(30_000, 'the session ending', session.done);
    assert.match(report.endReason, /exited with code 139$/);
    assert.equal(session.failureReason, report.endReason);
    assert.ok(!report.notes.some((note) => note.startsWith('Node crashed (SIGSEGV) after')), report.notes.join('\n'));
    assert.ok(
      report.tasks.some((task) => task.name === 'record' && task.runs > 0),
      'tasks kept',
    );
  });

  it('a program that throws is let go at once: no capture at exit, its error printed, its exit code kept', async () => {
    // Node waits for the profiler before it prints an uncaught exception; a capture there once
    // segfaulted Node before the error was printed (e2e, a VS Code task). Three in a row.
    for (let attempt = 0; attempt < 3; attempt++) {
      const { session, output } = await start({
        mode: 'worker',
        command: [process.execPath, reliabilityFixture('finishes.js')],
        env: { THROW_AT_END: '1' },
      });
      const report = await within(30_000, 'the session ending', session.done);
      // The error reached us from the inspector before Node printed it, whatever the exit then did.
      assert.match(session.programError ?? '', /^Error: the queue connection was lost\n\s+at /);
      assertNodeExit(report.endReason, 1, 'a program that threw');
      if (!/SIGSEGV/.test(report.endReason)) assert.match(output(), /Error: the queue connection was lost/, output());
      assert.ok(report.notes.includes(EXCEPTION_EXIT_NOTE), report.notes.join('\n'));
      assert.ok(
        report.tasks.some((task) => task.name === 'record' && task.runs > 0),
        'tasks kept',
      );
    }
  });

  it('exit code 139 while the Node program still runs stays a failure', async () => {
    const fixture = JSON.stringify(reliabilityFixture('finishes.js'));
    const { session } = await start({
      mode: 'worker',
      shell: true,
      command: [`${JSON.stringify(process.execPath)} ${fixture} & sleep 2; exit 139`],
      env: { TASKS: '100000' },
    });
    const report = await within(30_000, 'the session ending', session.done);
    assert.ok(
      report.targets.some((target) => target.runtime === 'node'),
      'the Node program was profiled',
    );
    assert.match(report.endReason, /exited with code 139$/);
    assert.equal(session.failureReason, report.endReason);
    assert.ok(!report.notes.some((note) => note.startsWith('Node crashed (SIGSEGV) after')), report.notes.join('\n'));
  });

  it('target SIGKILLed during the harness: the measured runs are kept and the reason is shown', async () => {
    const { session } = await start({
      mode: 'harness',
      harness: { file: reliabilityFixture('slow-task.js'), exportName: 'run', runs: 50, warmup: 1, args: [], runtime: 'node' },
      env: { RUN_MS: '100' },
    });
    await waitFor(() => (session.report().tasks[0]?.runs ?? 0) >= 3, 60_000, 'three measured runs');
    const runs = session.report().tasks[0].runs;
    process.kill(session.targets[0].pid, 'SIGKILL');
    const report = await within(20_000, 'the session ending', session.done);
    assert.match(report.endReason, /killed by SIGKILL/);
    assert.ok(report.tasks[0].runs >= runs, `runs kept: ${report.tasks[0]?.runs}`);
    assert.ok(report.sites.length > 0, 'sites from captures before the kill');
  });

  it('the inspector socket drops under a live process: the target is reported gone, the session goes on and stops cleanly', async () => {
    const { session, warnings } = await start({ mode: 'worker', command: [process.execPath, bigHeap], env: { OBJECTS: '1000', CLOSE_INSPECTOR_MS: '1500' } });
    await waitFor(() => session.targets.length >= 1, 20_000, 'the target');
    await waitFor(() => session.targets[0].exitReason !== undefined, 20_000, 'the socket drop to be noticed');
    const target = session.targets[0];
    assert.match(target.exitReason!, /socket closed|closed/);
    assert.equal(session.state, 'running', 'the session goes on');
    assert.ok(isAlive(target.pid), 'the process itself still runs');
    const points = statsPoints(session);
    assert.ok(points > 0, 'statistics before the drop are kept');
    const report = await within(20_000, 'stopping', session.stop('stopped by test'));
    assert.equal(report.endReason, 'stopped by test');
    assert.equal(report.targets[0].exitReason, target.exitReason, 'the report says why the target went away');
    assert.ok(report.tasks.length >= 1, 'tasks before the drop are kept');
    await waitFor(() => !isAlive(target.pid), 5000, 'the launched process to be stopped');
    assert.ok(warnings.every((w) => typeof w === 'string'));
  });

  const pythons = probePythons();
  it('a Python fork child dies: the session goes on with the parent and says which target ended', async () => {
    const { session } = await start({ mode: 'worker', command: [pythons[0].exe, path.join(repoRoot, 'test', 'fixtures', 'python', 'forker.py'), '5'] });
    await waitFor(() => session.targets.length >= 2, 20_000, 'parent and fork child');
    const child = session.targets.find((t) => /\(fork \d+ of \d+\)/.test(t.title))!;
    assert.ok(child, `targets: ${session.targets.map((t) => t.title).join(', ')}`);
    await waitFor(() => statsPoints(session) >= 4, 10_000, 'statistics');
    process.kill(child.pid, 'SIGKILL');
    await waitFor(() => child.exitReason !== undefined, 10_000, 'the child to be reported gone');
    assert.equal(
      session.state,
      'running',
      `the session goes on for the parent (ended: ${session.report().endReason}; ${session.report().warnings.join(' | ')})`,
    );
    const parent = session.targets.find((t) => t !== child)!;
    assert.equal(parent.exitReason, undefined);
    const pointsBefore = session.statsPointsOf(parent.id).length;
    await sleep(500);
    assert.ok(session.statsPointsOf(parent.id).length > pointsBefore, 'the parent is still polled');
    const report = await within(30_000, 'the session ending with the parent', session.done);
    assert.match(report.endReason, /exited with code 0/);
    assert.ok(report.targets.find((t) => t.id === child.id)?.exitReason, 'the report says the child ended');
    assert.ok(session.statsPointsOf(child.id).length > 0, "the child's series is kept");
  });
});

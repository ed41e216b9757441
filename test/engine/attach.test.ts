/**
 * Attach to a Node process that was started without us (node --inspect): its own `taskmem:task`
 * marks count as tasks (the marks are installed through the inspector, since there is no
 * bootloader), the leaking task is named, and when the session lets go nothing of ours stays in the
 * process, which goes on running.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TaskmemReport } from '../../src/core/report';
import { isAlive } from '../../src/launch/processes';
import { listeningPorts } from '../../src/session/attach';
import { ProfilingSession } from '../../src/session/session';
import { evaluate } from '../support/inspect';
import { fixture, inspectorUrlOf, repoRoot } from './helpers';

describe('attach to a running Node process (real processes)', function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill('SIGKILL'));

  /** Starts a fixture under `node --inspect` for `runMs`, attaches a session for `durationSec`, and returns its report. */
  async function attachTo(script: string, runMs: string, durationSec: number): Promise<{ url: string; report: TaskmemReport }> {
    child = spawn(process.execPath, ['--inspect=127.0.0.1:0', fixture('node', script)], {
      env: { ...process.env, RUN_MS: runMs, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const url = await inspectorUrlOf(child);
    const session = new ProfilingSession({ mode: 'attach', cwd: repoRoot, attach: { url }, durationSec, onOutput: () => undefined });
    await session.start();
    return { url, report: await session.done };
  }

  it("counts the process's own task marks, names the leaking task, and leaves nothing behind", async () => {
    // The e2e's paced worker: ingest keeps 2,148 B per task, validate nothing; it publishes marks only while someone listens.
    const { url, report } = await attachTo('e2e/paced-worker.js', '60000', 8);
    const summary = report.tasks.map((task) => `${task.name}: ${task.verdict} ${Math.round(task.bytesPerRun)} B/run over ${task.runs}`).join(' | ');
    console.log(`      [attached worker] ${report.endReason}; ${summary}`);
    // On failure, what the verdicts stood on: each row's evidence, the user sites and the notes.
    const details = [
      summary,
      ...report.tasks.map((task) => `${task.name}: ${task.summary}\n    ${task.evidence.join('\n    ')}`),
      `sites: ${report.sites.map((site) => `${site.function}:${site.line} ${site.category} ${site.retainedBytes} B (${site.count} samples)`).join('; ')}`,
      `bytes by category: ${JSON.stringify(report.grouped)}`,
      ...report.notes,
    ].join('\n');
    const byName = new Map(report.tasks.map((task) => [task.name, task]));
    const ingest = byName.get('ingest');
    const validate = byName.get('validate');
    assert.ok(ingest && validate, details);
    assert.equal(ingest.verdict, 'leak', details);
    assert.ok(ingest.bytesPerRun > 1000 && ingest.bytesPerRun < 4000, details);
    assert.notEqual(validate.verdict, 'leak', details);
    assert.ok(!report.warnings.some((warning) => warning.includes('task marks could not be installed')), report.warnings.join('\n'));
    // The process goes on, without our subscribers or globals.
    assert.ok(child && isAlive(child.pid!), 'the attached process still runs');
    assert.equal(await evaluate(url, "require('node:diagnostics_channel').channel('taskmem:task').hasSubscribers"), false);
    assert.equal(
      await evaluate(url, 'typeof globalThis.__taskmemCheckpoint + typeof globalThis.__taskmemTasksFinished + typeof globalThis.__taskmemDetachMarks'),
      'undefinedundefinedundefined',
    );
  });

  it('a program that never yields to its event loop still gets its task marks (installed at once, after a wait)', async () => {
    // The marks go in on the program's next turn of the event loop (not halfway through a module
    // load); a program in one synchronous loop has none, and gets them after the session's wait.
    const { report } = await attachTo('sync-marks.js', '10000', 4);
    assert.ok(!report.warnings.some((warning) => warning.includes('task marks could not be installed')), report.warnings.join('\n'));
    assert.match(report.taskSource ?? '', /^the program's own taskmem:task marks$/, report.notes.join('\n'));
    const busy = report.tasks.find((task) => task.name === 'busy');
    assert.ok(busy && busy.runs > 0, report.tasks.map((task) => `${task.name} ${task.runs}`).join(', '));
  });

  /** Loopback ports the process listens on, once they differ from `before` (or after 10 s). */
  async function portsOnceChanged(pid: number, before: readonly number[]): Promise<number[]> {
    const deadline = Date.now() + 10_000;
    let ports = listeningPorts(pid);
    while (Date.now() < deadline && ports.join() === before.join()) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ports = listeningPorts(pid);
    }
    return ports;
  }

  it('attached by pid, closes the inspector it opened when it stops; the process goes on', async () => {
    // No inspector until SIGUSR1; then on a free port (--inspect-port=0), not 9229, which other tests may hold.
    child = spawn(process.execPath, ['--inspect-port=127.0.0.1:0', fixture('node', 'forever.js')], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: 'ignore',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(listeningPorts(child.pid!), [], 'no inspector before the session');
    const session = new ProfilingSession({ mode: 'attach', cwd: repoRoot, attach: { pid: child.pid! }, durationSec: 2, onOutput: () => undefined });
    await session.start();
    const open = listeningPorts(child.pid!);
    assert.equal(open.length, 1, `the inspector the session opened: ${open.join()}`);
    const report = await session.done;
    assert.ok(!report.warnings.length, report.warnings.join('\n'));
    assert.deepEqual(await portsOnceChanged(child.pid!, open), [], 'the inspector is closed after the session stopped');
    assert.ok(isAlive(child.pid!), 'the process still runs');
  });

  it('attached by pid to a process whose inspector was already open, leaves it open', async () => {
    child = spawn(process.execPath, ['--inspect=127.0.0.1:0', fixture('node', 'forever.js')], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve) => {
      let stderr = '';
      child!.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()).includes('ws://') && resolve());
    });
    const open = listeningPorts(child.pid!);
    assert.equal(open.length, 1, open.join());
    const session = new ProfilingSession({ mode: 'attach', cwd: repoRoot, attach: { pid: child.pid! }, durationSec: 2, onOutput: () => undefined });
    await session.start();
    await session.done;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(listeningPorts(child.pid!), open, 'the inspector it found open stays open');
    assert.ok(isAlive(child.pid!), 'the process still runs');
  });
});

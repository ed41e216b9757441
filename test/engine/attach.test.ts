/**
 * Attach to a Node process that was started without us (node --inspect): its own `taskmem:task`
 * marks count as tasks (the marks are installed through the inspector, since there is no
 * bootloader), the leaking task is named, and when the session lets go nothing of ours stays in the
 * process, which goes on running.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import WebSocket from 'ws';
import { isAlive } from '../../src/launch/processes';
import { ProfilingSession } from '../../src/session/session';
import { fixture, repoRoot } from './helpers';

/** One expression evaluated over a fresh inspector connection, with the console's `require`. */
function evaluate(url: string, expression: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on('error', reject);
    socket.on('open', () =>
      socket.send(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression, includeCommandLineAPI: true, returnByValue: true } })),
    );
    socket.on('message', (data: WebSocket.RawData) => {
      const reply = JSON.parse(data.toString()) as { id?: number; result?: { result?: { value?: unknown } } };
      if (reply.id !== 1) return;
      socket.close();
      resolve(reply.result?.result?.value);
    });
  });
}

describe('attach to a running Node process (real processes)', function () {
  this.timeout(60_000);
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill('SIGKILL'));

  it("counts the process's own task marks, names the leaking task, and leaves nothing behind", async () => {
    // The e2e's paced worker: ingest keeps 2,148 B per task, validate nothing; it publishes marks only while someone listens.
    child = spawn(process.execPath, ['--inspect=127.0.0.1:0', fixture('node', 'e2e/paced-worker.js')], {
      env: { ...process.env, RUN_MS: '60000', NODE_OPTIONS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      child!.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /ws:\/\/\S+/.exec(stderr);
        if (match) resolve(match[0]);
      });
      child!.on('exit', () => reject(new Error(`the worker ended: ${stderr}`)));
    });
    const session = new ProfilingSession({ mode: 'attach', cwd: repoRoot, attach: { url }, durationSec: 8, onOutput: () => undefined });
    await session.start();
    const report = await session.done;
    const summary = report.tasks.map((task) => `${task.name}: ${task.verdict} ${Math.round(task.bytesPerRun)} B/run over ${task.runs}`).join(' | ');
    console.log(`      [attached worker] ${report.endReason}; ${summary}`);
    const byName = new Map(report.tasks.map((task) => [task.name, task]));
    const ingest = byName.get('ingest');
    const validate = byName.get('validate');
    assert.ok(ingest && validate, summary);
    assert.equal(ingest.verdict, 'leak', summary);
    assert.ok(ingest.bytesPerRun > 1000 && ingest.bytesPerRun < 4000, summary);
    assert.notEqual(validate.verdict, 'leak', summary);
    assert.ok(!report.warnings.some((warning) => warning.includes('task marks could not be installed')), report.warnings.join('\n'));
    // The process goes on, without our subscribers or globals.
    assert.ok(isAlive(child.pid!), 'the attached process still runs');
    assert.equal(await evaluate(url, "require('node:diagnostics_channel').channel('taskmem:task').hasSubscribers"), false);
    assert.equal(await evaluate(url, 'typeof globalThis.__taskmemCheckpoint + typeof globalThis.__taskmemDetachMarks'), 'undefinedundefined');
  });
});

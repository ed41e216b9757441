/**
 * Attach to a Python process started on its own (issue 17): Python has no inspector to open later,
 * so the worker is started with the environment `taskmem env` prints. It registers in the user's
 * attach directory and runs on at once; a session attaches by pid, names the leaking task from
 * Celery's own signals, lets go, and the process runs on and can be attached to again. A Python
 * process started without the agent gets an error that says what to do.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attachableEnvironment, attachableProcesses } from '../../src/launch/attachable';
import { isAlive } from '../../src/launch/processes';
import { fixture, runSession } from './helpers';

const PYTHON = '/usr/bin/python3';

/** Resolves when the child printed `line` on stdout (or fails with its stderr after 20 s). */
function waitForLine(child: ChildProcess, line: RegExp): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${line} from the worker: ${stderr}`)), 20_000);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (line.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`the worker exited (${code}) before ${line}: ${stderr}`)));
  });
}

describe('attach to a Python process started with taskmem env (real processes)', function () {
  this.timeout(180_000);
  let home: string;
  let saved: string | undefined;
  const children: ChildProcess[] = [];
  before(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-attach-test-'));
    saved = process.env.TASKMEM_ATTACH_DIR;
    process.env.TASKMEM_ATTACH_DIR = path.join(home, 'attach');
  });
  after(() => {
    for (const child of children) child.kill('SIGKILL');
    if (saved === undefined) delete process.env.TASKMEM_ATTACH_DIR;
    else process.env.TASKMEM_ATTACH_DIR = saved;
    fs.rmSync(home, { recursive: true, force: true });
  });

  function startWorker(runSeconds: number): ChildProcess {
    const child = spawn(PYTHON, [fixture('python', 'attachable_worker.py')], {
      env: { ...process.env, ...attachableEnvironment(), RUN_S: String(runSeconds) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return child;
  }

  it('lists it, attaches by pid, names the leaking task, lets it run on, and attaches again', async () => {
    const worker = startWorker(150);
    await waitForLine(worker, /READY \d+/);
    const pid = worker.pid!;
    const listed = attachableProcesses().find((registration) => registration.pid === pid);
    assert.ok(listed, `registered in the attach directory: ${JSON.stringify(attachableProcesses())}`);
    assert.equal(listed.runtime, 'python');
    assert.match(listed.title ?? '', /attachable_worker\.py/);

    const first = await runSession({ mode: 'attach', attach: { pid }, durationSec: 20 }, 120_000);
    const summary = first.report.tasks.map((t) => `${t.name}: ${t.verdict} ${Math.round(t.bytesPerRun)} B/run over ${t.runs}`).join(' | ');
    console.log(`      [attached python worker] ${first.report.endReason}; ${summary}`);
    const byName = new Map(first.report.tasks.map((task) => [task.name, task]));
    const leaking = byName.get('record_order');
    const clean = byName.get('lookup_price');
    assert.ok(leaking && clean, `${summary}; warnings: ${first.warnings.join(' / ')}`);
    assert.equal(leaking.verdict, 'leak', summary);
    // One ~2.4 KB string a run (2,400 characters and the list's slot).
    assert.ok(leaking.bytesPerRun > 2000 && leaking.bytesPerRun < 3500, summary);
    assert.notEqual(clean.verdict, 'leak', summary);
    // The site first: the line that keeps the orders.
    const top = first.report.sites[0];
    assert.ok(top?.file?.endsWith('attachable_worker.py'), `top site: ${JSON.stringify(top)}`);
    assert.match(fs.readFileSync(top.file, 'utf8').split('\n')[(top.line ?? 0) - 1] ?? '', /# LEAK/);

    // Let go: the worker runs on, still listed, and a second session attaches to it.
    assert.ok(isAlive(pid), 'the worker runs on after the session');
    assert.ok(
      attachableProcesses().some((registration) => registration.pid === pid),
      'still listed after the session',
    );
    const second = await runSession({ mode: 'attach', attach: { pid }, durationSec: 6 }, 60_000);
    assert.ok(
      second.report.tasks.some((task) => task.name === 'record_order' && task.runs > 0),
      `second attach: ${second.report.endReason}; ${second.warnings.join(' / ')}`,
    );
    assert.ok(isAlive(pid), 'the worker runs on after the second session');
  });

  it('unregisters when it exits, and a killed one is dropped from the list', async () => {
    const ending = startWorker(1);
    await waitForLine(ending, /READY \d+/);
    const endingPid = ending.pid!;
    await new Promise((resolve) => ending.on('exit', resolve));
    const killed = startWorker(100);
    await waitForLine(killed, /READY \d+/);
    const killedPid = killed.pid!;
    assert.ok(
      attachableProcesses().some((registration) => registration.pid === killedPid),
      'listed while it runs',
    );
    killed.kill('SIGKILL');
    await new Promise((resolve) => killed.on('exit', resolve));
    const after = attachableProcesses().map((registration) => registration.pid);
    assert.ok(!after.includes(endingPid) && !after.includes(killedPid), `listed: ${after.join()}`);
    const left = fs.readdirSync(process.env.TASKMEM_ATTACH_DIR!).filter((name) => name.startsWith(`${endingPid}-`) || name.startsWith(`${killedPid}-`));
    assert.deepEqual(left, [], 'no registration or socket of theirs left behind');
  });

  it('says how to make a Python process attachable when it was started without the agent', async () => {
    const plain = spawn(PYTHON, ['-c', 'import time; time.sleep(60)'], { env: { ...process.env, PYTHONPATH: '' }, stdio: 'ignore' });
    children.push(plain);
    const result = await runSession({ mode: 'attach', attach: { pid: plain.pid! }, durationSec: 5 }, 30_000);
    assert.equal(result.report.endReason.includes('taskmem env'), true, result.report.endReason);
    assert.ok(isAlive(plain.pid!), 'the process is left as it was');
  });
});

// Profiling through the extension's commands in a real VS Code: the harness on the leaky example,
// Stop on a long-running worker, Export Report, and failures that must keep the panel's data.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TaskMemoryApi } from '../../../src/extension/extension';
import { Commands } from '../../../src/extension/sessionRegistry';
import type { ProfilingSessionApi } from '../../../src/session/api';
import { EXTENSION_ID } from '../config';
import { testConfig, waitFor } from './testConfig';

async function api(): Promise<TaskMemoryApi> {
  const ext = vscode.extensions.getExtension<TaskMemoryApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} not found`);
  const exported = await ext.activate();
  assert.ok(exported?.sessions, 'activate() returns { sessions }');
  return exported;
}

/** Running (a zombie waiting to be reaped by the extension host counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The session a command started: its return value, checked against the registry. */
function started(result: unknown, taskMemory: TaskMemoryApi): ProfilingSessionApi {
  const session = taskMemory.sessions.all.find((s) => s === result) ?? taskMemory.sessions.active;
  assert.ok(session, 'the command started a session');
  return session;
}

describe('Task Memory commands', function () {
  this.timeout(90_000);
  const repo = testConfig().repoRoot;
  const leaky = path.join(repo, 'examples/node/leaky-worker.js');
  let harness: ProfilingSessionApi | undefined;

  it('Profile Function runs the harness on leaky-worker.js#handleJob: leak, enrichOrder on top, a panel', async () => {
    const taskMemory = await api();
    const result = await vscode.commands.executeCommand(Commands.ProfileFunction, vscode.Uri.file(leaky), 'handleJob');
    const session = (harness = started(result, taskMemory));
    assert.equal(session.options.mode, 'harness');
    assert.equal(session.options.harness?.exportName, 'handleJob');
    assert.ok(taskMemory.hasPanel(session.id), 'a memory panel opens with the session');

    const report = await session.done;
    assert.equal(report.endReason, 'completed');
    assert.equal(report.verdict.kind, 'leak', report.verdict.summary);
    assert.ok(report.tasks[0].runs >= 3, `runs: ${report.tasks[0].runs}`);
    const top = report.sites[0];
    assert.ok(top, 'retaining sites were captured');
    assert.equal(top.function, 'enrichOrder');
    assert.equal(path.basename(top.file), 'leaky-worker.js');
    assert.ok(session.targets.length >= 1, 'the harness process reported in');
    for (const target of session.targets) await waitFor(`pid ${target.pid} to be gone`, () => !alive(target.pid), 5_000);
    assert.equal(session.state, 'ended');
    assert.ok(taskMemory.hasPanel(session.id), 'the panel stays open with the results');
    assert.equal(taskMemory.sessions.active, session);
  });

  it('Export Report writes the JSON report, the Markdown summary and the .heapprofile to given paths', async () => {
    assert.ok(harness, 'needs the harness session of the previous test');
    const dir = fs.mkdtempSync(path.join(testConfig().tmpDir, 'export-'));
    const json = path.join(dir, 'report.json');
    const written = await vscode.commands.executeCommand(Commands.ExportReport, 'json', json, harness.id);
    assert.equal(written, json);
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.equal(report.schemaVersion, 1);
    assert.equal(report.verdict.kind, 'leak');
    assert.equal(report.sites[0].function, 'enrichOrder');

    const md = path.join(dir, 'report.md');
    await vscode.commands.executeCommand(Commands.ExportReport, 'markdown', md, harness.id);
    assert.match(fs.readFileSync(md, 'utf8'), /enrichOrder/);

    const profile = path.join(dir, 'retained.heapprofile');
    await vscode.commands.executeCommand(Commands.ExportReport, 'heapprofile', profile, harness.id);
    const parsed = JSON.parse(fs.readFileSync(profile, 'utf8'));
    assert.ok(parsed.head && Array.isArray(parsed.samples) && parsed.samples.length > 0, 'a sampling heap profile with samples');
  });

  it('Stop ends a long-running worker (queue-worker.js) and its process is gone', async () => {
    const taskMemory = await api();
    const worker = path.join(repo, 'examples/node/queue-worker.js');
    const result = await vscode.commands.executeCommand(Commands.ProfileTask, {
      kind: 'worker',
      label: 'queue-worker',
      command: ['node', worker],
      shell: false,
      cwd: repo,
    });
    const session = started(result, taskMemory);
    assert.equal(session.options.mode, 'worker');
    const tasks = new Set<string>();
    const sub = session.onTask((t) => tasks.add(t.name));
    await waitFor('the worker to report in and finish tasks', () => session.targets.length > 0 && tasks.size >= 2);
    sub.dispose();
    const pids = session.targets.map((t) => t.pid);
    assert.ok(pids.every(alive), 'the worker runs');

    await vscode.commands.executeCommand(Commands.Stop, session.id);
    const report = await session.done;
    assert.equal(session.state, 'ended');
    assert.equal(report.endReason, 'stopped by user');
    assert.ok(
      report.tasks.some((t) => t.name === 'sendEmail'),
      `tasks: ${report.tasks.map((t) => t.name).join(', ')}`,
    );
    await waitFor('the worker processes to be gone', () => !pids.some(alive), 5_000);
    assert.ok(taskMemory.hasPanel(session.id));
  });

  it('a missing export ends the session with the engine message and keeps the panel', async () => {
    const taskMemory = await api();
    const result = await vscode.commands.executeCommand(Commands.ProfileFunction, vscode.Uri.file(leaky), 'noSuchExport');
    const session = started(result, taskMemory);
    const report = await session.done;
    assert.notEqual(report.endReason, 'completed');
    assert.match(report.endReason, /noSuchExport/);
    assert.ok(report.warnings.includes(report.endReason), 'the failure is recorded as a warning');
    assert.ok(taskMemory.hasPanel(session.id), 'the panel stays to show what happened');
    for (const target of session.targets) await waitFor(`pid ${target.pid} to exit`, () => !alive(target.pid), 5_000);
  });

  it('a file that does not exist fails to start with a clear message', async () => {
    const taskMemory = await api();
    const missing = path.join(testConfig().tmpDir, 'missing-worker.js');
    const result = await vscode.commands.executeCommand(Commands.ProfileFunction, vscode.Uri.file(missing), 'handleJob');
    assert.equal(result, undefined, 'no session is returned when it cannot start');
    const session = taskMemory.sessions.active;
    assert.ok(session && session.options.harness?.file === missing);
    const report = await session.done;
    assert.match(report.endReason, /does not exist/);
  });
});

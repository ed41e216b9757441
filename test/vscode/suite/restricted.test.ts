// Restricted Mode: in an untrusted workspace, Profile Function and Attach to Process start no
// session, no process and no connection. Runs only when the window is really untrusted: the normal
// suite runs with trust disabled (trusted), so it is not registered there; test/reliability/workspace-trust.test.ts
// starts code-server with Workspace Trust on and an untrusted folder to run it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TaskMemoryApi } from '../../../src/extension/extension';
import { Commands } from '../../../src/extension/sessionRegistry';
import { EXTENSION_ID } from '../config';
import { testConfig } from './testConfig';

/** Descendant pids of this extension host (Linux /proc). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // ended meanwhile
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

describe('Restricted Mode', function () {
  this.timeout(60_000);
  // Registered only in an untrusted window: test/reliability/workspace-trust.test.ts opens one and
  // fails unless this test ran and passed there; the regular (trusted) suite does not list it.
  if (vscode.workspace.isTrusted) return;

  it('Profile Function and Attach to Process start no session, no process and no connection', async () => {
    const ext = vscode.extensions.getExtension<TaskMemoryApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found`);
    const taskMemory = await ext.activate();
    assert.equal(vscode.workspace.isTrusted, false);
    const leaky = path.join(testConfig().repoRoot, 'examples/node/leaky-worker.js');
    const before = new Set(descendants(process.pid));

    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      // Not awaited: the commands wait on a warning that offers to manage trust, which nobody answers.
      const results: unknown[] = [];
      void Promise.resolve(vscode.commands.executeCommand(Commands.ProfileFunction, vscode.Uri.file(leaky), 'handleJob')).then((r) => results.push(r));
      void Promise.resolve(vscode.commands.executeCommand(Commands.AttachToProcess, `ws://127.0.0.1:${port}/restricted`)).then((r) => results.push(r));
      void Promise.resolve(vscode.commands.executeCommand(Commands.AttachToProcess, String(port))).then((r) => results.push(r));
      await new Promise((resolve) => setTimeout(resolve, 4000));
      assert.equal(taskMemory.sessions.all.length, 0, 'no session was started');
      assert.equal(connections, 0, 'no connection to the inspector port was attempted');
      const spawned = descendants(process.pid)
        .filter((pid) => !before.has(pid))
        .map((pid) => `${pid}: ${cmdline(pid)}`);
      assert.ok(!spawned.some((line) => /leaky-worker|harness|taskmem/.test(line)), `processes started: ${spawned.join('; ')}`);
      assert.ok(
        results.every((r) => r === undefined),
        'no command returned a session',
      );
    } finally {
      server.close();
    }
  });
});

// Benchmark (not a test of `npm run test:vscode`): the extension host's heap after N profiling
// sessions / before. Built by `node test/vscode/build.mjs --bench` into out/test/vscode/bench/ and
// run by bench/extension-host-heap.mjs through test/vscode/runCodeServer.ts
// (TASKMEM_VSCODE_TEST_SUITE=out/test/vscode/bench/index.js).
//
// What it does, in the extension host of a real VS Code (code-server):
//   1. activates the extension, sets taskMemory.runs / taskMemory.warmup small (5 / 1);
//   2. runs one warm-up session (lazy module loading, first webview, JIT: not counted), closes its panel;
//   3. full GC (several, --expose-gc set at run time), heapUsed = "before";
//   4. N sessions of Profile Function on examples/node/leaky-worker.js#handleJob, each awaited to its
//      end, then its panel closed the way a user closes it (the tab); the registry keeps the ended
//      session (Recent Sessions) but never more than RECENT_SESSIONS of them;
//   5. full GC again, heapUsed = "after"; writes {before, after, ratio, sessions, perSessionMs, …} as
//      JSON to $TASKMEM_EXTHOST_HEAP_OUT.
//
// Environment: TASKMEM_EXTHOST_HEAP_OUT (required: the JSON's path), TASKMEM_EXTHOST_HEAP_SESSIONS
// (default 20), TASKMEM_EXTHOST_HEAP_SNAPSHOTS=1 (also write heap snapshots before/after into
// os.tmpdir(), paths in the JSON; compare them with test/vscode/bench/heapsnapshot-diff.mjs).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as vscode from 'vscode';
import type { TaskMemoryApi } from '../../../src/extension/extension';
import { RECENT_SESSIONS } from '../../../src/extension/sessionManager';
import { Commands } from '../../../src/extension/sessionRegistry';
import { PANEL_VIEW_TYPE } from '../../../src/shared/protocol';
import type { ProfilingSessionApi } from '../../../src/session/api';
import { EXTENSION_ID } from '../config';
import { testConfig } from '../suite/testConfig';

const RUNS = 5;
const WARMUP = 1;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as unknown;
  assert.equal(typeof gc, 'function', 'gc() is available after --expose-gc');
  return gc as () => void;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  void what;
  return true;
}

/** The memory panel tabs, as the user sees them. */
function panelTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) =>
    g.tabs.filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(PANEL_VIEW_TYPE)),
  );
}

describe('extension host heap (bench)', function () {
  this.timeout(30 * 60_000);

  it('N Profile Function sessions, each panel closed afterwards, leave the heap where it was', async () => {
    const outFile = process.env.TASKMEM_EXTHOST_HEAP_OUT;
    assert.ok(outFile, 'TASKMEM_EXTHOST_HEAP_OUT names the JSON to write');
    const sessions = Number(process.env.TASKMEM_EXTHOST_HEAP_SESSIONS || 20);
    const snapshots = process.env.TASKMEM_EXTHOST_HEAP_SNAPSHOTS === '1';
    const gc = exposeGc();
    const ext = vscode.extensions.getExtension<TaskMemoryApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found`);
    const taskMemory = await ext.activate();
    const config = vscode.workspace.getConfiguration('taskMemory');
    await config.update('runs', RUNS, vscode.ConfigurationTarget.Global);
    await config.update('warmup', WARMUP, vscode.ConfigurationTarget.Global);
    const leaky = vscode.Uri.file(path.join(testConfig().repoRoot, 'examples/node/leaky-worker.js'));

    /** Several full GCs with turns of the event loop between them (finalizers, weak callbacks). */
    const collect = async (): Promise<number> => {
      for (let i = 0; i < 4; i++) {
        gc();
        await sleep(100);
      }
      gc();
      return process.memoryUsage().heapUsed;
    };

    const problems: string[] = [];
    /** One session: command → report → the panel's tab closed → the session kept, the registry bounded. */
    const profileOnce = async (): Promise<{ ms: number; closeMs: number }> => {
      const t0 = performance.now();
      const result = await vscode.commands.executeCommand(Commands.ProfileFunction, leaky, 'handleJob');
      const session = taskMemory.sessions.all.find((s) => s === result) as ProfilingSessionApi | undefined;
      assert.ok(session, 'Profile Function started a session');
      assert.equal(session.options.harness?.runs, RUNS);
      const report = await session.done;
      assert.equal(report.endReason, 'completed');
      const ended = performance.now();
      const id = session.id;
      const tabs = panelTabs();
      assert.ok(tabs.length >= 1 && taskMemory.hasPanel(id), 'the session has an open panel');
      await vscode.window.tabGroups.close(tabs);
      if (!(await waitFor('the panel to be disposed', () => !taskMemory.hasPanel(id))))
        problems.push(`${id}: the panel was not disposed after its tab was closed`);
      // Results outlive the tab (Recent Sessions), within a bound.
      if (!taskMemory.sessions.all.some((s) => s.id === id)) problems.push(`${id}: the registry forgot the session when its panel was closed`);
      if (taskMemory.sessions.all.length > RECENT_SESSIONS)
        problems.push(`the registry holds ${taskMemory.sessions.all.length} sessions, more than ${RECENT_SESSIONS}`);
      return { ms: ended - t0, closeMs: performance.now() - ended };
    };

    const snapshot = (name: string): string | undefined =>
      snapshots ? v8.writeHeapSnapshot(path.join(os.tmpdir(), `taskmem-exthost-${name}-${process.pid}.heapsnapshot`)) : undefined;

    // Warm-up: loads the extension's lazily required modules, the webview, the session engine.
    const warmup = await profileOnce();
    const before = await collect();
    const statsBefore = v8.getHeapStatistics();
    const snapshotBefore = snapshot('before');

    const perSessionMs: number[] = [];
    const closeMs: number[] = [];
    const heapAfterEach: number[] = [];
    for (let i = 0; i < sessions; i++) {
      const t = await profileOnce();
      perSessionMs.push(Math.round(t.ms));
      closeMs.push(Math.round(t.closeMs));
      heapAfterEach.push(await collect());
    }
    const after = await collect();
    const statsAfter = v8.getHeapStatistics();
    const snapshotAfter = snapshot('after');

    const result = {
      before,
      after,
      ratio: after / before,
      sessions,
      perSessionMs,
      closeMs,
      heapAfterEach,
      warmupSessionMs: Math.round(warmup.ms),
      runs: RUNS,
      warmup: WARMUP,
      workload: 'examples/node/leaky-worker.js#handleJob',
      sessionsInRegistry: taskMemory.sessions.all.length,
      panelTabsOpen: panelTabs().length,
      problems,
      heapStatistics: { before: statsBefore, after: statsAfter },
      snapshots: snapshots ? { before: snapshotBefore, after: snapshotAfter } : undefined,
      vscode: vscode.version,
      node: process.version,
    };
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, JSON.stringify(result, null, 2));
  });
});

/**
 * Stop means stop: 50 start/stop cycles of a target that spawns a child process and worker threads
 * leave no process whose command line names the fixture and no inspector port listening.
 */
import { strict as assert } from 'node:assert';
import { ProfilingSession } from '../../src/session/session';
import { listenSockets, listenSocketsOf, processesMentioning, reliabilityFixture, repoRoot, sleep, trapUnhandled, waitFor, within } from './helpers';

const CYCLES = 50;
const PARALLEL = 5;
const tree = reliabilityFixture('tree.js');

interface CycleResult {
  pids: number[];
  ports: number[];
}

async function cycle(): Promise<CycleResult> {
  const session = new ProfilingSession({ mode: 'worker', cwd: repoRoot, command: [process.execPath, tree], statsIntervalMs: 200, onOutput: () => undefined });
  await session.start();
  // The parent, its child process, and their worker threads (three).
  await waitFor(
    () => session.targets.filter((t) => t.parentId === undefined).length >= 2 && session.targets.filter((t) => t.parentId !== undefined).length >= 3,
    20_000,
    'the whole tree to be profiled',
  );
  const pids = [...new Set(session.targets.map((t) => t.pid))];
  const ports = pids.flatMap((pid) => listenSocketsOf(pid).map((s) => s.port));
  await within(15_000, 'stop', session.stop('cycle'));
  return { pids, ports };
}

describe('reliability: stop means stop', function () {
  this.timeout(150_000);
  trapUnhandled();

  it(`${CYCLES} start/stop cycles of a tree with child processes and worker threads leave 0 orphans and 0 open ports`, async () => {
    assert.deepEqual(processesMentioning(tree), [], 'no leftovers from an earlier run');
    const started = Date.now();
    const results: CycleResult[] = [];
    for (let done = 0; done < CYCLES; done += PARALLEL) {
      results.push(...(await Promise.all(Array.from({ length: Math.min(PARALLEL, CYCLES - done) }, () => cycle()))));
    }
    const allPids = results.flatMap((r) => r.pids);
    const allPorts = results.flatMap((r) => r.ports);
    assert.equal(results.length, CYCLES);
    assert.ok(allPids.length >= CYCLES * 2, `processes profiled: ${allPids.length}`);
    assert.ok(allPorts.length >= CYCLES * 2, `inspector ports seen: ${allPorts.length}`);
    // killTree returns once SIGKILL is sent; the kernel reaps within moments.
    await waitFor(() => processesMentioning(tree).length === 0, 5000, 'orphans to disappear').catch(() => undefined);
    const orphans = processesMentioning(tree);
    assert.deepEqual(orphans, [], `orphan processes: ${orphans.join(', ')}`);
    await sleep(100);
    const stillListening = listenSockets().filter((s) => allPorts.includes(s.port));
    // A port number may be reused by an unrelated listener; none may belong to a profiled pid.
    for (const socket of stillListening) {
      for (const pid of allPids) assert.ok(!listenSocketsOf(pid).some((s) => s.inode === socket.inode), `port ${socket.port} still open in pid ${pid}`);
    }
    const seconds = (Date.now() - started) / 1000;
    console.log(`      ${CYCLES} cycles, ${allPids.length} processes, ${allPorts.length} inspector ports, ${seconds.toFixed(1)} s`);
    assert.ok(seconds < 120, `took ${seconds} s`);
  });
});

// Start-up bench: time from "Profile Task" (a worker session's start()) to the first chart point
// (the first onStats), through the same ProfilingSession the extension uses. Bundled by bench/run.mjs.
import { performance } from 'node:perf_hooks';
import { ProfilingSession } from '../../src/session/session';

export async function timeToFirstStats(command: string[], cwd: string): Promise<{ firstStatsMs: number; targetMs: number }> {
  const t0 = performance.now();
  const session = new ProfilingSession({ mode: 'worker', command, cwd, onOutput: () => undefined });
  let targetMs = NaN;
  const target = session.onTarget(() => {
    if (Number.isNaN(targetMs)) targetMs = performance.now() - t0;
  });
  const first = new Promise<number>((resolve) => {
    const subscription = session.onStats(() => {
      subscription.dispose();
      resolve(performance.now() - t0);
    });
  });
  const timeout = new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no stats within 30 s')), 30_000).unref());
  try {
    await session.start();
    const firstStatsMs = await Promise.race([first, timeout]);
    return { firstStatsMs, targetMs };
  } finally {
    target.dispose();
    await session.stop('bench done');
  }
}

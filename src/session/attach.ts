/** Attach mode: connect to a process that already has an inspector (URL, port, or a Node PID). */
import type { TargetInfo } from '../core/model';
import type { AttachSpec } from './api';
import type { ProfilingSession } from './session';
import { Target } from './target';

interface ListedTarget {
  webSocketDebuggerUrl?: string;
  title?: string;
  url?: string;
}

async function listTargets(port: number): Promise<ListedTarget[]> {
  const response = await fetch(`http://127.0.0.1:${port}/json/list`);
  if (!response.ok) throw new Error(`http://127.0.0.1:${port}/json/list answered ${response.status}`);
  return (await response.json()) as ListedTarget[];
}

async function waitForInspector(port: number, timeoutMs: number): Promise<ListedTarget[]> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await listTargets(port);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`no inspector on 127.0.0.1:${port}: ${(lastError as Error)?.message ?? 'timed out'}`);
}

export async function resolveAttachUrls(spec: AttachSpec): Promise<ListedTarget[]> {
  if (spec.url?.startsWith('ws://')) return [{ webSocketDebuggerUrl: spec.url, title: spec.url }];
  if (spec.url) {
    const port = Number(new URL(spec.url).port);
    return listTargets(port);
  }
  if (spec.port) return waitForInspector(spec.port, 2000);
  if (spec.pid) {
    try {
      // Node opens its inspector on 127.0.0.1:9229 when it receives SIGUSR1.
      process.kill(spec.pid, 'SIGUSR1');
    } catch (error) {
      throw new Error(`cannot signal pid ${spec.pid}: ${(error as Error).message}`);
    }
    return waitForInspector(9229, 5000);
  }
  throw new Error('attach needs a ws:// URL, a port or a pid');
}

export async function attachTargets(session: ProfilingSession, spec: AttachSpec): Promise<void> {
  const listed = (await resolveAttachUrls(spec)).filter((entry) => entry.webSocketDebuggerUrl);
  if (!listed.length) throw new Error('the inspector lists no target to attach to');
  for (const [index, entry] of listed.entries()) {
    const url = entry.webSocketDebuggerUrl as string;
    const host = new URL(url).hostname;
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`refusing to attach to a non-loopback inspector (${host})`);
    const info: TargetInfo = { id: `node:attached-${index}`, pid: spec.pid ?? 0, runtime: 'node', title: entry.title || url, argv: [] };
    const target = await Target.connect(info, url, { samplingIntervalBytes: session.samplingIntervalBytes });
    await session.addTarget(target);
  }
}

/** Attach mode: connect to a process that already has an inspector (URL, port, or a Node PID). */
import * as fs from 'node:fs';
import type { TargetInfo } from '../core/model';
import type { AttachSpec } from './api';
import type { DriverHost } from './driver';
import { Target } from './target';
import { DEFAULTS } from './defaults';
import { attachMarksPath } from '../launch/assets';

let cachedMarksScript: string | undefined;
const marksScript = (): string => (cachedMarksScript ??= fs.readFileSync(attachMarksPath(), 'utf8'));

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

/** Loopback TCP ports a process listens on (Linux: its socket inodes matched in /proc/net/tcp). */
export function listeningPorts(pid: number): number[] {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      fs
        .readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((inode): inode is string => inode !== undefined),
    );
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT, st 0A is LISTEN, field 9 is the inode.
      if (fields.length < 10 || fields[3] !== '0A' || !inodes.has(fields[9])) continue;
      ports.push(parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}

async function inspectorOfPid(pid: number): Promise<ListedTarget[]> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    // The inspector may listen on --inspect-port rather than 9229: ask the process's own sockets.
    for (const port of new Set([...listeningPorts(pid), 9229])) {
      try {
        const listed = await listTargets(port);
        if (listed.length) return listed;
      } catch {
        // Not an inspector (or not yet); try the next.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pid ${pid} did not open an inspector (is it a Node process? SIGUSR1 needs Node without --disable-sigusr1)`);
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
    return inspectorOfPid(spec.pid);
  }
  throw new Error('attach needs a ws:// URL, a port or a pid');
}

export async function attachTargets(session: DriverHost, spec: AttachSpec): Promise<void> {
  const listed = (await resolveAttachUrls(spec)).filter((entry) => entry.webSocketDebuggerUrl);
  if (!listed.length) throw new Error('the inspector lists no target to attach to');
  for (const [index, entry] of listed.entries()) {
    const url = entry.webSocketDebuggerUrl as string;
    const host = new URL(url).hostname;
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`refusing to attach to a non-loopback inspector (${host})`);
    const info: TargetInfo = { id: `node:attached-${index}`, pid: spec.pid ?? 0, runtime: 'node', title: entry.title || url, argv: [] };
    const target = await Target.connect(info, { kind: 'inspector', url }, { samplingIntervalBytes: session.samplingIntervalBytes });
    await session.addTarget(target);
    // Its own task marks and its HTTP requests count as tasks, as under the bootloader.
    await target
      .installTaskMarks(marksScript(), session.options.taskGcBudget ?? DEFAULTS.taskGcBudget)
      .catch((error: Error) => session.warn(`task marks could not be installed in ${info.title}: ${error.message}; tasks are time windows`));
  }
}

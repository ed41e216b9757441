/** Attach mode: connect to a process that already has an inspector (URL, port, or a Node PID). */
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { TargetInfo } from '../core/model';
import { attachCandidates, parseCmdline, type AttachCandidate } from '../core/processList';
import type { AttachSpec } from './api';
import type { DriverHost } from './driver';
import { Target } from './target';
import { DEFAULTS } from './defaults';
import { attachMarksPath } from '../launch/assets';
import { attachableProcesses } from '../launch/attachable';
import { targetInfoOf, type Registration } from '../launch/registry';

let cachedMarksScript: string | undefined;
/**
 * The marks script, named after its file: evaluated without a name its frames would have no url and
 * count as the runtime's, so what the marks allocate would be charged to the program's line that
 * published the mark. Named, they are the profiler's own (core/frames classifyFrame).
 */
const marksScript = (): string =>
  (cachedMarksScript ??= `${fs.readFileSync(attachMarksPath(), 'utf8')}\n//# sourceURL=${pathToFileURL(attachMarksPath()).href}\n`);

interface ListedTarget {
  webSocketDebuggerUrl?: string;
  title?: string;
  url?: string;
}

async function listTargets(port: number, timeoutMs = 5000): Promise<ListedTarget[]> {
  const response = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(timeoutMs) });
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

/** The inspector a process listens on, if any: one pass over its own sockets (the port may be --inspect-port's). */
async function openInspectorOf(pid: number, alsoTry: number[] = []): Promise<ListedTarget[] | undefined> {
  for (const port of new Set([...listeningPorts(pid), ...alsoTry])) {
    try {
      const listed = await listTargets(port);
      if (listed.length) return listed;
    } catch {
      // Not an inspector (or not yet); try the next.
    }
  }
  return undefined;
}

async function inspectorOfPid(pid: number): Promise<ListedTarget[]> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const listed = await openInspectorOf(pid, [9229]);
    if (listed) return listed;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`pid ${pid} did not open an inspector (is it a Node process? SIGUSR1 needs Node without --disable-sigusr1)`);
}

/** The targets to attach to, and whether we opened the inspector (a pid signalled): then we close it again. */
async function resolveAttach(spec: AttachSpec): Promise<{ listed: ListedTarget[]; opened: boolean }> {
  if (spec.url?.startsWith('ws://')) return { listed: [{ webSocketDebuggerUrl: spec.url, title: spec.url }], opened: false };
  if (spec.url) {
    const port = Number(new URL(spec.url).port);
    return { listed: await listTargets(port), opened: false };
  }
  if (spec.port) return { listed: await waitForInspector(spec.port, 2000), opened: false };
  if (spec.pid) {
    // Already open (--inspect, or a debugger's): it stays open after us.
    const open = await openInspectorOf(spec.pid);
    if (open) return { listed: open, opened: false };
    try {
      // Node opens its inspector on 127.0.0.1:9229 (or --inspect-port) when it receives SIGUSR1.
      process.kill(spec.pid, 'SIGUSR1');
    } catch (error) {
      throw new Error(`cannot signal pid ${spec.pid}: ${(error as Error).message}`);
    }
    return { listed: await inspectorOfPid(spec.pid), opened: true };
  }
  throw new Error('attach needs a ws:// URL, a port or a pid');
}

/** A Python process started with the agent (taskmem env): its socket, not an inspector. */
async function attachAgent(session: DriverHost, registration: Registration): Promise<void> {
  await session.addTarget(await Target.connect(targetInfoOf(registration), registration.endpoint, session.targetOptions()));
}

/** What to say of a pid that is neither an attachable Python process nor a Node one. */
function notAttachable(pid: number): string | undefined {
  let argv: string[];
  try {
    argv = parseCmdline(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return `no process with pid ${pid} (or not this user's)`;
  }
  if (!/(?:^|[\\/])python[\d.]*$/.test(argv[0] ?? '') && !argv.some((arg) => /(?:^|[\\/])(?:celery|rq|gunicorn|uwsgi|flask)$/.test(arg))) return undefined;
  return `pid ${pid} is a Python process started without the profiler's agent, which Python needs (it has no inspector to open). Start it with the environment \`taskmem env\` prints (eval "$(taskmem env)"), then attach by pid; or run it under taskmem run`;
}

export async function attachTargets(session: DriverHost, spec: AttachSpec): Promise<void> {
  if (spec.pid) {
    const python = attachableProcesses().find((registration) => registration.pid === spec.pid);
    if (python) return attachAgent(session, python);
    const problem = notAttachable(spec.pid);
    if (problem) throw new Error(problem);
  }
  const resolved = await resolveAttach(spec);
  const listed = resolved.listed.filter((entry) => entry.webSocketDebuggerUrl);
  if (!listed.length) throw new Error('the inspector lists no target to attach to');
  for (const [index, entry] of listed.entries()) {
    const url = entry.webSocketDebuggerUrl as string;
    const host = new URL(url).hostname;
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) throw new Error(`refusing to attach to a non-loopback inspector (${host})`);
    const info: TargetInfo = { id: `node:attached-${index}`, pid: spec.pid ?? 0, runtime: 'node', title: entry.title || url, argv: [] };
    // An inspector we opened is closed again when the session lets go (Target.letGo).
    const target = await Target.connect(
      info,
      { kind: 'inspector', url },
      { samplingIntervalBytes: session.samplingIntervalBytes, closeInspectorOnLetGo: resolved.opened },
    );
    await session.addTarget(target);
    // Its own task marks and its HTTP requests count as tasks, as under the bootloader.
    await target
      .installTaskMarks(marksScript(), session.options.taskGcBudget ?? DEFAULTS.taskGcBudget, session.options.autoTasks ?? true)
      .catch((error: Error) => session.warn(`task marks could not be installed in ${info.title}: ${error.message}; tasks are time windows`));
  }
}

/** Node programs running on this machine (Linux /proc), for the extension's process list. */
export async function runningNodePrograms(): Promise<AttachCandidate[]> {
  let pids: number[];
  try {
    pids = fs
      .readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
  const entries = pids.flatMap((pid) => {
    try {
      return [{ pid, argv: parseCmdline(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')) }];
    } catch {
      // Gone meanwhile, or not ours to read.
      return [];
    }
  });
  const exclude = new Set([process.pid, process.ppid]);
  // An inspector someone opened later (SIGUSR1, a debugger) is one of its listening ports that answers as one.
  const candidates = attachCandidates(entries, exclude, () => false);
  await Promise.all(
    candidates
      .filter((candidate) => !candidate.inspectorOpen)
      .map(async (candidate) => {
        for (const port of listeningPorts(candidate.pid)) {
          const listed = await listTargets(port, 500).catch(() => []);
          if (listed.length) candidate.inspectorOpen = true;
        }
      }),
  );
  return candidates;
}

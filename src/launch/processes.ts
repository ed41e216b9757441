/**
 * Starting and stopping process trees. A launch gets its own process group; stopping signals the
 * group and every descendant found in /proc (children that made their own group or were
 * re-parented), first politely, then with SIGKILL, so no orphan outlives a session.
 */
import * as fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

export interface SpawnRequest {
  command: string[];
  shell: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function spawnTree(request: SpawnRequest): ChildProcess {
  const [file, ...args] = request.command;
  if (!file) throw new Error('no command to run');
  if (!fs.existsSync(request.cwd)) throw new Error(`the working directory ${request.cwd} does not exist`);
  const child = request.shell
    ? spawn(request.command.join(' '), {
        shell: true,
        cwd: request.cwd,
        env: request.env,
        detached: process.platform !== 'win32',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(file, args, { cwd: request.cwd, env: request.env, detached: process.platform !== 'win32', stdio: ['ignore', 'pipe', 'pipe'] });
  return child;
}

/** pid → ppid for every process we can see (Linux /proc; elsewhere empty). */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return table;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: the fields after the last ')' are fixed.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), Number(fields[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

export function descendantsOf(rootPids: readonly number[]): number[] {
  const table = processTable();
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of table) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const found = new Set<number>();
  const stack = [...rootPids];
  while (stack.length) {
    const pid = stack.pop() as number;
    for (const child of children.get(pid) ?? []) {
      if (!found.has(child)) {
        found.add(child);
        stack.push(child);
      }
    }
  }
  return [...found];
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Ends the tree rooted at `rootPid` (a group leader we spawned detached) plus any `extraPids`
 * (registered targets). SIGTERM first; whatever is left after `graceMs` gets SIGKILL.
 */
export async function killTree(rootPid: number | undefined, extraPids: readonly number[] = [], graceMs = 1500): Promise<void> {
  const roots = [...(rootPid ? [rootPid] : []), ...extraPids];
  const everyone = new Set<number>([...roots, ...descendantsOf(roots)]);
  everyone.delete(process.pid);
  if (rootPid) signal(rootPid, 'SIGTERM', true);
  for (const pid of everyone) signal(pid, 'SIGTERM', false);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if ([...everyone].every((pid) => !isAlive(pid) || isZombie(pid))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Late children forked during the grace period are found again before the final blow.
  for (const pid of descendantsOf([...everyone])) everyone.add(pid);
  if (rootPid) signal(rootPid, 'SIGKILL', true);
  for (const pid of everyone) signal(pid, 'SIGKILL', false);
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Resident memory of one process, bytes (Linux /proc, in kB there whatever the page size); 0 when it is gone. */
export function residentBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of a process and all its descendants together, bytes. */
export function treeResidentBytes(rootPid: number): number {
  let total = residentBytes(rootPid);
  for (const pid of descendantsOf([rootPid])) total += residentBytes(pid);
  return total;
}

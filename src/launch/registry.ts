/**
 * The private channel that profiled processes report to: a fresh 0700 directory and a random
 * token (docs/PROTOCOL.md §1). Each registration file is read once, checked and deleted; where the
 * process listens is its runtime's to check (Node: a loopback ws:// URL; Python: a socket in this directory).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Emitter } from '../core/events';
import type { RuntimeKind, TargetInfo } from '../core/model';
import type { Endpoint } from '../cdp/endpoint';
import { isRuntimeKind, runtimeOf } from '../runtimes/registry';

export interface Registration {
  pid: number;
  ppid?: number;
  runtime: RuntimeKind;
  argv: string[];
  cwd?: string;
  title?: string;
  endpoint: Endpoint;
  isHarness: boolean;
}

/** Checks a registration file's content; returns an error message for anything malformed. */
export function parseRegistration(text: string, token: string, dir: string): Registration | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'registration is not JSON';
  }
  if (typeof raw !== 'object' || raw === null) return 'registration is not an object';
  const record = raw as Record<string, unknown>;
  if (typeof record.token !== 'string' || !timingSafeEqual(record.token, token)) return 'registration has a wrong token';
  // Linux pids stay below 2^22; anything outside int32 is not a process we could signal.
  if (!Number.isInteger(record.pid) || (record.pid as number) <= 0 || (record.pid as number) > 0x7fffffff) return 'registration has no pid';
  if (!isRuntimeKind(record.runtime)) return 'registration has an unknown runtime';
  const endpoint = runtimeOf(record.runtime).endpoint(record, { token, dir });
  if (typeof endpoint === 'string') return endpoint;
  return {
    pid: record.pid as number,
    ppid: Number.isInteger(record.ppid) ? (record.ppid as number) : undefined,
    runtime: record.runtime,
    argv: Array.isArray(record.argv) ? record.argv.filter((a): a is string => typeof a === 'string').slice(0, 200) : [],
    cwd: typeof record.cwd === 'string' ? record.cwd : undefined,
    title: typeof record.title === 'string' ? record.title.slice(0, 200) : undefined,
    endpoint,
    isHarness: record.isHarness === true,
  };
}

/** The target a registered process becomes, launched or attached to. */
export function targetInfoOf(registration: Registration): TargetInfo {
  return {
    id: `${registration.runtime}:${registration.pid}`,
    pid: registration.pid,
    ppid: registration.ppid,
    runtime: registration.runtime,
    title: registration.title || registration.argv.slice(1).join(' ') || `pid ${registration.pid}`,
    argv: registration.argv,
  };
}

function timingSafeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

export class RegistrationChannel {
  readonly dir: string;
  readonly token = crypto.randomBytes(16).toString('hex');
  private readonly registrationEmitter = new Emitter<Registration>();
  private readonly problemEmitter = new Emitter<string>();
  readonly onRegistration = this.registrationEmitter.event;
  readonly onProblem = this.problemEmitter.event;
  private watcher: fs.FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private readonly seen = new Set<string>();
  private closed = false;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-'));
    fs.chmodSync(this.dir, 0o700);
  }

  start(): void {
    try {
      this.watcher = fs.watch(this.dir, () => this.scan());
      this.watcher.on('error', () => undefined);
    } catch {
      // Some file systems cannot be watched; the poll below still finds everything.
    }
    // inotify can coalesce events; a slow poll is the safety net.
    this.poll = setInterval(() => this.scan(), 250);
    this.poll.unref();
    this.scan();
  }

  /** Environment that makes launched processes (Node and Python) register here. */
  environment(): Record<string, string> {
    return { TASKMEM_IPC_DIR: this.dir, TASKMEM_TOKEN: this.token };
  }

  scan(): void {
    if (this.closed) return;
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.endsWith('.json') || this.seen.has(name)) continue;
      this.seen.add(name);
      const file = path.join(this.dir, name);
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
        fs.rmSync(file, { force: true });
      } catch {
        continue;
      }
      const parsed = parseRegistration(text, this.token, this.dir);
      if (typeof parsed === 'string') this.problemEmitter.fire(`ignored a registration (${name}): ${parsed}`);
      else this.registrationEmitter.fire(parsed);
    }
  }

  dispose(): void {
    this.closed = true;
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    fs.rmSync(this.dir, { recursive: true, force: true });
    this.registrationEmitter.dispose();
    this.problemEmitter.dispose();
  }
}

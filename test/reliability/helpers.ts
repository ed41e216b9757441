/** Shared helpers for the reliability tests: real processes, a seeded PRNG, leak and orphan checks. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const reliabilityFixture = (...parts: string[]): string => path.join(repoRoot, 'test', 'fixtures', 'reliability', ...parts);

/** Mulberry32: a small deterministic PRNG, so every fuzz run feeds the same inputs. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(max: number): number {
    return Math.floor(this.next() * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  string(maxLength: number): string {
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', '{', '}', '[', ']', ':', ',', '<', '>', '/', '\u0000', '\u2028', '\ud800', '\u00e9', '😀', '\n'];
    let s = '';
    const n = this.int(maxLength + 1);
    for (let i = 0; i < n; i++) s += this.pick(alphabet);
    return s;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor(predicate: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/**
 * Fails the current test when anything rejects or throws without a handler while it runs. Mocha
 * installs its own 'uncaughtException' handler; ours records as well, and `check()` throws.
 */
export class UnhandledTrap {
  readonly problems: string[] = [];
  private readonly onRejection = (reason: unknown): void => {
    this.problems.push(`unhandledRejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  };
  private readonly onException = (error: Error): void => {
    this.problems.push(`uncaughtException: ${error.stack ?? error.message}`);
  };
  install(): void {
    process.on('unhandledRejection', this.onRejection);
    process.prependListener('uncaughtException', this.onException);
  }
  uninstall(): void {
    process.off('unhandledRejection', this.onRejection);
    process.off('uncaughtException', this.onException);
  }
  check(): void {
    if (this.problems.length) throw new Error(`unhandled errors during the test:\n${this.problems.join('\n')}`);
  }
}

/** Installs a trap around every test of the calling `describe` and fails a test that left one. */
export function trapUnhandled(): UnhandledTrap {
  const trap = new UnhandledTrap();
  beforeEach(() => {
    trap.problems.length = 0;
    trap.install();
  });
  afterEach(async () => {
    // Late rejections of the test's own promises surface within a few ticks.
    await sleep(50);
    trap.uninstall();
    trap.check();
  });
  return trap;
}

/** PIDs (other than ours) whose command line mentions `needle`. */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes(needle)) continue;
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // a zombie holds nothing
      out.push(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  return out;
}

export interface ListenSocket {
  address: string;
  port: number;
  inode: number;
}

/** LISTEN sockets from /proc/net/tcp and tcp6 (state 0A). */
export function listenSockets(): ListenSocket[] {
  const out: ListenSocket[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue;
      const [hexAddress, hexPort] = fields[1].split(':');
      out.push({ address: decodeAddress(hexAddress), port: parseInt(hexPort, 16), inode: Number(fields[9]) });
    }
  }
  return out;
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    // Little-endian IPv4.
    return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
  }
  if (hex === '00000000000000000000000000000000') return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  if (hex.startsWith('0000000000000000FFFF0000')) return `::ffff:${decodeAddress(hex.slice(24))}`;
  return hex;
}

/** Socket inodes a process holds open. */
export function socketInodesOf(pid: number): Set<number> {
  const out = new Set<number>();
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m) out.add(Number(m[1]));
      } catch {
        // fd closed meanwhile
      }
    }
  } catch {
    // process gone
  }
  return out;
}

/** LISTEN sockets owned by a process. */
export function listenSocketsOf(pid: number): ListenSocket[] {
  const inodes = socketInodesOf(pid);
  return listenSockets().filter((s) => inodes.has(s.inode));
}

/** Resolves within `ms` or rejects saying what hung. */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

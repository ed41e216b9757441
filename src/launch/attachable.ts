/**
 * Python processes that a session can attach to later. Python has no inspector a signal could open
 * (Node's SIGUSR1), so a Python worker is made attachable when it starts: `taskmem env` prints the
 * environment that loads the agent and has it register in this user's attach directory, where
 * `taskmem attach --pid` and Attach to Process find it. The directory (0700) and its token file
 * (0600) fence it as a launch's private channel does (docs/PROTOCOL.md §1); the agent runs on at once
 * and removes its registration when it exits.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pythonAgentDir } from './assets';
import { isAlive } from './processes';
import { parseRegistration, type Registration } from './registry';

const TOKEN_FILE = 'token';

/** This user's attach directory: one per user, so every shell and editor of theirs finds the same processes (TASKMEM_ATTACH_DIR moves it). */
export function attachableDir(): string {
  return process.env.TASKMEM_ATTACH_DIR || path.join(os.tmpdir(), `taskmem-attach-${os.userInfo().uid}`);
}

interface Channel {
  dir: string;
  token: string;
}

/** The directory and its token; made on first use when `create`. Refuses a directory another user could enter. */
export function attachableChannel(dir: string, create: boolean): Channel | undefined {
  if (create) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch {
    return undefined;
  }
  if (!stat.isDirectory() || stat.uid !== os.userInfo().uid || (stat.mode & 0o077) !== 0)
    throw new Error(`${dir} is not a private (0700) directory of this user: remove it, then run taskmem env again`);
  const tokenFile = path.join(dir, TOKEN_FILE);
  if (create) {
    try {
      fs.writeFileSync(tokenFile, crypto.randomBytes(24).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  try {
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    return token ? { dir, token } : undefined;
  } catch {
    return undefined;
  }
}

/** The variables that make a Python process attachable (its own PYTHONPATH, if any, kept after the agent's). */
export function attachableEnvironment(dir = attachableDir()): Record<string, string> {
  const channel = attachableChannel(dir, true);
  if (!channel) throw new Error(`cannot create ${dir}`);
  return { PYTHONPATH: pythonAgentDir(), TASKMEM_IPC_DIR: channel.dir, TASKMEM_TOKEN: channel.token, TASKMEM_ATTACHABLE: '1' };
}

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** `taskmem env`: POSIX shell lines to eval, the agent's directory put before any PYTHONPATH the shell has. */
export function attachableShellLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([name, value]) =>
    name === 'PYTHONPATH' ? `export PYTHONPATH=${shellQuote(value)}"\${PYTHONPATH:+:$PYTHONPATH}"` : `export ${name}=${shellQuote(value)}`,
  );
}

/** The attachable processes still running, newest first; registrations of processes that are gone are removed. */
export function attachableProcesses(dir = attachableDir()): Registration[] {
  let channel: Channel | undefined;
  let names: string[];
  try {
    channel = attachableChannel(dir, false);
    names = channel ? fs.readdirSync(dir).filter((name) => /^\d+-[0-9a-f]+\.json$/.test(name)) : [];
  } catch {
    return [];
  }
  if (!channel) return [];
  const found: Registration[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const registration = parseRegistration(text, channel.token, dir);
    if (typeof registration === 'string') continue;
    const socket = registration.endpoint.kind === 'agent' ? registration.endpoint.socketPath : undefined;
    // Killed (SIGKILL, or a forked child's os._exit) before it could unregister.
    if (!isAlive(registration.pid) || (socket !== undefined && !fs.existsSync(socket))) {
      fs.rmSync(file, { force: true });
      if (socket) fs.rmSync(socket, { force: true });
      continue;
    }
    found.push(registration);
  }
  return found.sort((a, b) => b.pid - a.pid);
}

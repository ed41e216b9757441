/**
 * Starts a real VS Code on this machine: code-server (VS Code server + web workbench, installed by
 * scripts/install-code-server.sh into a cache outside the repo) and headless Chromium driven by
 * playwright-core. Used by the extension-host test runner (../runCodeServer.ts) and the UI tests
 * (../e2e/). Runs in plain Node (tsx), never in the extension host.
 *
 * Everything started here is stopped by PID: code-server runs in its own process group, which is
 * killed as a whole together with any descendant that left the group (terminal shells).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import chromiumArgs from '../../../scripts/chromium-args.json';

export const CODE_SERVER_VERSION = '4.100.3';
export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const ARTIFACTS_DIR = path.join(REPO_ROOT, '.test-artifacts');

export function codeServerCache(): string {
  return process.env.TASKMEM_CODE_SERVER_CACHE ?? path.join(os.homedir(), '.cache', 'taskmem', `code-server-${CODE_SERVER_VERSION}`);
}

/** entry.js of the cached install; throws with the fix when it is missing. */
export function codeServerEntry(): string {
  const entry = path.join(codeServerCache(), 'node_modules/code-server/out/node/entry.js');
  if (!fs.existsSync(entry)) {
    throw new Error(
      `code-server ${CODE_SERVER_VERSION} is not installed in ${codeServerCache()}: run scripts/install-code-server.sh ` +
        '(or set TASKMEM_CODE_SERVER_CACHE to where it is installed)',
    );
  }
  return entry;
}

export function chromiumPath(): string {
  const p = process.env.TASKMEM_CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(p)) throw new Error(`Chromium not found at ${p}: apt-get install chromium, or set TASKMEM_CHROMIUM`);
  return p;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** User settings for a quiet, deterministic workbench; callers add or override. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
  'workbench.colorTheme': 'Default Dark Modern',
  // DOM renderer: terminal text is in the DOM (testable) and screenshots do not depend on WebGL
  'terminal.integrated.gpuAcceleration': 'off',
};

export const THEMES = { dark: 'Default Dark Modern', light: 'Default Light Modern' } as const;

export interface StartOptions {
  /** Folder opened in the window (default: a fresh empty folder in the run's tmp dir). */
  workspace?: string;
  /** .vsix files installed into the run's extensions dir before start (`--install-extension`). */
  installExtensions?: string[];
  /** Merged over DEFAULT_SETTINGS into <user-data-dir>/User/settings.json. */
  settings?: Record<string, unknown>;
  /** Extra environment for code-server and the extension host it starts. */
  env?: NodeJS.ProcessEnv;
  /** Keep the tmp dir (user data, logs) after stop() for debugging. */
  keep?: boolean;
  /** Echo code-server's output to stderr. */
  verbose?: boolean;
  /**
   * Keep Workspace Trust on (no `--disable-workspace-trust`, trust enabled, no startup prompt): the
   * folder opens in Restricted Mode. Used by the Restricted Mode suite (test/reliability).
   */
  workspaceTrust?: boolean;
}

export interface CodeServer {
  readonly port: number;
  readonly pid: number;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  /** Remote authority the workbench uses for vscode-remote:// URIs. */
  readonly authority: string;
  readonly workspace: string;
  /** Fresh per run: user-data-dir, extensions-dir, logs. */
  readonly tmpDir: string;
  readonly userDataDir: string;
  readonly logFile: string;
  /** Rejects when code-server exits before stop(). */
  readonly exited: Promise<never>;
  /** `vscode-remote://` URI of a path on the server. */
  remoteUri(absPath: string): string;
  /** Workbench URL for the workspace, with development flags passed through `payload`. */
  workbenchUrl(payload?: Array<[string, string]>): string;
  /** Last lines of code-server's own log. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const running = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the runner dies without stop(): synchronous kills only.
  process.on('exit', () => {
    for (const pid of running) killTree(pid, 'SIGKILL');
  });
}

/** PIDs of all descendants of pid (Linux /proc; empty elsewhere). */
function descendants(pid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // process ended meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Signals the process group led by pid and every descendant (some leave the group: ptys). */
function killTree(pid: number, signal: NodeJS.Signals): void {
  const pids = descendants(pid);
  try {
    process.kill(-pid, signal);
  } catch {
    // group already gone
  }
  for (const p of [pid, ...pids]) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => {
      req.destroy();
      resolve(0);
    });
  });
}

export async function startCodeServer(opts: StartOptions = {}): Promise<CodeServer> {
  const entry = codeServerEntry();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-code-server-'));
  const userDataDir = path.join(tmpDir, 'user-data');
  const extensionsDir = path.join(tmpDir, 'extensions');
  const workspace = opts.workspace ?? path.join(tmpDir, 'workspace');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.mkdirSync(workspace, { recursive: true });
  fs.writeFileSync(
    path.join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        ...DEFAULT_SETTINGS,
        ...(opts.workspaceTrust
          ? { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.untrustedFiles': 'open' }
          : {}),
        ...opts.settings,
      },
      null,
      2,
    ),
  );
  const xdg = { XDG_CONFIG_HOME: path.join(tmpDir, 'xdg-config'), XDG_DATA_HOME: path.join(tmpDir, 'xdg-data') };
  for (const vsix of opts.installExtensions ?? []) {
    const installed = spawnSync(process.execPath, [entry, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir, '--install-extension', vsix], {
      cwd: tmpDir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...xdg, ...opts.env },
    });
    if (installed.status !== 0)
      throw new Error(`code-server --install-extension ${vsix} failed (exit ${installed.status}): ${installed.stderr || installed.stdout}`);
  }
  const logFile = path.join(tmpDir, 'code-server.log');
  const logFd = fs.openSync(logFile, 'a');
  const port = await freePort();
  const authority = `127.0.0.1:${port}`;

  const child: ChildProcess = spawn(
    process.execPath,
    [
      entry,
      '--auth',
      'none',
      '--bind-addr',
      authority,
      '--disable-telemetry',
      '--disable-update-check',
      ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--extensions-dir',
      extensionsDir,
      '--user-data-dir',
      userDataDir,
      workspace,
    ],
    {
      cwd: tmpDir,
      detached: true, // own process group, killed as a whole
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        // code-server writes config.yaml and state under XDG dirs: keep them out of $HOME
        XDG_CONFIG_HOME: path.join(tmpDir, 'xdg-config'),
        XDG_DATA_HOME: path.join(tmpDir, 'xdg-data'),
        ...opts.env,
      },
    },
  );
  if (child.pid === undefined) throw new Error(`could not spawn code-server (${entry})`);
  const pid = child.pid;
  installExitHook();
  running.add(pid);

  const tail: string[] = [];
  const onData = (chunk: Buffer): void => {
    fs.writeSync(logFd, chunk);
    for (const line of chunk.toString().split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > 200) tail.shift();
      if (opts.verbose) process.stderr.write(`[code-server] ${line}\n`);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);

  let stopping = false;
  let exitedFlag = false;
  const exited = new Promise<never>((_, reject) => {
    child.on('exit', (code, signal) => {
      exitedFlag = true;
      running.delete(pid);
      if (!stopping) {
        reject(new Error(`code-server exited unexpectedly (code ${code}, signal ${signal}):\n${tail.slice(-40).join('\n')}`));
      }
    });
  });
  exited.catch(() => undefined); // observed by callers that race it

  const logTail = (lines = 40): string => tail.slice(-lines).join('\n');
  const remoteUri = (absPath: string): string => `vscode-remote://${authority}${absPath.split(path.sep).map(encodeURIComponent).join('/')}`;

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (!exitedFlag) {
      killTree(pid, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (!exitedFlag && Date.now() < deadline) await sleep(100);
    }
    // the group and anything that escaped it (pty shells, extension-host children)
    killTree(pid, 'SIGKILL');
    running.delete(pid);
    const deadline = Date.now() + 2000;
    while (alive(pid) && Date.now() < deadline) await sleep(50);
    try {
      fs.closeSync(logFd);
    } catch {
      // already closed
    }
    if (!opts.keep) fs.rmSync(tmpDir, { recursive: true, force: true });
  };

  const server: CodeServer = {
    port,
    pid,
    origin: `http://${authority}`,
    authority,
    workspace,
    tmpDir,
    userDataDir,
    logFile,
    exited,
    remoteUri,
    workbenchUrl(payload) {
      const params = new URLSearchParams({ folder: workspace });
      if (payload?.length) params.set('payload', JSON.stringify(payload));
      return `http://${authority}/?${params.toString()}`;
    },
    logTail,
    stop,
  };

  // Ready when /healthz answers; fail fast when the process dies.
  const deadline = Date.now() + Number(process.env.TASKMEM_CODE_SERVER_START_TIMEOUT_MS ?? 60_000);
  try {
    for (;;) {
      if (exitedFlag) await exited;
      if ((await httpStatus(`${server.origin}/healthz`)) === 200) break;
      if (Date.now() > deadline) {
        throw new Error(`code-server did not answer on ${server.origin} within the start timeout:\n${logTail()}`);
      }
      await sleep(200);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return server;
}

/** Flags from REAL-VSCODE-TESTS.md: headless, no sandbox (root), no background traffic (shared with the bench). */
export const CHROMIUM_ARGS: string[] = chromiumArgs;

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launchBrowser(viewport = { width: 1600, height: 1000 }, colorScheme: 'light' | 'dark' = 'dark'): Promise<BrowserSession> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport, colorScheme });
    const page = await context.newPage();
    return {
      browser,
      context,
      page,
      async close() {
        await browser.close().catch(() => undefined);
      },
    };
  } catch (err) {
    await browser.close().catch(() => undefined);
    throw err;
  }
}

export function artifactPath(name: string): string {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, name);
}

/** Runs fn with a hard timeout; the error names what timed out. */
export async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`TIMEOUT: ${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

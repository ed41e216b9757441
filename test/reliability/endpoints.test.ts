/**
 * Endpoints: every listener binds 127.0.0.1 only with an unguessable path; the Python agent refuses
 * a foreign Host or Origin (DNS rebinding) and a wrong path; the registration directory is private
 * and a registration with a wrong token or a non-loopback URL is ignored with a warning, without
 * any connection attempt.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { profilingEnvironment } from '../../src/launch/environment';
import { killTree } from '../../src/launch/processes';
import { RegistrationChannel, type Registration } from '../../src/launch/registry';
import { ProfilingSession } from '../../src/session/session';
import { Client, Ipc, Procs, agentDir, fixtureDir, probePythons, upgradeStatus } from '../fixtures/python/session-kit';
import { listenSocketsOf, repoRoot, sleep, trapUnhandled, waitFor, within } from './helpers';

/** Random bits in a URL path: hex digits carry 4 each; a v4 UUID carries 122. */
function pathEntropyBits(pathname: string): number {
  const id = pathname.replace(/^\//, '');
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)) return 122;
  if (/^[0-9a-f]+$/i.test(id)) return id.length * 4;
  return 0;
}

function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

describe('reliability: endpoints', function () {
  this.timeout(60_000);
  trapUnhandled();

  it('a Node target registers a ws://127.0.0.1 inspector with a random path and listens on 127.0.0.1 only; the directory is 0700', async () => {
    const channel = new RegistrationChannel();
    const registrations: Registration[] = [];
    channel.onRegistration((r) => registrations.push(r));
    channel.start();
    const env = profilingEnvironment(process.env, channel.environment(), { preciseAttribution: false, taskGcBudget: 0 });
    const child = spawn(process.execPath, [path.join(repoRoot, 'test', 'fixtures', 'node', 'forever.js')], {
      env: { ...env, TASKMEM_WAIT_MS: '20000' },
      stdio: 'ignore',
      detached: true,
    });
    try {
      assert.equal(fs.statSync(channel.dir).mode & 0o777, 0o700);
      await waitFor(() => registrations.length === 1, 20_000, 'the registration');
      const url = new URL(registrations[0].url);
      assert.equal(url.protocol, 'ws:');
      assert.equal(url.hostname, '127.0.0.1');
      // Node's inspector path is a v4 UUID (122 random bits, set by Node, not by us).
      assert.ok(pathEntropyBits(url.pathname) >= 122, url.pathname);
      const sockets = listenSocketsOf(child.pid!);
      assert.ok(sockets.length >= 1, 'the inspector listens');
      for (const s of sockets) assert.equal(s.address, '127.0.0.1', `pid ${child.pid} listens on ${s.address}:${s.port}`);
      assert.ok(sockets.some((s) => s.port === Number(url.port)));
    } finally {
      await killTree(child.pid, [], 500);
      channel.dispose();
    }
  });

  const pythons = probePythons();
  it('the Python agent listens on 127.0.0.1 only, with a 128-bit path; foreign Host, any Origin and a wrong path are refused', async () => {
    const ipc = new Ipc();
    const procs = new Procs();
    try {
      const proc = procs.spawn(pythons[0].exe, [path.join(fixtureDir, 'idle.py'), '30'], ipc.env({}, agentDir));
      const [reg] = await ipc.next(1);
      const url = new URL(reg.url);
      const port = Number(url.port);
      assert.equal(url.hostname, '127.0.0.1');
      assert.ok(pathEntropyBits(url.pathname) >= 128, url.pathname);
      const sockets = listenSocketsOf(proc.child.pid!);
      assert.deepEqual(
        sockets.map((s) => `${s.address}:${s.port}`),
        [`127.0.0.1:${port}`],
      );
      const good = { Host: `127.0.0.1:${port}` };
      for (const host of [
        'evil.example',
        `evil.example:${port}`,
        `attacker.127.0.0.1.nip.io:${port}`,
        `127.0.0.1:${port + 1}`,
        `localhost.:${port}`,
        `[::1]:${port}`,
      ]) {
        assert.equal(await upgradeStatus(port, url.pathname, { Host: host }), 403, `Host ${host}`);
      }
      for (const origin of ['http://evil.example', `http://127.0.0.1:${port}`, 'null', 'vscode-webview://abc']) {
        assert.equal(await upgradeStatus(port, url.pathname, { ...good, Origin: origin }), 403, `Origin ${origin}`);
      }
      for (const wrong of ['/', '/json', '/json/list', '/json/version', `${url.pathname}/`, url.pathname.toUpperCase(), url.pathname.slice(0, -1) + '0']) {
        if (wrong === url.pathname) continue;
        assert.equal(await upgradeStatus(port, wrong, good), 404, `path ${wrong}`);
      }
      const client = await Client.connect(reg.url);
      await client.call('Runtime.enable');
      await client.close();
    } finally {
      await procs.killAll();
      ipc.dispose();
    }
  });

  it('registrations with a wrong token or a non-loopback URL are ignored with a warning and no connection is attempted', async () => {
    const listener = net.createServer();
    let attempts = 0;
    listener.on('connection', (socket) => {
      attempts++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', () => resolve()));
    const port = (listener.address() as net.AddressInfo).port;
    const warnings: string[] = [];
    const session = new ProfilingSession({
      mode: 'worker',
      cwd: repoRoot,
      command: [process.execPath, path.join(repoRoot, 'test', 'fixtures', 'node', 'forever.js')],
      onOutput: () => undefined,
    });
    session.onWarning((w) => warnings.push(w));
    try {
      await session.start();
      await waitFor(() => session.targets.length === 1, 20_000, 'the real target');
      // What a process under the session knows: the directory and the token, from its environment.
      const environ = fs.readFileSync(`/proc/${session.targets[0].pid}/environ`, 'utf8').split('\0');
      const value = (name: string) => environ.find((e) => e.startsWith(`${name}=`))!.slice(name.length + 1);
      const dir = value('TASKMEM_IPC_DIR');
      const token = value('TASKMEM_TOKEN');
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
      const external = nonLoopbackAddress() ?? '127.0.0.2';
      const drop = (name: string, record: object) => {
        fs.writeFileSync(path.join(dir, `${name}.json.tmp`), JSON.stringify(record));
        fs.renameSync(path.join(dir, `${name}.json.tmp`), path.join(dir, `${name}.json`));
      };
      const base = { pid: process.pid, ppid: 1, runtime: 'node', argv: ['x'], cwd: '/', title: 'intruder', isHarness: false };
      drop('1-wrongtoken', { ...base, token: crypto.randomBytes(16).toString('hex'), url: `ws://127.0.0.1:${port}/x` });
      drop('2-notoken', { ...base, url: `ws://127.0.0.1:${port}/x` });
      drop('3-external', { ...base, token, url: `ws://${external}:${port}/x` });
      drop('4-wss', { ...base, token, url: `wss://evil.example:${port}/x` });
      drop('5-http', { ...base, token, url: `http://127.0.0.1:${port}/json` });
      await waitFor(() => warnings.filter((w) => /ignored a registration/.test(w)).length >= 5, 5000, 'five warnings');
      await sleep(500);
      assert.equal(attempts, 0, 'no connection was attempted');
      assert.equal(session.targets.length, 1, 'no target was added');
      assert.ok(
        warnings.some((w) => /1-wrongtoken.*wrong token/.test(w)),
        warnings.join(' | '),
      );
      assert.ok(
        warnings.some((w) => /3-external.*not a loopback/.test(w)),
        warnings.join(' | '),
      );
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.endsWith('.json')),
        [],
        'ignored files are removed',
      );
    } finally {
      await within(15_000, 'stop', session.stop());
      listener.close();
    }
  });
});

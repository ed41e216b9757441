/**
 * Endpoints: Node's inspector binds 127.0.0.1 only with an unguessable path; the Python agent
 * listens on a Unix socket in the session's private directory and serves only a client that
 * presents the session's token; the registration directory is private and a registration with a
 * wrong token, a non-loopback URL or a socket outside the directory is ignored with a warning,
 * without any connection attempt.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { encodeFrame } from '../../src/cdp/agentTransport';
import { profilingEnvironment } from '../../src/launch/environment';
import { killTree } from '../../src/launch/processes';
import { RegistrationChannel, type Registration } from '../../src/launch/registry';
import { ProfilingSession } from '../../src/session/session';
import { Client, Ipc, Procs, agentDir, fixtureDir, probePythons } from '../fixtures/python/session-kit';
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
      const endpoint = registrations[0].endpoint;
      assert.equal(endpoint.kind, 'inspector');
      const url = new URL(endpoint.kind === 'inspector' ? endpoint.url : '');
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
  it('the Python agent listens on no TCP port, only on a socket in the 0700 directory; other users, a wrong token and bad frames are refused', async () => {
    const ipc = new Ipc();
    const procs = new Procs();
    try {
      const proc = procs.spawn(pythons[0].exe, [path.join(fixtureDir, 'idle.py'), '30'], ipc.env({}, agentDir));
      const [reg] = await ipc.next(1);
      assert.deepEqual(listenSocketsOf(proc.child.pid!), [], 'no TCP listener');
      assert.equal(path.dirname(reg.socket), ipc.dir);
      const dirStat = fs.statSync(ipc.dir);
      assert.equal(dirStat.mode & 0o777, 0o700);
      const sockStat = fs.statSync(reg.socket);
      assert.ok(sockStat.isSocket());
      assert.equal(sockStat.mode & 0o077, 0, `socket mode ${(sockStat.mode & 0o777).toString(8)}`);
      assert.equal(sockStat.uid, process.getuid!());
      if (process.getuid!() === 0) {
        // Root can run a client as another user: the directory stops it before the socket does.
        const other = spawnSync(pythons[0].exe, ['-c', `import socket; s = socket.socket(socket.AF_UNIX); s.connect(${JSON.stringify(reg.socket)})`], {
          uid: 65534,
          gid: 65534,
          encoding: 'utf8',
        });
        assert.notEqual(other.status, 0);
        assert.match(other.stderr, /PermissionError/);
      }
      /** Raw bytes to the socket -> what came back before the agent closed it (null: still open after 5 s). */
      const exchange = (payload: Buffer): Promise<Buffer | null> =>
        new Promise((resolve) => {
          const socket = net.createConnection({ path: reg.socket });
          const chunks: Buffer[] = [];
          const timer = setTimeout(() => {
            socket.destroy();
            resolve(null);
          }, 5000);
          socket.on('data', (c: Buffer) => chunks.push(c));
          socket.on('error', () => undefined);
          socket.on('close', () => {
            clearTimeout(timer);
            resolve(Buffer.concat(chunks));
          });
          socket.write(payload);
        });
      const hello = (token: string) => encodeFrame(JSON.stringify({ token }));
      const otherToken = crypto.randomBytes(16).toString('hex');
      for (const [what, payload] of [
        ["another session's token", hello(otherToken)],
        ['no token', encodeFrame('{"id":1,"method":"Runtime.enable"}')],
        ['a WebSocket upgrade', Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n')],
        ['an oversize hello', Buffer.from([0x7f, 0xff, 0xff, 0xff])],
      ] as const) {
        const reply = await exchange(payload);
        assert.ok(reply !== null, `${what}: the agent closes the connection`);
        assert.equal(reply.length, 0, `${what}: nothing is answered`);
      }
      // After the right token, an oversize or non-UTF-8 frame closes the connection.
      for (const [what, frame] of [
        ['an oversize frame', Buffer.from([0xff, 0xff, 0xff, 0xff])],
        ['a non-UTF-8 frame', Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from([0xff, 0xfe, 0xc3])])],
      ] as const) {
        const reply = await exchange(Buffer.concat([hello(reg.token), frame]));
        assert.ok(reply !== null, `${what}: the agent closes the connection`);
        assert.match(reply.toString('utf8'), /"hello":"taskmem"/, `${what}: the hello came first`);
      }
      assert.equal(proc.exitCode, null, 'the agent process is alive');
      const client = await Client.connect(reg);
      await client.call('Runtime.enable');
      await client.close();
      assert.ok(!/Traceback|Exception in thread/.test(proc.stderr), proc.stderr);
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
      // A Python registration may only name a socket inside the session's directory.
      const python = { ...base, runtime: 'python', token };
      const outside = path.join(os.tmpdir(), `${process.pid}-0123abcd.sock`);
      drop('6-python-outside', { ...python, socket: outside });
      drop('7-python-url', { ...python, url: `ws://127.0.0.1:${port}/x` });
      drop('8-python-subdir', { ...python, socket: path.join(dir, 'sub', `${process.pid}-0123abcd.sock`) });
      await waitFor(() => warnings.filter((w) => /ignored a registration/.test(w)).length >= 8, 5000, 'eight warnings');
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
      for (const name of ['6-python-outside', '7-python-url', '8-python-subdir'])
        assert.ok(
          warnings.some((w) => new RegExp(`${name}.*(socket is not in the session directory|has no socket)`).test(w)),
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

/**
 * Bad input: 10,000 seeded malformed or adversarial inputs to every parser that reads what a target
 * sends. Each must end in a value or an Error with a clear message (for the session: a warning),
 * within a bounded time, and never in an uncaught exception or a hang.
 */
import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { rawText } from '../../src/cdp/transport';
import { CdpConnection, ConnectionClosedError, ProtocolError } from '../../src/cdp/connection';
import type { Transport } from '../../src/cdp/transport';
import { Emitter } from '../../src/core/events';
import type { RawSamplingProfile } from '../../src/core/model';
import { aggregateSites } from '../../src/core/sites';
import { SourceMapStore, decodeDataUrl } from '../../src/core/sourcemaps';
import { parseRegistration } from '../../src/launch/registry';
import { SourceMapLoader } from '../../src/session/sourceMapLoader';
import { Target } from '../../src/session/target';
import { Client, Ipc, Procs, agentDir, fixtureDir, probePythons, attach } from '../fixtures/python/session-kit';
import { Rng, sleep, trapUnhandled, within } from './helpers';

const N = 10_000;

/** The one place a fake is right: a transport whose frames the test writes. */
class FakeTransport implements Transport {
  private readonly messages = new Emitter<string>();
  private readonly closes = new Emitter<string>();
  readonly onMessage = this.messages.event;
  readonly onClose = this.closes.event;
  readonly sent: string[] = [];
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {
    this.closes.fire('closed by test');
  }
  deliver(text: string): void {
    this.messages.fire(text);
  }
}

function randomJsonValue(rng: Rng, depth = 0): unknown {
  const kind = rng.int(depth > 3 ? 6 : 9);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER]);
    case 2:
      return rng.string(20);
    case 3:
      return rng.next() < 0.5;
    case 4:
      return rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'Runtime.bindingCalled']);
    case 5:
      return {};
    case 6:
      return Array.from({ length: rng.int(4) }, () => randomJsonValue(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rng.int(4); i > 0; i--)
        o[
          rng.pick([
            'id',
            'method',
            'params',
            'result',
            'error',
            'code',
            'message',
            'sessionId',
            'context',
            'auxData',
            'name',
            'payload',
            'workerInfo',
            rng.string(6),
          ])
        ] = randomJsonValue(rng, depth + 1);
      return o;
    }
  }
}

const EVENT_METHODS = [
  'Runtime.bindingCalled',
  'Runtime.executionContextCreated',
  'Runtime.executionContextDestroyed',
  'Debugger.scriptParsed',
  'NodeWorker.attachedToWorker',
  'NodeWorker.detachedFromWorker',
  'NodeWorker.receivedMessageFromWorker',
  'Taskmem.taskStarted',
  'Taskmem.taskFinished',
  'Taskmem.gc',
  '__proto__',
  'constructor',
];

/** A frame a hostile or broken target could send: raw junk, wrong shapes, replies to real or unknown ids. */
function randomFrame(rng: Rng, pendingIds: number[], eventsOnly = false): string {
  switch (eventsOnly ? rng.pick([0, 1, 2, 5, 6]) : rng.int(8)) {
    case 0:
      return rng.bytes(rng.int(64)).toString('latin1');
    case 1:
      return rng.string(40);
    case 2:
      return JSON.stringify(randomJsonValue(rng));
    case 3:
      return JSON.stringify({ id: pendingIds.length ? rng.pick(pendingIds) : rng.int(100), error: randomJsonValue(rng) });
    case 4:
      return JSON.stringify({ id: pendingIds.length ? rng.pick(pendingIds) : rng.int(100), result: randomJsonValue(rng) });
    case 5: {
      const payload =
        rng.next() < 0.5
          ? rng.pick(['null', '1', '"x"', '[]', '{"method":"Taskmem.taskFinished","params":null}', '{"method":"Taskmem.gc","params":{"generation":{}}}'])
          : JSON.stringify(randomJsonValue(rng));
      return JSON.stringify({ method: 'Runtime.bindingCalled', params: { name: '__taskmemEmit', payload: rng.next() < 0.8 ? payload : randomJsonValue(rng) } });
    }
    case 6:
      return JSON.stringify({ method: rng.pick(EVENT_METHODS), params: randomJsonValue(rng) });
    default:
      return `{"id":${rng.pick(['1e999', '-0', '"1"', 'null', '1.5', '[1]'])},"result":{}}`;
  }
}

/** A local WebSocket "target" the real Target class connects to; the test writes its frames. */
async function fakeTargetServer(): Promise<{ url: string; nextClient: () => Promise<WebSocket>; close: () => Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const address = server.address() as net.AddressInfo;
  const clients: WebSocket[] = [];
  const waiters: Array<(ws: WebSocket) => void> = [];
  server.on('connection', (ws) => {
    ws.on('error', () => undefined);
    // Answer every command with an empty result so initialize() completes.
    ws.on('message', (data) => {
      const message = JSON.parse(rawText(data)) as { id: number; method: string };
      if (message.method === 'Runtime.evaluate') ws.send(JSON.stringify({ id: message.id, result: { result: { value: [1, 2, 3, 4, 5] } } }));
      else ws.send(JSON.stringify({ id: message.id, result: {} }));
    });
    const waiter = waiters.shift();
    if (waiter) waiter(ws);
    else clients.push(ws);
  });
  return {
    url: `ws://127.0.0.1:${address.port}/${crypto.randomBytes(16).toString('hex')}`,
    nextClient: () => new Promise((resolve) => (clients.length ? resolve(clients.shift()!) : waiters.push(resolve))),
    close: () =>
      new Promise((resolve) => {
        for (const ws of server.clients) ws.terminate();
        server.close(() => resolve());
      }),
  };
}

function syntheticNode(id: number, name: string, url: string, children: unknown[] = [], selfSize: unknown = 0): Record<string, unknown> {
  return { id, selfSize, children, callFrame: { functionName: name, scriptId: '1', url, lineNumber: 3, columnNumber: 1 } };
}

function checkAggregation(result: ReturnType<typeof aggregateSites>): void {
  assert.ok(Number.isFinite(result.totalBytes) && result.totalBytes >= 0, `totalBytes ${result.totalBytes}`);
  for (const site of result.sites) {
    assert.ok(Number.isFinite(site.retainedBytes) && site.retainedBytes >= 0, `site bytes ${site.retainedBytes}`);
    assert.ok(site.share >= 0 && site.share <= 1.000001, `share ${site.share}`);
  }
}

function randomProfile(rng: Rng): unknown {
  const nodes: Array<Record<string, unknown>> = [];
  const count = 1 + rng.int(30);
  for (let i = 0; i < count; i++) {
    const size = rng.pick<unknown>([1, 100, 1e308, -5, NaN, Infinity, '12', null, 2 ** 60, 0]);
    const frame = rng.pick<unknown>([
      {
        functionName: rng.string(10),
        scriptId: String(rng.int(4)),
        url: rng.pick(['/app/a.js', 'file:///app/b.js', '', 'node:internal/x', 'ws://x', '../../../../etc/passwd', rng.string(10)]),
        lineNumber: rng.pick<unknown>([0, -1, NaN, 1e9, '3']),
        columnNumber: rng.int(40),
      },
      null,
      'frame',
      {},
      { functionName: 7, url: {} },
    ]);
    nodes.push({ id: rng.pick<unknown>([i, i, i, 0, -1, 'x', NaN]), callFrame: frame, selfSize: size, children: [] });
  }
  for (let i = 1; i < count; i++) {
    const parent = nodes[rng.int(i)];
    const children = parent.children as unknown[];
    children.push(rng.next() < 0.05 ? rng.pick<unknown>([null, 3, 'child', parent]) : nodes[i]);
    if (rng.next() < 0.03) children.push(nodes[0]); // a cycle back to the head
  }
  if (rng.next() < 0.05) nodes[0].children = 'not an array';
  const samples = Array.from({ length: rng.int(40) }, () =>
    rng.next() < 0.1
      ? rng.pick<unknown>([null, 1, 'x', []])
      : {
          nodeId: rng.pick<unknown>([rng.int(count + 3), -1, 'x', undefined]),
          size: rng.pick<unknown>([8, 1e308, 1e308, -1, NaN, Infinity, '8', 2 ** 62]),
          ordinal: rng.pick<unknown>([rng.int(100), NaN, -1, 'x']),
        },
  );
  const shapes: unknown[] = [
    { head: nodes[0], samples },
    { head: nodes[0] },
    { head: null, samples },
    { samples: 'x' },
    null,
    { head: nodes[0], samples: { length: 1e9 } },
  ];
  return rng.next() < 0.8 ? shapes[0] : rng.pick(shapes);
}

function validMapText(sources: string[]): string {
  return JSON.stringify({ version: 3, file: 'out.js', sources, names: ['f'], mappings: 'AAAAA,CAAC;AACA' });
}

describe('reliability: fuzzing every parser of target input', function () {
  this.timeout(120_000);
  trapUnhandled();

  it('CdpConnection: 10,000 malformed frames settle every call with an Error and never throw', async () => {
    const rng = new Rng(0xc0ffee);
    const transport = new FakeTransport();
    const connection = new CdpConnection(transport);
    const problems: string[] = [];
    connection.onProtocolError((p) => problems.push(p));
    // Listeners that assume the standard shapes, like the Target's, must not break the connection.
    for (const method of EVENT_METHODS) connection.onRaw(method, (params) => void (params as { context: { auxData: unknown } }).context.auxData);
    const settled: Array<Promise<unknown>> = [];
    const pendingIds: number[] = [];
    for (let i = 0; i < N; i++) {
      if (i % 4 === 0) {
        const call = connection.sendRaw('Runtime.evaluate', { expression: '1' });
        pendingIds.push(i / 4 + 1);
        settled.push(
          call.then(
            (value) => assert.ok(value !== undefined),
            (error: unknown) => {
              assert.ok(error instanceof Error, `rejected with ${String(error)}`);
              assert.ok(error.message.length > 0 && error.message.includes('Runtime.evaluate'), error.message);
            },
          ),
        );
      }
      const frame = randomFrame(rng, pendingIds);
      assert.doesNotThrow(() => transport.deliver(frame), `frame ${i}: ${frame.slice(0, 200)}`);
    }
    // A huge frame and a truncated one.
    transport.deliver(`{"method":"Debugger.scriptParsed","params":{"url":"${'x'.repeat(10 * 1024 * 1024)}"}}`);
    transport.deliver('{"id":1,"result":');
    transport.close();
    await within(5000, 'settling every call', Promise.all(settled));
    assert.ok(problems.length > 0, 'unreadable frames are reported');
    assert.ok(
      problems.every((p) => typeof p === 'string' && p.length < 2000),
      'problem messages are short strings',
    );
    assert.ok(problems.some((p) => /unreadable frame/.test(p)));
    await assert.rejects(connection.sendRaw('Runtime.enable'), ConnectionClosedError);
  });

  it('CdpConnection: error replies of every shape reject with a ProtocolError naming the method', async () => {
    const shapes: unknown[] = [null, 'boom', 42, [], {}, { code: 'x' }, { message: { nested: true } }, { code: -32601, message: "'X' wasn't found" }];
    for (const shape of shapes) {
      const transport = new FakeTransport();
      const connection = new CdpConnection(transport);
      const call = connection.sendRaw('HeapProfiler.collectGarbage');
      transport.deliver(JSON.stringify({ id: 1, error: shape }));
      await within(
        1000,
        `error reply ${JSON.stringify(shape)}`,
        assert.rejects(call, (error: unknown) => {
          assert.ok(error instanceof ProtocolError, String(error));
          assert.match(error.message, /^HeapProfiler\.collectGarbage failed: ./);
          return true;
        }),
      );
    }
  });

  it('Target: 10,000 hostile events from a fake inspector are absorbed; the connection keeps answering', async () => {
    const rng = new Rng(0xbadf00d);
    const server = await fakeTargetServer();
    try {
      const info = { id: 'node:1', pid: 1, runtime: 'node' as const, title: 'fuzz', argv: [] };
      const targetPromise = Target.connect(info, { kind: 'inspector', url: server.url }, { samplingIntervalBytes: 8192 });
      const peer = await server.nextClient();
      const target = await targetPromise;
      const problems: string[] = [];
      target.onProtocolError((p) => problems.push(p));
      await target.initialize();
      for (let i = 0; i < N; i++) peer.send(randomFrame(rng, [], true));
      const stats = await within(10_000, 'stats after the fuzz', target.stats());
      assert.equal(stats.heapUsed, 1);
      assert.ok(target.alive);
      assert.ok(problems.length > 0, 'listener failures are reported as protocol problems');
      target.dispose();
    } finally {
      await server.close();
    }
  });

  it('aggregateSites: 10,000 broken profiles (cycles, missing nodes, absurd sizes) give finite results', () => {
    const rng = new Rng(42);
    for (let i = 0; i < N; i++) {
      const profile = randomProfile(rng) as RawSamplingProfile;
      let result: ReturnType<typeof aggregateSites> | undefined;
      assert.doesNotThrow(
        () => (result = aggregateSites(profile, { precision: rng.next() < 0.5 ? 'function' : 'line', minOrdinalExclusive: rng.next() < 0.3 ? 5 : undefined })),
        `profile ${i}`,
      );
      checkAggregation(result!);
    }
  });

  it('aggregateSites: 100k-deep nesting, a 10 MB function name and 1e308 sizes', () => {
    let head = syntheticNode(0, '(root)', '');
    let node = head;
    for (let id = 1; id < 100_000; id++) {
      const child = syntheticNode(id, `f${id % 7}`, '/app/deep.js', [], id === 99_999 ? 100 : 0);
      (node.children as unknown[]).push(child);
      node = child;
    }
    const deep = aggregateSites({ head, samples: [{ nodeId: 99_999, size: 64, ordinal: 1 }] } as unknown as RawSamplingProfile, { precision: 'function' });
    checkAggregation(deep);
    assert.equal(deep.totalBytes, 64);
    assert.ok(deep.sites[0].stacks[0].frames.length <= 64, 'stacks are capped');

    const hugeName = 'x'.repeat(10 * 1024 * 1024);
    head = syntheticNode(0, '(root)', '', [
      syntheticNode(1, hugeName, '/app/a.js', [], 10),
      syntheticNode(2, 'big', '/app/b.js', [], 1e308),
      syntheticNode(3, 'big2', '/app/c.js', [], 1e308),
    ]);
    const absurd = aggregateSites({ head, samples: [] } as unknown as RawSamplingProfile, { precision: 'function' });
    checkAggregation(absurd);
    const withSamples = aggregateSites(
      {
        head,
        samples: [
          { nodeId: 2, size: 1e308, ordinal: 1 },
          { nodeId: 3, size: 1e308, ordinal: 2 },
          { nodeId: 1, size: 5, ordinal: 3 },
        ],
      } as unknown as RawSamplingProfile,
      { precision: 'function' },
    );
    checkAggregation(withSamples);
  });

  it('parseRegistration: 10,000 malformed registrations return a message, never throw, accept a non-loopback URL or a socket outside the session directory', () => {
    const rng = new Rng(7);
    const token = crypto.randomBytes(16).toString('hex');
    const dir = path.join(os.tmpdir(), 'taskmem-fuzz');
    const sockets = [
      path.join(dir, '123-0123abcd.sock'),
      path.join(dir, 'x.sock'),
      path.join(dir, 'sub', '123-0123abcd.sock'),
      path.join(dir, '..', '123-0123abcd.sock'),
      `${dir}/../${path.basename(dir)}/123-0123abcd.sock`,
      '/tmp/123-0123abcd.sock',
      '123-0123abcd.sock',
      `${dir}-evil/123-0123abcd.sock`,
      '',
    ];
    const urls = [
      'ws://127.0.0.1:9229/x',
      'ws://evil.example:9229/x',
      'ws://127.0.0.1.evil.example/x',
      'ws://localhost@evil.example/x',
      'wss://127.0.0.1/x',
      'http://127.0.0.1/x',
      'ws://0.0.0.0:1/x',
      'ws://[::ffff:7f00:1]/x',
      'ws://2130706433/x',
      'ws://user:pw@127.0.0.1:1/x',
      'javascript:alert(1)',
      '',
      'ws://',
      'ws://127.0.0.1:99999/x',
    ];
    for (let i = 0; i < N; i++) {
      const record: Record<string, unknown> = {
        token: rng.pick<unknown>([token, token.toUpperCase(), token.slice(1), '', null, 5, token + 'x']),
        pid: rng.pick<unknown>([1234, 0, -1, 1.5, '12', 1e300, 2 ** 31, null]),
        runtime: rng.pick<unknown>(['node', 'python', 'ruby', null]),
        url: rng.pick<unknown>([...urls, 5, null]),
        socket: rng.pick<unknown>([...sockets, 5, null]),
        argv: rng.pick<unknown>([['a'], 'a', null, Array(1000).fill('x'), [1, {}, 'b']]),
        title: rng.pick<unknown>(['t', 'x'.repeat(100_000), 5, null]),
        isHarness: rng.pick<unknown>([true, 'true', 1, null]),
      };
      const text = rng.next() < 0.1 ? rng.string(50) : rng.next() < 0.05 ? JSON.stringify([record]) : JSON.stringify(record);
      let parsed: ReturnType<typeof parseRegistration> | undefined;
      assert.doesNotThrow(() => (parsed = parseRegistration(text, token, dir)), text.slice(0, 200));
      if (typeof parsed === 'string') {
        assert.match(parsed, /^registration /);
        continue;
      }
      const accepted = parsed!;
      assert.equal(record.token, token, 'only the right token is accepted');
      if (accepted.endpoint.kind === 'inspector') {
        assert.equal(accepted.runtime, 'node');
        const host = new URL(accepted.endpoint.url).hostname;
        assert.ok(['127.0.0.1', 'localhost', '[::1]'].includes(host), `accepted ${accepted.endpoint.url}`);
      } else {
        assert.equal(accepted.runtime, 'python');
        assert.equal(accepted.endpoint.socketPath, sockets[0], `accepted ${accepted.endpoint.socketPath}`);
        assert.equal(accepted.endpoint.token, token);
      }
      assert.ok(Number.isSafeInteger(accepted.pid) && accepted.pid > 0 && accepted.pid < 2 ** 31, `pid ${accepted.pid}`);
      assert.ok(accepted.argv.length <= 200 && (accepted.title ?? '').length <= 200);
    }
  });

  it('source maps: 10,000 invalid maps and data URLs return a message; sources outside the workspace are labels, never read', () => {
    const rng = new Rng(99);
    const store = new SourceMapStore();
    const reads: string[] = [];
    // Count what the store reads: it must read nothing (maps arrive as text; `sources` are labels).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object itself, to count its reads
    const mutableFs = require('node:fs') as { readFileSync: typeof fs.readFileSync };
    const realRead = mutableFs.readFileSync;
    mutableFs.readFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
      reads.push(String(file));
      return (realRead as (...args: unknown[]) => unknown)(file, ...rest);
    }) as typeof fs.readFileSync;
    try {
      for (let i = 0; i < N; i++) {
        const kind = rng.int(6);
        const text =
          kind === 0
            ? rng.string(60)
            : kind === 1
              ? JSON.stringify(randomJsonValue(rng))
              : kind === 2
                ? JSON.stringify({
                    version: 3,
                    sources: [rng.pick(['../../../../etc/passwd', '/etc/shadow', 'file:///etc/passwd', 'webpack:///./a.ts', rng.string(8)])],
                    names: rng.pick<unknown>([[], null, 'x']),
                    mappings: rng.pick([rng.string(30), 'AAAA;;;AACA,CAAC', '////', 'gggggggggggg']),
                  })
                : kind === 3
                  ? JSON.stringify({
                      version: 3,
                      sections: rng.pick<unknown>([
                        [{ offset: { line: 0, column: 0 }, map: { version: 3, sources: [], mappings: '' } }],
                        [{}],
                        [null],
                        [{ offset: {}, map: 5 }],
                      ]),
                    })
                  : kind === 4
                    ? validMapText(['../../../../etc/passwd'])
                    : JSON.stringify({ version: rng.pick<unknown>([2, 4, '3', null]), sources: [], mappings: '' });
        const id = `s${i % 50}`;
        let problem: string | undefined;
        assert.doesNotThrow(
          () =>
            (problem = store.add(
              id,
              rng.pick(['/app/out.js', 'file:///app/out.js', '', 'C:\\x\\out.js']),
              text,
              rng.pick(['/app/out.js.map', 'file:///app/out.js.map', '\\\\share\\x.map', 'not a url']),
            )),
          text.slice(0, 200),
        );
        if (problem !== undefined) assert.ok(typeof problem === 'string' && problem.length > 0 && problem.length < 1000, `problem: ${problem.slice(0, 300)}`);
        assert.doesNotThrow(() => store.original(id, '/app/out.js', rng.pick([0, 1, -1, NaN, 1e9]), rng.pick([0, 5, -3, NaN, Infinity])));
        const dataUrl = rng.pick([
          `data:application/json;base64,${rng.bytes(rng.int(40)).toString('base64')}`,
          `data:,${rng.string(20)}`,
          'data:application/json;base64,%%%%',
          `data:;base64,${Buffer.from(text).toString('base64')}`,
          'data:',
          rng.string(20),
          'data:x,%E0%A4%A',
        ]);
        let decoded: string | undefined;
        assert.doesNotThrow(() => (decoded = decodeDataUrl(dataUrl)));
        assert.ok(decoded === undefined || typeof decoded === 'string');
      }
      assert.deepEqual(reads, [], 'the store read no file');
      // A valid map whose source climbs out of the workspace maps to that path as a label only.
      assert.equal(store.add('passwd', '/app/out.js', validMapText(['../../../../etc/passwd']), '/app/dist/out.js.map'), undefined);
      const hit = store.original('passwd', '/app/out.js', 0, 0);
      assert.equal(hit?.file, '/etc/passwd');
      assert.deepEqual(reads, []);
    } finally {
      mutableFs.readFileSync = realRead;
    }
  });

  it('SourceMapLoader: a target cannot make the session read devices or FIFOs, or show the content of a non-map file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'taskmem-maps-'));
    try {
      const secret = path.join(dir, 'secret.txt');
      fs.writeFileSync(secret, 'TOP-SECRET-CONTENT: hunter2\n');
      const fifo = path.join(dir, 'pipe.map');
      const { execFileSync } = await import('node:child_process');
      execFileSync('mkfifo', [fifo]);
      const script = path.join(dir, 'app', 'out.js');
      const profile = {
        head: syntheticNode(
          0,
          '(root)',
          '',
          [1, 2, 3, 4, 5].map((id) => ({
            ...syntheticNode(id, 'f', script, [], 8),
            callFrame: { functionName: 'f', scriptId: String(id), url: script, lineNumber: 0, columnNumber: 0 },
          })),
        ),
        samples: [],
      } as unknown as RawSamplingProfile;
      const scripts = new Map([
        ['1', { url: script, sourceMapURL: '/dev/zero' }],
        ['2', { url: script, sourceMapURL: '../pipe.map' }],
        ['3', { url: script, sourceMapURL: '../secret.txt' }],
        ['4', { url: script, sourceMapURL: '../../../../../../../../etc/passwd' }],
        ['5', { url: script, sourceMapURL: 'http://127.0.0.1:1/x.map' }],
      ]);
      const loader = new SourceMapLoader();
      const warnings = await within(
        5000,
        'loading hostile source map references',
        Promise.resolve().then(() => loader.loadFor(profile, scripts, 't')),
      );
      for (const warning of warnings) {
        assert.ok(!warning.includes('hunter2') && !warning.includes('root:'), `a warning shows file content: ${warning}`);
        assert.ok(warning.length < 500, warning);
      }
      assert.equal(loader.store.size, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const pythons = probePythons();
  it('Python agent: 10,000 malformed hellos, frames and messages over its raw socket; it stays up and answers', async function () {
    this.timeout(180_000);
    const py = pythons[0];
    const ipc = new Ipc();
    const procs = new Procs();
    try {
      const proc = procs.spawn(py.exe, [path.join(fixtureDir, 'idle.py'), '170'], ipc.env({}, agentDir));
      const [reg] = await ipc.next(1);
      const good = await attach(reg);
      await good.close();
      const rng = new Rng(2024);
      const results = { handshake: 0, frames: 0, messages: 0 };

      /** Raw bytes to the agent's socket -> what it sent before closing; `closed` false when it kept the connection 3 s. */
      const exchange = (payload: Buffer): Promise<{ reply: Buffer; closed: boolean }> =>
        within(
          10_000,
          'a raw exchange with the agent',
          new Promise((resolve) => {
            const socket = net.createConnection({ path: reg.socket });
            const chunks: Buffer[] = [];
            const done = (closed: boolean) => {
              clearTimeout(timer);
              socket.destroy();
              resolve({ reply: Buffer.concat(chunks), closed });
            };
            socket.on('data', (chunk: Buffer) => chunks.push(chunk));
            socket.on('error', () => done(true));
            socket.on('close', () => done(true));
            socket.write(payload);
            const timer = setTimeout(() => done(false), 3000);
          }),
        );
      const frame = (body: Buffer, length = body.length): Buffer => {
        const head = Buffer.alloc(4);
        head.writeUInt32BE(length);
        return Buffer.concat([head, body]);
      };
      const hello = (token: unknown) => frame(Buffer.from(JSON.stringify({ token })));

      // 1. Bad hellos: each must be closed with nothing answered (no hello, no error).
      // Random bytes may declare a frame longer than they are: the agent then waits for the rest (its 10 s hello
      // timeout), so those need not close within 3 s; all others must.
      const badHellos: Array<{ bytes: Buffer; mustClose: boolean }> = [];
      for (let i = 0; i < 3000; i++) {
        switch (rng.int(8)) {
          case 0:
            badHellos.push({
              bytes: hello(
                rng.pick<unknown>([
                  reg.token.toUpperCase(),
                  reg.token.slice(1),
                  reg.token + 'x',
                  '',
                  null,
                  5,
                  [reg.token],
                  crypto.randomBytes(16).toString('hex'),
                ]),
              ),
              mustClose: true,
            });
            break;
          case 1:
            badHellos.push({ bytes: frame(Buffer.from(JSON.stringify(randomJsonValue(rng)))), mustClose: true });
            break;
          case 2:
            badHellos.push({ bytes: frame(Buffer.alloc(0), rng.pick([4097, 17 * 1024 * 1024, 0xffffffff])), mustClose: true });
            break;
          case 3:
            badHellos.push({ bytes: rng.bytes(1 + rng.int(200)), mustClose: false });
            continue;
          case 4:
            badHellos.push({ bytes: Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n`), mustClose: true });
            break;
          case 5:
            badHellos.push({ bytes: frame(Buffer.from([0xff, 0xfe, 0xc3, 0x28])), mustClose: true });
            break;
          case 6:
            badHellos.push({ bytes: frame(Buffer.from(`{"token":"${reg.token}"`)), mustClose: true });
            break;
          default:
            badHellos.push({ bytes: frame(Buffer.from(JSON.stringify({ id: 1, method: 'Runtime.enable', params: { token: reg.token } }))), mustClose: true });
            break;
        }
      }
      // Six at a time: the agent's listen backlog is 8.
      for (let i = 0; i < badHellos.length; i += 6) {
        const batch = badHellos.slice(i, i + 6);
        const replies = await Promise.all(batch.map((h) => exchange(h.bytes)));
        for (const [k, { reply, closed }] of replies.entries()) {
          assert.equal(reply.length, 0, `a bad hello was answered: ${reply.toString('utf8').slice(0, 80)}`);
          if (batch[k].mustClose) assert.ok(closed, `a bad hello was kept open: ${batch[k].bytes.subarray(0, 40).toString('hex')}`);
          results.handshake++;
        }
      }

      // 2. Bad frames after a good hello: every one must close the connection, the hello came first.
      const badFrames: Array<() => Buffer> = [
        () => frame(Buffer.alloc(0), rng.pick([16 * 1024 * 1024 + 1, 0x7fffffff, 0xffffffff])),
        () => frame(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80])),
        // 0xc0, 0xc1 and 0xf5-0xff never occur in UTF-8.
        () => frame(Buffer.concat([rng.bytes(rng.int(10)), Buffer.from([rng.pick([0xc0, 0xc1, 0xf5, 0xff])]), rng.bytes(rng.int(20))])),
      ];
      for (let i = 0; i < 1500; i++) {
        const bad = rng.pick(badFrames)();
        const { reply, closed } = await exchange(Buffer.concat([hello(reg.token), bad]));
        assert.match(
          reply.toString('utf8'),
          /"hello":"taskmem"/,
          `frame ${i}: no hello; agent alive: ${proc.exitCode === null}; stderr: ${proc.stderr.slice(0, 2000)}`,
        );
        assert.ok(closed, `frame ${i}: the connection stayed open after ${bad.subarray(0, 16).toString('hex')}`);
        results.frames++;
      }

      // 3. Messages: non-JSON, wrong shapes, odd ids, deep nesting; each gets an error reply and the connection stays up.
      const client = await Client.connect(reg);
      const messages: string[] = [];
      for (let i = 0; i < N - results.handshake - results.frames; i++) {
        switch (rng.int(7)) {
          case 0:
            messages.push(rng.string(40));
            break;
          case 1:
            messages.push(JSON.stringify(randomJsonValue(rng)));
            break;
          case 2:
            messages.push(
              JSON.stringify({
                id: 1_000_000 + i,
                method: rng.pick([
                  'Taskmem.getStats',
                  'Taskmem.configure',
                  'HeapProfiler.startSampling',
                  'HeapProfiler.getSamplingProfile',
                  'Taskmem.getSamplingProfile',
                  'Nope.nope',
                  '',
                ]),
                params: randomJsonValue(rng),
              }),
            );
            break;
          case 3:
            messages.push(JSON.stringify({ id: randomJsonValue(rng), method: 'Taskmem.getStats' }));
            break;
          case 4:
            messages.push(
              `{"id":${1_000_000 + i},"method":"Taskmem.configure","params":{"sampleEvery":${rng.pick(['"x"', '-1', '1e999', '[1]', 'null', '1.5'])},"nframe":${rng.pick(['0', '1000', '"3"', '{}'])}}}`,
            );
            break;
          case 5:
            messages.push(`{"id":${rng.pick(['[', '{"a":'])}${'['.repeat(rng.pick([100, 5000, 100_000]))}`);
            break;
          default:
            messages.push(`{"id":${'['.repeat(rng.pick([50, 500, 900]))}1${']'.repeat(rng.pick([50, 500, 900]))},"method":"x"}`);
            break;
        }
      }
      for (const [i, text] of messages.entries()) {
        client.sendRaw(text);
        results.messages++;
        if (i % 200 === 199) await within(10_000, `the agent after message ${i}`, client.call('Taskmem.getStats'));
      }
      const stats = await within(10_000, 'the agent after the fuzz', client.call<{ rss: number }>('Taskmem.getStats'));
      assert.ok(stats.rss > 0);
      assert.ok(!client.closed, 'the connection stays up after malformed messages');
      const errors = client.raw.filter((m: { error?: { message?: unknown } }) => m.error);
      assert.ok(errors.length > 0 && errors.every((m) => typeof m.error?.message === 'string' && m.error.message.length > 0));
      await client.close();
      assert.equal(results.handshake + results.frames + results.messages, N);
      assert.equal(proc.exitCode, null, 'the agent process is alive');
      assert.ok(!/Traceback|Exception in thread/.test(proc.stderr), `the agent printed an uncaught exception:\n${proc.stderr.slice(0, 3000)}`);
      await sleep(10);
    } finally {
      await procs.killAll();
      ipc.dispose();
    }
  });
});

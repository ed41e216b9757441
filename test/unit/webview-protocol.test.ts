import * as assert from 'node:assert/strict';
import { isPersistedState, parseWebviewMessage, PANEL_STATE_VERSION, toPanelSite, toPanelTask } from '../../src/shared/protocol';
import { buildPanelHtml, contentSecurityPolicy, escapeHtml, makeNonce } from '../../src/extension/panel/html';
import { MessageBatcher, type BatcherTimers } from '../../src/extension/panel/batcher';
import { HostStatsBuffer } from '../../src/extension/panel/statsBuffer';
import type { HostMessage } from '../../src/shared/protocol';

describe('webview protocol', () => {
  it('accepts only well-formed webview messages', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseWebviewMessage({ type: 'command', command: 'gc' }), { type: 'command', command: 'gc' });
    assert.equal(parseWebviewMessage({ type: 'command', command: 'rm -rf' }), undefined);
    assert.deepEqual(parseWebviewMessage({ type: 'open-site', file: '/a.ts', line: 3, extra: 1 }), { type: 'open-site', file: '/a.ts', line: 3 });
    assert.equal(parseWebviewMessage({ type: 'open-site', file: '/a.ts', line: 0 }), undefined);
    assert.equal(parseWebviewMessage({ type: 'open-site', file: 5, line: 3 }), undefined);
    assert.equal(parseWebviewMessage(null), undefined);
    assert.equal(parseWebviewMessage('ready'), undefined);
  });

  it('recognises persisted state of the current version only', () => {
    const snapshot = { session: { id: 'a', title: 't' }, state: 'ended', targets: [], stats: [], marks: [], tasks: [], sites: [] };
    assert.ok(isPersistedState({ version: PANEL_STATE_VERSION, snapshot, view: {} }));
    assert.ok(!isPersistedState({ version: 0, snapshot }));
    assert.ok(!isPersistedState(undefined));
  });

  it('shows the median kept per run, which one far-off worker measurement cannot drag', () => {
    const verdict = { kind: 'no-leak' as const, confidence: 0.9, summary: 's', advice: 'a', evidence: [] };
    const kept = [0, 16, -8, 0, -210_000, 8];
    const row = toPanelTask({
      name: 'validate',
      runs: 6,
      bytesPerRun: 0,
      fit: undefined,
      verdict,
      series: kept.map((keptByRun, index) => ({ index, retainedBytes: 0, durationMs: 1, keptByRun })),
    });
    assert.equal(row.keptPerRun, 0);
  });

  it("leaves out a Node worker's in-task median (a steady offset) and keeps a Python worker's (traced, exact)", () => {
    const verdict = { kind: 'leak' as const, confidence: 0.99, summary: 's', advice: 'a', evidence: [] };
    const worker = (targetId: string) =>
      toPanelTask({
        name: 'ingest',
        runs: 3000,
        sampledRuns: 3,
        bytesPerRun: 2148,
        fit: undefined,
        verdict,
        series: [-920, -950, -900].map((keptByRun, index) => ({ index, retainedBytes: 0, durationMs: 1, keptByRun, targetId })),
      });
    assert.equal(worker('node:1').keptPerRun, undefined);
    assert.equal(worker('python:celery-1').keptPerRun, -920);
  });

  it("carries the growth figure's standard error where it is known, and only a finite one", () => {
    const verdict = { kind: 'no-leak' as const, confidence: 0.9, summary: 's', advice: 'a', evidence: [] };
    const row = (growthStdErr?: number) =>
      toPanelTask({
        name: 'validate',
        runs: 81,
        bytesPerRun: 570,
        fit: undefined,
        verdict,
        series: [],
        ...(growthStdErr === undefined ? {} : { growthStdErr }),
      });
    assert.equal(row(1130).growthStdErr, 1130);
    assert.equal(row(Number.NaN).growthStdErr, undefined);
    assert.ok(!('growthStdErr' in row()));
  });

  it('converts core tasks and sites into rows', () => {
    const verdict = { kind: 'leak' as const, confidence: 0.9, summary: 's', advice: 'a', evidence: [] };
    const row = toPanelTask({
      name: 'job',
      runs: 3,
      bytesPerRun: 10,
      fit: { slope: 10, slopeStdErr: 1, intercept: 0, rSquared: 0.9, n: 3, residualStdDev: 1 },
      verdict,
      series: [
        { index: 0, retainedBytes: 1, durationMs: 1, keptByRun: 10 },
        { index: 1, retainedBytes: 1, durationMs: 1, keptByRun: 20 },
        { index: 2, retainedBytes: 1, durationMs: 1 },
      ],
    });
    assert.equal(row.keptPerRun, 15);
    assert.equal(row.rSquared, 0.9);
    const frame = { function: 'f', file: '/a.ts', line: 1, column: 1, category: 'user' as const };
    const site = toPanelSite(
      {
        key: 'k',
        function: 'f',
        file: '/a.ts',
        line: 1,
        column: 1,
        category: 'user',
        precision: 'function',
        retainedBytes: 5,
        count: 1,
        share: 1,
        stacks: Array.from({ length: 5 }, () => ({ bytes: 1, frames: Array.from({ length: 40 }, () => frame) })),
        callers: [],
      },
      3,
      10,
    );
    assert.equal(site.stacks.length, 3);
    assert.equal(site.stacks[0].frames.length, 10);
    assert.ok(!('callers' in site));
  });
});

describe('webview panel html', () => {
  it('has a strict CSP with a nonce and no inline code', () => {
    const nonce = makeNonce();
    const html = buildPanelHtml({
      cspSource: 'https://x.vscode-cdn.net',
      nonce,
      scriptUri: 'https://x/dist/webview.js',
      styleUri: 'https://x/dist/webview.css',
      codiconUri: 'https://x/media/codicons/codicon.css',
      title: '<img src=x onerror=alert(1)>',
    });
    assert.match(html, /default-src 'none'/);
    assert.match(html, new RegExp(`script-src 'nonce-${nonce}'`));
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
    assert.doesNotMatch(html, /<img/);
    const attrNames = [...html.matchAll(/\s([a-z-]+)="[^"]*"/gi)].map((m) => m[1].toLowerCase());
    assert.ok(attrNames.length > 5 && attrNames.every((n) => !n.startsWith('on')), attrNames.join());
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(html, /<script nonce="[^"]+" src="https:\/\/x\/dist\/webview.js"><\/script>/);
    assert.notEqual(makeNonce(), nonce);
  });

  it('escapes text and attributes', () => {
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    assert.equal(contentSecurityPolicy('src', 'n').split('; ')[0], "default-src 'none'");
    assert.throws(() => buildPanelHtml({ cspSource: 's', nonce: "x' 'unsafe-inline", scriptUri: '', styleUri: '', codiconUri: '', title: '' }));
  });
});

describe('webview message batcher', () => {
  const fakeTimers = () => {
    let now = 0;
    const queue: { at: number; fn: () => void; id: number }[] = [];
    let id = 0;
    const timers: BatcherTimers = {
      setTimeout: (fn, ms) => {
        queue.push({ at: now + ms, fn, id: ++id });
        return id;
      },
      clearTimeout: (h) => {
        const i = queue.findIndex((q) => q.id === h);
        if (i >= 0) queue.splice(i, 1);
      },
      now: () => now,
    };
    const advance = (ms: number): void => {
      now += ms;
      for (;;) {
        queue.sort((a, b) => a.at - b.at);
        if (!queue.length || queue[0].at > now) break;
        queue.shift()!.fn();
      }
    };
    return { timers, advance };
  };

  it('posts at most 10 stats messages a second and coalesces latest values', () => {
    const { timers, advance } = fakeTimers();
    const posts: HostMessage[][] = [];
    const b = new MessageBatcher((m) => posts.push(m), 100, timers);
    for (let i = 0; i < 1000; i++) {
      b.stats({ t: i, targetId: 'a', heapUsed: i, heapTotal: i });
      b.set({ type: 'state', state: 'running' });
      advance(1);
    }
    advance(200);
    const statsMessages = posts.flat().filter((m) => m.type === 'stats');
    assert.ok(statsMessages.length <= 11, `${statsMessages.length} stats messages in 1 s`);
    assert.equal(
      statsMessages.reduce((n, m) => n + (m.type === 'stats' ? m.points.length : 0), 0),
      1000,
    );
    for (const batch of posts) assert.ok(batch.filter((m) => m.type === 'state').length <= 1);
  });

  it('holds messages while paused and drops them on discard', () => {
    const { timers, advance } = fakeTimers();
    const posts: HostMessage[][] = [];
    const b = new MessageBatcher((m) => posts.push(m), 100, timers);
    b.pause();
    b.mark({ t: 1, targetId: 'a', kind: 'gc' });
    advance(500);
    assert.equal(posts.length, 0);
    assert.equal(b.pending, 1);
    b.discard();
    b.resume();
    advance(500);
    assert.equal(posts.length, 0);
  });
});

describe('webview host stats buffer', () => {
  it('keeps columns per target and thins long series keeping extremes', () => {
    const buf = new HostStatsBuffer();
    for (let i = 0; i < 50000; i++) buf.add({ t: i * 100, targetId: 'a', heapUsed: i === 30000 ? 1e12 : i, heapTotal: 1, rss: i % 2 ? 1 : undefined });
    buf.add({ t: 5, targetId: 'b', heapUsed: 1, heapTotal: 2 });
    const cols = buf.columns(1000);
    const a = cols.find((c) => c.targetId === 'a')!;
    assert.ok(a.t.length <= 1001);
    assert.ok(a.values.heapUsed!.includes(1e12));
    assert.equal(a.t[a.t.length - 1], 49999 * 100);
    assert.equal(a.values.rss!.length, a.t.length);
    assert.equal(cols.find((c) => c.targetId === 'b')!.t.length, 1);
  });
});

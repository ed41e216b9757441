import assert from 'node:assert/strict';
import { FrameMemory } from '../../src/core/frameMemory';
import type { RawCallFrame, RawProfileNode, RawSamplingProfile } from '../../src/core/model';

let nextId = 1;
function node(
  functionName: string,
  scriptId: string,
  url: string,
  lineNumber: number,
  columnNumber: number,
  children: RawProfileNode[] = [],
  selfSize = 0,
): RawProfileNode {
  return { callFrame: { functionName, scriptId, url, lineNumber, columnNumber }, selfSize, id: nextId++, children };
}
function profile(...children: RawProfileNode[]): RawSamplingProfile {
  return { head: node('(root)', '0', '', -1, -1, children), samples: [] };
}
function frameOf(p: RawSamplingProfile, functionName: string): RawCallFrame {
  const stack = [p.head];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.callFrame.functionName === functionName) return n.callFrame;
    stack.push(...n.children);
  }
  throw new Error(`no frame ${functionName}`);
}

const WORKER = 'file:///app/worker.js';

/** A capture taken while the worker ran: every frame has its script. */
function liveProfile(): RawSamplingProfile {
  return profile(
    node('main', '42', WORKER, 3, 0, [node('recordShipment', '42', WORKER, 17, 2, [], 4096), node('flush', '43', 'file:///app/queue.js', 8, 0, [], 512)]),
  );
}

/** The capture at exit: the worker's code was collected, V8 reports empty URLs and line -1. */
function exitProfile(): RawSamplingProfile {
  return profile(
    node('main', '42', '', -1, -1, [
      node('recordShipment', '42', '', -1, -1, [], 2_000_000),
      node('neverSeen', '42', '', -1, -1, [], 100),
      node('orphan', '99', '', -1, -1, [], 100),
    ]),
  );
}

describe('FrameMemory', () => {
  it('learns url and line from one profile and repairs a later one', () => {
    const memory = new FrameMemory();
    // Learning from complete frames repairs nothing.
    assert.equal(memory.repair(liveProfile()), 0);
    const later = exitProfile();
    const repaired = memory.repair(later);
    // main, recordShipment and neverSeen belong to script 42: three URLs filled.
    assert.equal(repaired, 3);
    assert.deepEqual(frameOf(later, 'recordShipment'), { functionName: 'recordShipment', scriptId: '42', url: WORKER, lineNumber: 17, columnNumber: 2 });
    assert.deepEqual(frameOf(later, 'main'), { functionName: 'main', scriptId: '42', url: WORKER, lineNumber: 3, columnNumber: 0 });
  });

  it('fills the url of a function never seen in that script, but not a line it never learnt', () => {
    const memory = new FrameMemory();
    memory.repair(liveProfile());
    const later = exitProfile();
    memory.repair(later);
    assert.equal(frameOf(later, 'neverSeen').url, WORKER);
    assert.equal(frameOf(later, 'neverSeen').lineNumber, -1);
  });

  it('leaves frames of unknown scripts and the root alone', () => {
    const memory = new FrameMemory();
    memory.repair(liveProfile());
    const later = exitProfile();
    memory.repair(later);
    assert.deepEqual(frameOf(later, 'orphan'), { functionName: 'orphan', scriptId: '99', url: '', lineNumber: -1, columnNumber: -1 });
    assert.deepEqual(later.head.callFrame, { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 });
  });

  it('keeps a line per function: the same script, another function, gets its own line', () => {
    const memory = new FrameMemory();
    memory.repair(profile(node('a', '7', '/app/a.js', 1, 0), node('b', '7', '/app/a.js', 40, 4)));
    const later = profile(node('b', '7', '', -1, -1), node('a', '7', '', -1, -1));
    assert.equal(memory.repair(later), 2);
    assert.equal(frameOf(later, 'a').lineNumber, 1);
    assert.equal(frameOf(later, 'b').lineNumber, 40);
    assert.equal(frameOf(later, 'b').columnNumber, 4);
  });

  it('learns url from scriptParsed (learnScripts with a Map), skipping empty urls', () => {
    const memory = new FrameMemory();
    memory.learnScripts(
      new Map([
        ['7', { url: '/app/jobs.js' }],
        ['8', { url: '' }],
      ]),
    );
    const p = profile(node('job', '7', '', -1, -1), node('evalCode', '8', '', -1, -1));
    assert.equal(memory.repair(p), 1);
    assert.equal(frameOf(p, 'job').url, '/app/jobs.js');
    // scriptParsed says nothing of lines.
    assert.equal(frameOf(p, 'job').lineNumber, -1);
    assert.equal(frameOf(p, 'evalCode').url, '');
  });

  it('a profile teaches its own later frames (earlier frames first, depth first)', () => {
    const memory = new FrameMemory();
    const p = profile(node('outer', '5', '/app/x.js', 10, 0, [node('outer', '5', '', -1, -1)]));
    assert.equal(memory.repair(p), 1);
    const inner = p.head.children[0].children[0].callFrame;
    assert.equal(inner.url, '/app/x.js');
    assert.equal(inner.lineNumber, 10);
  });

  it('a frame with a url but no line teaches the url, not a position', () => {
    const memory = new FrameMemory();
    memory.repair(profile(node('f', '6', '/app/y.js', -1, -1)));
    const later = profile(node('f', '6', '', -1, -1));
    assert.equal(memory.repair(later), 1);
    assert.equal(frameOf(later, 'f').url, '/app/y.js');
    assert.equal(frameOf(later, 'f').lineNumber, -1);
  });
  it("gives anonymous functions their file but never another anonymous function's line", () => {
    const memory = new FrameMemory();
    memory.repair(profile(node('', '42', WORKER, 30, 4, [], 10), node('', '42', WORKER, 55, 8, [], 10)));
    const atExit = profile(node('', '42', '', -1, -1, [], 10));
    memory.repair(atExit);
    const frame = atExit.head.children[0].callFrame;
    assert.equal(frame.url, WORKER);
    assert.equal(frame.lineNumber, -1);
  });
});

import type { RawProfileNode } from '../../src/core/model';

/** A sampling-profile node of `fn` at `url`:`line` (0-based, as V8 sends it) in a script of its own. */
export function profileNode(id: number, fn: string, url: string, line: number, selfSize: number, children: RawProfileNode[] = []): RawProfileNode {
  return { id, selfSize, children, callFrame: { functionName: fn, scriptId: String(id), url, lineNumber: line, columnNumber: 0 } };
}

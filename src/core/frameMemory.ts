/**
 * Names frames whose code is gone. When a script's code was collected (a module whose loop has
 * finished, every script at exit), V8's sampler reports its functions with an empty URL and line -1,
 * in `node --heap-prof` too (DESIGN.md fact 12). The script id and function name survive, so what
 * earlier captures and `Debugger.scriptParsed` said about them fills the gaps: user code must never
 * be filed under "runtime" because the program ended before we looked.
 */
import type { RawProfileNode, RawSamplingProfile } from './model';

export class FrameMemory {
  private readonly urls = new Map<string, string>();
  private readonly positions = new Map<string, { lineNumber: number; columnNumber: number }>();

  /** Script ids to URLs from `Debugger.scriptParsed`. */
  learnScripts(scripts: ReadonlyMap<string, { url: string }>): void {
    for (const [scriptId, script] of scripts) if (script.url) this.urls.set(scriptId, script.url);
  }

  /** Fills empty URLs and unknown lines from what was learnt, then learns from the profile. Returns how many frames it named. */
  repair(profile: RawSamplingProfile): number {
    let repaired = 0;
    const visit = (node: RawProfileNode) => {
      const frame = node.callFrame;
      const scriptId = frame.scriptId;
      if (scriptId && scriptId !== '0') {
        if (!frame.url) {
          const url = this.urls.get(scriptId);
          if (url) {
            frame.url = url;
            repaired++;
          }
        } else {
          this.urls.set(scriptId, frame.url);
        }
        // Anonymous functions of one script would share one entry and get each other's lines.
        const key = frame.functionName ? `${scriptId}\u0000${frame.functionName}` : undefined;
        if (key === undefined) {
          // The file is known; the line is not.
        } else if (frame.lineNumber < 0) {
          const position = this.positions.get(key);
          if (position) {
            frame.lineNumber = position.lineNumber;
            frame.columnNumber = position.columnNumber;
          }
        } else if (frame.url) {
          this.positions.set(key, { lineNumber: frame.lineNumber, columnNumber: frame.columnNumber });
        }
      }
      // Iterative would be safer for very deep trees; V8's sampler caps stacks at 128 frames.
      for (const child of node.children) visit(child);
    };
    visit(profile.head);
    return repaired;
  }
}

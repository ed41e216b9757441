/** A typed wrapper around the webview's `acquireVsCodeApi` (callable once per page). */
import type { WebviewMessage } from '../shared/protocol';

interface VsCodeApi<State> {
  postMessage(message: WebviewMessage): void;
  getState(): State | undefined;
  setState(state: State): State;
}

declare function acquireVsCodeApi<State = unknown>(): VsCodeApi<State>;

let api: VsCodeApi<unknown> | undefined;

export function getVsCodeApi<State>(): VsCodeApi<State> {
  if (!api) {
    api =
      typeof acquireVsCodeApi === 'function'
        ? acquireVsCodeApi<unknown>()
        : {
            // Outside VS Code (previews, benchmarks): keep state in memory, log messages.
            postMessage: (m) => console.debug('[taskmem webview → host]', m),
            getState: () => undefined,
            setState: (s) => s,
          };
  }
  return api as VsCodeApi<State>;
}

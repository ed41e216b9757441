/** Entry point of the memory panel webview (bundled to dist/webview.js + dist/webview.css). */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { HOST_MESSAGE_TYPES, type HostMessage, type PersistedWebviewState } from '../shared/protocol';
import { PanelApp } from './app';
import { getVsCodeApi } from './vscode';

const HOST_TYPES: ReadonlySet<string> = new Set(HOST_MESSAGE_TYPES);

function start(): void {
  const vscode = getVsCodeApi<PersistedWebviewState>();
  const root = document.getElementById('app') ?? document.body.appendChild(document.createElement('main'));
  const app = new PanelApp(root, {
    postMessage: (m) => vscode.postMessage(m),
    getState: () => vscode.getState(),
    setState: (s) => vscode.setState(s),
  });
  app.restore(vscode.getState());

  window.addEventListener('message', (event: MessageEvent) => {
    const msg = event.data as HostMessage | undefined;
    if (!msg || typeof msg !== 'object' || !HOST_TYPES.has((msg as { type?: string }).type ?? '')) return;
    try {
      app.handle(msg);
    } catch (error) {
      console.error('taskmem panel: failed to handle', msg.type, error);
    }
  });
  // Save right away when the panel is hidden or the window reloads.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') app.persistNow();
  });
  window.addEventListener('pagehide', () => app.persistNow());
  vscode.postMessage({ type: 'ready' });
  (window as unknown as { __taskmemPanel?: PanelApp }).__taskmemPanel = app;
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

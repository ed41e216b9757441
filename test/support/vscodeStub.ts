/**
 * Just enough of the `vscode` module to run the extension's panel host (src/extension/panel) in plain
 * Node: an EventEmitter, Uri.joinPath/file/parse, ViewColumn, and window.createWebviewPanel returning
 * a panel whose webview records what the host posts and lets a test send it messages. Installed as
 * the module `vscode` for every later `require('vscode')`.
 */
import Module from 'node:module';
import * as path from 'node:path';

type Listener<T> = (value: T) => unknown;

class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): { dispose(): void } => {
    this.listeners.push(listener);
    return { dispose: () => void (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static parse(value: string): Uri {
    const match = /^([a-z-]+):\/\/(.*)$/i.exec(value);
    return match ? new Uri(match[1], match[2]) : new Uri('file', value);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, path.posix.join(base.path, ...parts));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

/** The fake webview panel: what the host posted, and a way to send it the webview's messages. */
export interface StubWebviewPanel {
  title: string;
  visible: boolean;
  webview: {
    html: string;
    options: unknown;
    cspSource: string;
    posted: unknown[];
    asWebviewUri(uri: Uri): Uri;
    postMessage(message: unknown): Promise<boolean>;
  };
  /** Delivers a message as if the webview had sent it. */
  receive(message: unknown): void;
}

export const createdPanels: StubWebviewPanel[] = [];

function createWebviewPanel(_viewType: string, title: string): StubWebviewPanel {
  const received = new EventEmitter<unknown>();
  const disposed = new EventEmitter<void>();
  const viewState = new EventEmitter<unknown>();
  const panel = {
    title,
    visible: true,
    webview: {
      html: '',
      options: {},
      cspSource: 'vscode-webview-resource:',
      posted: [] as unknown[],
      asWebviewUri: (uri: Uri): Uri => Uri.parse(`vscode-webview-resource://${uri.path}`),
      postMessage(message: unknown): Promise<boolean> {
        panel.webview.posted.push(message);
        return Promise.resolve(true);
      },
      onDidReceiveMessage: received.event,
    },
    onDidDispose: disposed.event,
    onDidChangeViewState: viewState.event,
    reveal: (): void => undefined,
    dispose: (): void => disposed.fire(),
    receive: (message: unknown): void => received.fire(message),
  };
  createdPanels.push(panel);
  return panel;
}

const unavailable = (name: string) => (): never => {
  throw new Error(`vscode stub: ${name} is not available in plain Node`);
};

export const vscodeStub = {
  EventEmitter,
  Uri,
  ViewColumn: { One: 1, Two: 2, Beside: -2 },
  Disposable: class {
    constructor(private readonly fn: () => void) {}
    dispose(): void {
      this.fn();
    }
  },
  window: {
    createWebviewPanel,
    registerWebviewPanelSerializer: () => ({ dispose: () => undefined }),
    showErrorMessage: () => Promise.resolve(undefined),
    showInformationMessage: () => Promise.resolve(undefined),
    showTextDocument: unavailable('window.showTextDocument'),
  },
};

const loader = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with Module's own `this` below
const resolve = loader._resolveFilename;
const STUB_ID = 'vscode-stub:vscode';
loader._resolveFilename = function (request: string, ...rest: unknown[]): string {
  return request === 'vscode' ? STUB_ID : resolve.call(this, request, ...rest);
};
const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
cache[STUB_ID] = { id: STUB_ID, filename: STUB_ID, loaded: true, exports: vscodeStub };

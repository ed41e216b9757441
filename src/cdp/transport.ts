/**
 * Transports carry CDP text frames. A `WebSocketTransport` talks to an inspector endpoint; a
 * `WorkerTransport` tunnels a worker thread's session through its parent's NodeWorker domain
 * (the Target domain is absent on Node 20).
 */
import WebSocket from 'ws';
import { Emitter, type Event } from '../core/events';
import type { CdpClient } from './connection';

export interface Transport {
  send(text: string): void;
  close(): void;
  readonly onMessage: Event<string>;
  readonly onClose: Event<string>;
}

/** Largest frame we accept from a target: a retained profile of a big heap is tens of MiB. */
const MAX_PAYLOAD_BYTES = 512 * 1024 * 1024;

export class WebSocketTransport implements Transport {
  private readonly messageEmitter = new Emitter<string>();
  private readonly closeEmitter = new Emitter<string>();
  readonly onMessage = this.messageEmitter.event;
  readonly onClose = this.closeEmitter.event;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.messageEmitter.fire(rawText(data));
    });
    socket.on('close', (code, reason) => this.closeEmitter.fire(`socket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    socket.on('error', () => {
      // 'close' follows every 'error' and carries the reason to pending calls.
    });
  }

  static connect(url: string, timeoutMs = 10_000): Promise<WebSocketTransport> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX_PAYLOAD_BYTES, handshakeTimeout: timeoutMs });
      const onError = (error: Error) => {
        socket.removeAllListeners();
        socket.terminate();
        reject(new Error(`cannot connect to the inspector at ${url}: ${error.message}`));
      };
      socket.once('error', onError);
      socket.once('open', () => {
        socket.off('error', onError);
        resolve(new WebSocketTransport(socket));
      });
    });
  }

  send(text: string): void {
    if (this.socket.readyState !== WebSocket.OPEN) throw new Error('socket is not open');
    this.socket.send(text);
  }

  close(): void {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.terminate();
  }
}

/** A worker thread's inspector session, carried inside its parent's connection. */
export class WorkerTransport implements Transport {
  private readonly messageEmitter = new Emitter<string>();
  private readonly closeEmitter = new Emitter<string>();
  readonly onMessage = this.messageEmitter.event;
  readonly onClose = this.closeEmitter.event;
  private isClosed = false;
  private readonly subscriptions: Array<{ dispose(): void }> = [];

  constructor(
    private readonly parent: CdpClient,
    private readonly sessionId: string,
  ) {
    this.subscriptions.push(
      parent.on('NodeWorker.receivedMessageFromWorker', (params) => {
        if (params.sessionId === sessionId && typeof params.message === 'string') this.messageEmitter.fire(params.message);
      }),
      parent.on('NodeWorker.detachedFromWorker', (params) => {
        if (params.sessionId === sessionId) this.finish('worker thread exited');
      }),
      parent.onClose((reason) => this.finish(`parent target closed: ${reason}`)),
    );
  }

  send(text: string): void {
    if (this.isClosed) throw new Error('worker session is closed');
    this.parent.send('NodeWorker.sendMessageToWorker', { message: text, sessionId: this.sessionId }).catch(() => {
      // The parent's close handler rejects everything; the worker session closes with it.
    });
  }

  close(): void {
    if (this.isClosed) return;
    this.parent.send('NodeWorker.detach', { sessionId: this.sessionId }).catch(() => undefined);
    this.finish('detached');
  }

  private finish(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const s of this.subscriptions) s.dispose();
    this.closeEmitter.fire(reason);
  }
}

/** A text frame's bytes as a string (ws hands over a Buffer, an ArrayBuffer or fragments). */
export function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

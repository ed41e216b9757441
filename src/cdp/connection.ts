/**
 * A typed Chrome DevTools Protocol connection. Requests are matched to responses by id; pending
 * calls are rejected when the transport closes; protocol errors name the method and keep the
 * caller's stack. Sessions (worker threads tunnelled through NodeWorker) share the same shape.
 */
import type { ProtocolMapping } from 'devtools-protocol/types/protocol-mapping';
import { Emitter, type Event } from '../core/events';
import type { ExtraCommands, ExtraEvents } from './extraProtocol';
import type { Transport } from './transport';

/** Commands of the standard protocol, Node's own domains and our `Taskmem` domain (Python agent). */
type Commands = ProtocolMapping.Commands & ExtraCommands;
type Events = ProtocolMapping.Events & ExtraEvents;
export type CommandName = keyof Commands;
type FirstParam<T> = T extends [infer P] ? P : T extends [(infer Q)?] ? Q : undefined;
export type CommandParams<M extends CommandName> = FirstParam<Commands[M]['paramsType']>;
export type CommandResult<M extends CommandName> = Commands[M]['returnType'];
export type EventName = keyof Events;
export type EventParams<E extends EventName> = Events[E] extends [infer P, ...unknown[]] ? P : undefined;

export interface ProtocolEvent {
  method: string;
  params: unknown;
  sessionId?: string;
}

export class ProtocolError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly protocolMessage: string,
    callerStack: string | undefined,
  ) {
    super(`${method} failed: ${protocolMessage}`);
    this.name = 'ProtocolError';
    // Keep the caller's stack: the interesting frame is who sent the command, not the socket reader.
    if (callerStack) this.stack = `${this.name}: ${this.message}\n${callerStack.split('\n').slice(1).join('\n')}`;
  }
}

export class ConnectionClosedError extends Error {
  constructor(
    readonly method: string,
    reason: string,
  ) {
    super(`${method} was not answered: ${reason}`);
    this.name = 'ConnectionClosedError';
  }
}

interface PendingCall {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  stack: string | undefined;
}

/** The minimal surface every target uses, whether it is a socket or a tunnelled worker session. */
export interface CdpClient {
  send<M extends CommandName>(method: M, params?: CommandParams<M>): Promise<CommandResult<M>>;
  /** For methods outside the standard protocol (the `Taskmem` domain). */
  sendRaw(method: string, params?: object): Promise<unknown>;
  on<E extends EventName>(event: E, listener: (params: EventParams<E>) => void): { dispose(): void };
  onRaw(method: string, listener: (params: unknown) => void): { dispose(): void };
  readonly onClose: Event<string>;
  readonly closed: boolean;
}

type RawMessage = { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown; sessionId?: unknown };

export class CdpConnection implements CdpClient {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private readonly listeners = new Map<string, Set<(params: unknown) => void>>();
  private readonly closeEmitter = new Emitter<string>();
  private readonly protocolErrorEmitter = new Emitter<string>();
  private closeReason: string | undefined;

  readonly onClose = this.closeEmitter.event;
  /** Frames that could not be understood; the connection stays up. */
  readonly onProtocolError = this.protocolErrorEmitter.event;

  constructor(private readonly transport: Transport) {
    transport.onMessage((text) => this.receive(text));
    transport.onClose((reason) => this.handleClose(reason));
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  send<M extends CommandName>(method: M, params?: CommandParams<M>): Promise<CommandResult<M>> {
    return this.sendRaw(method, params as object | undefined) as Promise<CommandResult<M>>;
  }

  sendRaw(method: string, params?: object): Promise<unknown> {
    const stack = new Error().stack;
    if (this.closeReason !== undefined) return Promise.reject(new ConnectionClosedError(method, this.closeReason));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject, stack });
      try {
        this.transport.send(JSON.stringify({ id, method, params: params ?? {} }));
      } catch (error) {
        this.pending.delete(id);
        reject(new ConnectionClosedError(method, error instanceof Error ? error.message : String(error)));
      }
    });
  }

  on<E extends EventName>(event: E, listener: (params: EventParams<E>) => void): { dispose(): void } {
    return this.onRaw(event, listener as (params: unknown) => void);
  }

  onRaw(method: string, listener: (params: unknown) => void): { dispose(): void } {
    let set = this.listeners.get(method);
    if (!set) this.listeners.set(method, (set = new Set()));
    set.add(listener);
    return { dispose: () => set?.delete(listener) };
  }

  close(): void {
    this.transport.close();
  }

  private receive(text: string): void {
    let message: RawMessage;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      message = parsed;
    } catch (error) {
      this.protocolErrorEmitter.fire(`unreadable frame (${(error as Error).message.slice(0, 200)}): ${String(text).slice(0, 80)}`);
      return;
    }
    if (typeof message.id === 'number') {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (message.error !== undefined) {
        // A broken target may send any JSON as the error: never let its shape leave the call pending.
        const error = (typeof message.error === 'object' && message.error !== null ? message.error : {}) as { code?: unknown; message?: unknown };
        const code = typeof error.code === 'number' ? error.code : -1;
        const text =
          typeof error.message === 'string' && error.message !== '' ? error.message : `malformed error reply ${JSON.stringify(message.error).slice(0, 200)}`;
        call.reject(new ProtocolError(call.method, code, text, call.stack));
      } else {
        call.resolve(message.result ?? {});
      }
      return;
    }
    if (typeof message.method === 'string') {
      const event: ProtocolEvent = {
        method: message.method,
        params: message.params ?? {},
        sessionId: typeof message.sessionId === 'string' ? message.sessionId : undefined,
      };
      const set = this.listeners.get(event.method);
      if (!set) return;
      for (const listener of [...set]) {
        try {
          listener(event.params);
        } catch (error) {
          // An event of an unexpected shape must not skip the other listeners or reach the socket reader.
          this.protocolErrorEmitter.fire(`${event.method} event not understood (${error instanceof Error ? error.message : String(error)})`);
        }
      }
    }
  }

  private handleClose(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    for (const call of this.pending.values()) call.reject(new ConnectionClosedError(call.method, reason));
    this.pending.clear();
    this.closeEmitter.fire(reason);
  }
}

/**
 * The Python agent's channel (docs/PROTOCOL.md §2): length-prefixed JSON frames over a Unix socket
 * in the session's private directory. Each frame is a 4-byte big-endian byte count and that much
 * UTF-8. The first frame we send is the session's token; the agent answers `{"hello":"taskmem"}`
 * or closes the connection.
 */
import * as net from 'node:net';
import { Emitter } from '../core/events';
import type { Transport } from './transport';

/** Largest frame we accept from the agent: a retained profile of a big heap is tens of MiB. */
const MAX_FRAME_BYTES = 512 * 1024 * 1024;
const HEAD_BYTES = 4;

export function encodeFrame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(HEAD_BYTES);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames; throws on a frame over the limit. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): string[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: string[] = [];
    for (;;) {
      if (this.buffered < HEAD_BYTES) return out;
      if (this.chunks[0].length < HEAD_BYTES) this.chunks = [Buffer.concat(this.chunks)];
      const size = this.chunks[0].readUInt32BE(0);
      if (size > this.maxFrameBytes) throw new Error(`frame of ${size} bytes is over the ${this.maxFrameBytes}-byte limit`);
      // Join the chunks once the whole frame is here: a big profile arrives in hundreds of chunks.
      if (this.buffered < HEAD_BYTES + size) return out;
      const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      out.push(data.toString('utf8', HEAD_BYTES, HEAD_BYTES + size));
      const rest = data.subarray(HEAD_BYTES + size);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
  }
}

export class AgentSocketTransport implements Transport {
  private readonly messageEmitter = new Emitter<string>();
  private readonly closeEmitter = new Emitter<string>();
  readonly onMessage = this.messageEmitter.event;
  readonly onClose = this.closeEmitter.event;
  private isClosed = false;

  private constructor(
    private readonly socket: net.Socket,
    decoder: FrameDecoder,
  ) {
    socket.on('data', (chunk: Buffer) => {
      let frames: string[];
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        this.finish((error as Error).message);
        return;
      }
      for (const text of frames) if (!this.isClosed) this.messageEmitter.fire(text);
    });
    socket.on('close', () => this.finish('socket closed'));
    socket.on('error', () => {
      // 'close' follows every 'error' and carries the reason to pending calls.
    });
  }

  /** Connects, presents the token and waits for the agent's hello. */
  static connect(socketPath: string, token: string, timeoutMs = 10_000): Promise<AgentSocketTransport> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: socketPath });
      const decoder = new FrameDecoder();
      const fail = (reason: string) => {
        clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.destroy();
        reject(new Error(`cannot connect to the Python agent at ${socketPath}: ${reason}`));
      };
      const timer = setTimeout(() => fail(`no hello within ${timeoutMs} ms`), timeoutMs);
      socket.once('error', (error) => fail(error.message));
      socket.once('close', () => fail('the agent closed the connection (wrong token, or another client is attached)'));
      socket.once('connect', () => socket.write(encodeFrame(JSON.stringify({ token }))));
      const onData = (chunk: Buffer) => {
        let frames: string[];
        try {
          frames = decoder.push(chunk);
        } catch (error) {
          fail((error as Error).message);
          return;
        }
        if (frames.length === 0) return;
        const hello = parseHello(frames[0]);
        if (hello !== true) {
          fail(hello);
          return;
        }
        clearTimeout(timer);
        socket.removeAllListeners();
        const transport = new AgentSocketTransport(socket, decoder);
        resolve(transport);
        // Frames that arrived with the hello (none today) are not lost.
        for (const text of frames.slice(1)) transport.messageEmitter.fire(text);
      };
      socket.on('data', onData);
    });
  }

  send(text: string): void {
    if (this.isClosed) throw new Error('socket is not open');
    this.socket.write(encodeFrame(text));
  }

  close(): void {
    this.socket.destroy();
    this.finish('closed');
  }

  private finish(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.socket.destroy();
    this.closeEmitter.fire(reason);
  }
}

/** true for the agent's hello; otherwise why it is not one. */
function parseHello(text: string): true | string {
  try {
    const message: unknown = JSON.parse(text);
    if (typeof message === 'object' && message !== null) {
      const record = message as Record<string, unknown>;
      if (record.hello === 'taskmem') return true;
      const error = record.error as { message?: unknown } | undefined;
      if (typeof error?.message === 'string') return error.message;
    }
  } catch {
    // not JSON: said below
  }
  return `unexpected first frame ${text.slice(0, 80)}`;
}

/**
 * Where a target listens: Node's inspector (V8's WebSocket endpoint) or the Python agent's private
 * Unix socket. The one place that picks the transport for an endpoint.
 */
import { AgentSocketTransport } from './agentTransport';
import { WebSocketTransport, type Transport } from './transport';

export type Endpoint =
  | { kind: 'inspector'; url: string }
  /** The agent's socket in the session's 0700 directory, and the session's token that opens it. */
  | { kind: 'agent'; socketPath: string; token: string };

export function openTransport(endpoint: Endpoint): Promise<Transport> {
  return endpoint.kind === 'inspector' ? WebSocketTransport.connect(endpoint.url) : AgentSocketTransport.connect(endpoint.socketPath, endpoint.token);
}

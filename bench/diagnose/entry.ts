/**
 * The diagnosis bench's inspector client: the product's own CdpConnection over its WebSocket
 * transport (one CDP client in the repository), plus a count of the events the target sent.
 */
import { CdpConnection } from '../../src/cdp/connection';
import { WebSocketTransport } from '../../src/cdp/transport';

export interface CountingClient {
  connection: CdpConnection;
  /** Events (messages without an id) received so far. */
  events(): number;
}

export async function connectInspector(url: string): Promise<CountingClient> {
  const transport = await WebSocketTransport.connect(url);
  let events = 0;
  // V8 writes replies as {"id":…} and events as {"method":…}: the first key tells them apart unparsed.
  transport.onMessage((text) => {
    if (text.startsWith('{"method"')) events++;
  });
  return { connection: new CdpConnection(transport), events: () => events };
}

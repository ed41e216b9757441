/** Where a Node process registered its inspector: only loopback, so a registration never sends us to another host. */
import type { Endpoint } from '../../cdp/endpoint';

export function inspectorEndpoint(record: Record<string, unknown>): Endpoint | string {
  const value = record.url;
  if (typeof value !== 'string') return 'registration has no url';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'registration url is invalid';
  }
  if (url.protocol !== 'ws:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return 'registration url is not a loopback ws:// url';
  return { kind: 'inspector', url: value };
}

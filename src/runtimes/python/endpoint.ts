/** Where the agent registered its socket: only directly inside the session's private directory, named as the agent names it. */
import * as path from 'node:path';
import type { Endpoint } from '../../cdp/endpoint';

export function agentEndpoint(record: Record<string, unknown>, channel: { token: string; dir: string }): Endpoint | string {
  const value = record.socket;
  if (typeof value !== 'string') return 'registration has no socket';
  if (!path.isAbsolute(value) || path.dirname(value) !== channel.dir || !/^\d+-[0-9a-f]+\.sock$/.test(path.basename(value)))
    return 'registration socket is not in the session directory';
  return { kind: 'agent', socketPath: value, token: channel.token };
}

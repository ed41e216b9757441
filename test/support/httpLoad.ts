/** A bounded HTTP load generator for the engine tests: real requests over keep-alive sockets. */
import * as http from 'node:http';
import { rng } from './prng';

export interface LoadRoute {
  method: string;
  /** The path of the i-th request. */
  path: (i: number) => string;
  body?: string;
  headers?: Record<string, string>;
}

/**
 * Sends requests over the routes in a seeded random mix (as real traffic comes, not in a fixed
 * rotation, whose counts would move together), `concurrency` at a time, until `until` resolves.
 */
export async function drive(port: number, routes: readonly LoadRoute[], until: Promise<unknown>, concurrency = 4, seed = 7): Promise<number> {
  const random = rng(seed);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let stopped = false;
  void until.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  let sent = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const route = routes[Math.floor(random() * routes.length)];
      const request = http.request({ host: '127.0.0.1', port, agent, method: route.method, path: route.path(i), headers: route.headers }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      request.on('error', () => resolve());
      request.end(route.body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      for (let i = lane; !stopped; i += concurrency) {
        await one(i);
        sent++;
      }
    }),
  );
  agent.destroy();
  return sent;
}

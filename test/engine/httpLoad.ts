/** A bounded load generator for engine tests of HTTP servers: a fixed number of requests. */
import * as http from 'node:http';
import { rng } from '../support/prng';

export interface LoadRoute {
  method: string;
  /** The path of the i-th request (ids vary, as real traffic's do). */
  path: (i: number) => string;
}

/**
 * Sends exactly `count` requests over `routes` in a seeded random mix (as real traffic comes, not
 * a fixed rotation whose counts move together), `concurrency` at a time over keep-alive sockets.
 * A count rather than a duration: a slow machine gets the same evidence, only later.
 * Resolves with the requests sent per route and the non-2xx answers.
 */
export async function sendRequests(
  port: number,
  routes: LoadRoute[],
  count: number,
  concurrency: number,
  seed = 7,
): Promise<{ perRoute: number[]; failures: string[] }> {
  const random = rng(seed);
  const plan = Array.from({ length: count }, () => Math.floor(random() * routes.length));
  const perRoute = routes.map(() => 0);
  const failures: string[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const route = routes[plan[i]];
      perRoute[plan[i]]++;
      // No body, said so: a server that cannot tell where a body ends closes the connection.
      const request = http.request(
        { host: '127.0.0.1', port, agent, method: route.method, path: route.path(i), headers: { 'content-length': '0' } },
        (response) => {
          if ((response.statusCode ?? 0) >= 300 && failures.length < 5) failures.push(`${route.method} ${route.path(i)}: ${response.statusCode}`);
          response.resume();
          response.on('end', resolve);
        },
      );
      request.on('error', (error) => {
        if (failures.length < 5) failures.push(`${route.method} ${route.path(i)}: ${error.message}`);
        resolve();
      });
      request.end();
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(next++);
    }),
  );
  agent.destroy();
  return { perRoute, failures };
}

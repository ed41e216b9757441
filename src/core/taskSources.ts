/**
 * Where a worker's tasks came from, as the report says it: the program's own marks, what the
 * profiler found by itself (HTTP requests, BullMQ jobs, the Python agent's hooks), or time windows.
 */

/** Sources the Node task marks and the Python agent name (`Taskmem.taskSource`). */
const KNOWN: Readonly<Record<string, string>> = {
  marks: "the program's own taskmem:task marks",
  http: "HTTP requests (Node's http diagnostics channels; Express and Fastify routes)",
  bullmq: 'BullMQ jobs (a hook on its Worker)',
  celery: 'Celery tasks (its signals)',
  'python-agent': "the Python agent's hooks",
  windows: 'fixed time windows (no task marks were seen)',
};

/** A source name a target may send: short, lower-case; anything else is dropped. */
export function isTaskSource(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z][a-z0-9-]{0,23}$/.test(value);
}

/** "HTTP requests (…) and BullMQ jobs (…)": the sources in a fixed order, unknown ones as named. */
export function describeTaskSources(sources: Iterable<string>): string | undefined {
  const order = Object.keys(KNOWN);
  const unique = [...new Set(sources)].sort((a, b) => rank(order, a) - rank(order, b) || a.localeCompare(b));
  if (!unique.length) return undefined;
  const phrases = unique.map((source) => KNOWN[source] ?? `${source} tasks`);
  return phrases.length === 1 ? phrases[0] : `${phrases.slice(0, -1).join(', ')} and ${phrases[phrases.length - 1]}`;
}

function rank(order: string[], source: string): number {
  const index = order.indexOf(source);
  return index < 0 ? order.length : index;
}

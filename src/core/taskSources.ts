/**
 * Where a worker's tasks came from, as the report says it: the program's own marks, what the
 * profiler found by itself (HTTP requests, BullMQ jobs, the Python agent's hooks), or time windows;
 * and, for the Python hooks, what each means for the per-task figures. Pure.
 */

/** Sources the Node task marks and the Python agent name (`Taskmem.taskSource`, `getStats().taskSources`). */
const KNOWN: Readonly<Record<string, string>> = {
  marks: "the program's own taskmem:task marks",
  http: "HTTP requests (Node's http diagnostics channels; Express and Fastify routes)",
  bullmq: 'BullMQ jobs (a hook on its Worker)',
  celery: "Celery's task signals (task_prerun / task_postrun), named by task",
  rq: 'RQ jobs (rq.job.Job._execute, the job function), named by function',
  flask: "Flask's request signals, named by method and URL rule",
  django: "Django's request signals, named by method and URL pattern",
  'python-agent': "the Python agent's hooks",
  windows: 'fixed time windows (no task marks were seen)',
};

const PYTHON_SOURCES = ['celery', 'rq', 'flask', 'django'];

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

/** The notes for the sources seen across Python targets (none when there were none). */
export function pythonTaskSourceNotes(sources: Iterable<string>): string[] {
  const seen = new Set(sources);
  const known = PYTHON_SOURCES.filter((source) => seen.has(source));
  const notes: string[] = [];
  if (known.length) {
    notes.push(
      `Python tasks came from ${known.map((source) => KNOWN[source]).join('; ')}; no code changes (--no-auto-tasks, the setting taskMemory.autoTasks or TASKMEM_AUTO_TASKS=0 turns this off).`,
    );
  }
  if (seen.has('flask') || seen.has('django')) {
    notes.push(
      'Requests overlap: a request is traced only when it can run alone (those in flight end first, new ones wait for it), and a traced request that another arrived during is counted without a figure, so per-request figures come from requests that ran alone.',
    );
  }
  if (seen.has('rq-fork')) {
    notes.push(
      "RQ's default Worker forked a work-horse per job: jobs ran there, not in the profiled worker, so they have no figures (what a job keeps ends with its horse; the worker itself does not grow from it). To measure what each job keeps, run the worker with --worker-class rq.worker.SimpleWorker.",
    );
  }
  return notes;
}

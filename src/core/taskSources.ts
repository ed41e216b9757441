/**
 * Where a Python worker's task marks came from: the agent reports the hooks that marked tasks
 * (`Taskmem.getStats().taskSources`), and the report names them, with what each means for the
 * per-task figures. Pure.
 */

const SOURCES: Record<string, string> = {
  celery: "Celery's task signals (task_prerun / task_postrun), named by task",
  rq: 'RQ jobs (rq.job.Job.perform), named by function',
  flask: "Flask's request signals, named by method and URL rule",
  django: "Django's request signals, named by method and URL pattern",
};
const ORDER = Object.keys(SOURCES);

/** The notes for the sources seen across Python targets (none when there were none). */
export function pythonTaskSourceNotes(sources: Iterable<string>): string[] {
  const seen = new Set(sources);
  const known = ORDER.filter((source) => seen.has(source));
  const notes: string[] = [];
  if (known.length) {
    notes.push(`Python tasks came from ${known.map((source) => SOURCES[source]).join('; ')}; no code changes (TASKMEM_AUTO_TASKS=0 turns this off).`);
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

/** Python through our agent (agents/python): what the runtime is, without a process. */
import { pythonTaskSourceNotes } from '../../core/taskSources';
import type { RuntimeDescription } from '../adapter';
import { PythonAdapter } from './adapter';
import { agentEndpoint } from './endpoint';

export const pythonRuntime: RuntimeDescription = {
  kind: 'python',
  label: 'Python',
  endpoint: agentEndpoint,
  harness: {
    measurement: 'capture-per-run',
    whyRuns: 'around-measured-runs',
    launch: (spec, options) => {
      const python = options.pythonPath ?? 'python3';
      return { command: [python, '-m', 'taskmem_agent.harness'], shell: false, env: {}, display: `${python} harness for ${spec.file}` };
    },
  },
  // tracemalloc knows the exact line, but keeps no allocation order (ordinal 0): per-run growth comes from successive captures.
  sitePrecision: 'line',
  orderedSamples: false,
  // Untraced tasks arrive as counts, but the report's measured share is the agent's sampledTasks/totalTasks.
  tracksTaskCounts: false,
  // The agent names its request tasks' source (flask, django) itself.
  requestTasksByName: false,
  // An agent that predates Taskmem.taskSource still marks tasks (Celery signals).
  markedTaskSource: 'python-agent',
  workerNotes: ({ sawTaskMarks, taskSources }) => [
    ...pythonTaskSourceNotes(taskSources),
    ...(sawTaskMarks
      ? ["Python workers: a task's figure is what its sampled runs kept (traced after gc.collect()); memory that a later task frees is not subtracted."]
      : [
          // Without tasks the agent traces the whole run (script mode), which costs far more than tracing sampled tasks.
          'No Python tasks were seen (no Celery, RQ, Flask or Django task ran): the agent traced the whole run with tracemalloc, which slows a busy program several times over.',
        ]),
  ],
  adapter: (context) => new PythonAdapter(context),
};

/** Node through V8's inspector: what the runtime is, without a process. */
import { harnessPath } from '../../launch/assets';
import type { RuntimeDescription } from '../adapter';
import { NodeAdapter } from './adapter';
import { inspectorEndpoint } from './endpoint';

/** A Node binary: ours unless we run inside Electron (VS Code desktop), where `node` on PATH is used. */
function nodeExecutable(): string {
  return process.versions.electron ? 'node' : process.execPath;
}

export const nodeRuntime: RuntimeDescription = {
  kind: 'node',
  label: 'Node',
  endpoint: inspectorEndpoint,
  harness: {
    measurement: 'budgeted-profiles',
    whyRuns: 'extra-runs',
    launch: (spec) => ({
      command: [nodeExecutable(), harnessPath()],
      shell: false,
      env: { TASKMEM_HARNESS: JSON.stringify({ file: spec.file, exportName: spec.exportName, args: spec.args }) },
      display: `node harness for ${spec.file}`,
    }),
  },
  // V8 attributes an allocation to its function, and numbers its samples in allocation order.
  sitePrecision: 'function',
  orderedSamples: true,
  // The bootloader sends a count for every task it did not measure.
  tracksTaskCounts: true,
  requestTasksByName: true,
  // Runtime.executionContextDestroyed tells the program is done while the process waits for us.
  crashAtExitNote:
    'Node crashed (SIGSEGV) after the program had finished, while the profiler was still attached: a known fault of the Node 20 inspector at exit, not of the program. Every figure was taken before it.',
  markedTaskSource: 'marks',
  workerNotes: ({ options }) =>
    (options.preciseAttribution ?? options.mode === 'harness')
      ? []
      : [
          'Node: precise attribution is off (TurboFan inlining kept), so a site may hold the allocations of small functions inlined into it; for the exact allocating function, run with --precise.',
        ],
  adapter: (context) => new NodeAdapter(context),
};

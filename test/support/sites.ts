import type { FrameCategory, RetainedSite } from '../../src/core/model';

/** A retained site in /app/worker.js whose stack is `stack` (default: the function alone). */
export function site(fn: string, retainedBytes: number, options: { category?: FrameCategory; bytesPerRun?: number; stack?: string[] } = {}): RetainedSite {
  const category = options.category ?? 'user';
  return {
    key: `/app/worker.js:1:${fn}`,
    function: fn,
    file: '/app/worker.js',
    line: 1,
    column: 1,
    category,
    precision: 'function',
    retainedBytes,
    count: 1,
    share: 0.1,
    ...('bytesPerRun' in options ? { bytesPerRun: options.bytesPerRun } : { bytesPerRun: 100 }),
    stacks: [{ frames: (options.stack ?? [fn]).map((f) => ({ function: f, file: '/app/worker.js', line: 1, column: 1, category })), bytes: retainedBytes }],
    callers: [],
  };
}

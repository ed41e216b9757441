/**
 * What a Celery worker's command line says about recycling children, for the report: users reach
 * for --max-tasks-per-child / --max-memory-per-child, and only the prefork pool honours them.
 */

const NON_RECYCLING_POOLS = new Set(['solo', 'threads', 'gevent', 'eventlet']);

/** The value of a Celery worker option on a command line (`--name value`, `--name=value`, `-c2`). */
export function celeryOption(argv: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    for (const name of names) {
      if (arg === name) return argv[i + 1];
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
      // Celery's short options also take the value glued on: -Psolo, -c2.
      if (name.length === 2 && arg.startsWith(name) && arg.length > 2 && !arg.startsWith('--')) return arg.slice(2);
    }
  }
  return undefined;
}

export function isCeleryWorker(argv: readonly string[]): boolean {
  return argv.some((arg) => /(^|[\\/])celery$/.test(arg) || arg === 'celery') && argv.includes('worker');
}

/** A sentence for the report, or undefined when the command line is not a Celery worker. */
export function recyclingNote(argv: readonly string[]): string | undefined {
  if (!isCeleryWorker(argv)) return undefined;
  const pool = celeryOption(argv, ['--pool', '-P']) ?? 'prefork';
  const maxTasks = celeryOption(argv, ['--max-tasks-per-child']);
  const maxMemory = celeryOption(argv, ['--max-memory-per-child']);
  const set = [maxTasks && `--max-tasks-per-child ${maxTasks}`, maxMemory && `--max-memory-per-child ${maxMemory} KiB`].filter(Boolean).join(' and ');
  if (NON_RECYCLING_POOLS.has(pool)) {
    return set
      ? `The ${pool} pool ignores ${set}: only the prefork pool recycles children, so this worker keeps whatever its tasks leak until it is restarted.`
      : `The ${pool} pool never recycles: whatever its tasks leak stays until the worker is restarted.`;
  }
  if (!set)
    return 'The prefork pool recycles nothing here (no --max-tasks-per-child / --max-memory-per-child): a leaking task grows each child until it is restarted.';
  return `Children are recycled (${set}): that bounds a leak's damage but hides it; fix the leaking task and keep recycling as a safety net.`;
}

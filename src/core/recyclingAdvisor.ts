/**
 * The recycling advisor: limits for --max-tasks-per-child / --max-memory-per-child (Celery prefork)
 * and pm2's max_memory_restart, from what the session measured instead of by feel. Pure.
 *
 * Celery checks --max-memory-per-child (KiB of resident memory) after a task ends, so a child may be
 * just under it and then run its worst task: the limit leaves room for that task's peak. A limit at
 * or below what a fresh child already uses recycles every child after one task (celery#4125).
 */
import { formatBytes, formatGrowthPer, formatSpan } from './format';

const KIB = 1024;
const MIB = 1024 * KIB;
/** Room kept under the memory limit for what the measurement did not see (other processes' pages, fragmentation). */
const SAFETY_SHARE = 0.1;
/** Recycling more often than every this many tasks spends a noticeable share of the time forking and warming up. */
const FEW_TASKS = 10;

export type LimitSource = 'setting' | 'cgroup' | 'ram-per-child';

export interface RecyclingInput {
  /** Resident memory of a child when fresh (before its first tasks), bytes. */
  freshRssBytes: number;
  /** Growth of a child's memory per task (the worker's leaks, weighted by how often each task runs), bytes. */
  growthPerTaskBytes: number;
  /** The largest rise of a child's RSS seen across one task (its peak), bytes. */
  worstTaskBytes: number;
  /** Memory one child may use, bytes, and where that figure came from. */
  limitBytes: number;
  limitSource: LimitSource;
  /** Tasks a child finished in the session, to compare with the recommended count. */
  tasksPerChild?: number;
  /** Tasks one child finished per second in the session: turns a task count into a time. */
  tasksPerSecond?: number;
  /** Which lines to offer: Celery's flags and config, or a supervisor's (pm2, a Node pool's own restart). */
  supervisor: 'celery' | 'pm2';
  /** What the worker's command line already sets, when it is Celery. */
  current?: { maxTasksPerChild?: number; maxMemoryPerChildKiB?: number };
}

export interface RecyclingAdvice {
  limitBytes: number;
  limitSource: LimitSource;
  freshRssBytes: number;
  growthPerTaskBytes: number;
  worstTaskBytes: number;
  /** Celery --max-memory-per-child, KiB; undefined when no memory limit can work (see warnings). */
  maxMemoryPerChildKiB?: number;
  /** Celery --max-tasks-per-child; undefined when children do not grow per task. */
  maxTasksPerChild?: number;
  /** That count as a time at the session's pace ("about every 2.3 days, at 120 tasks/s per child"). */
  pace?: string;
  /** Lines to paste: Celery's command line and config, pm2. */
  lines: string[];
  warnings: string[];
  /** What recycling does not fix. */
  note: string;
}

const LIMIT_SOURCE: Record<LimitSource, string> = {
  setting: 'the memory limit you set',
  cgroup: "the container's memory limit (cgroup)",
  'ram-per-child': "the machine's RAM divided among the pool's children",
};

export function adviseRecycling(input: RecyclingInput): RecyclingAdvice | undefined {
  const { freshRssBytes: fresh, limitBytes: limit } = input;
  if (![fresh, limit, input.growthPerTaskBytes, input.worstTaskBytes].every(Number.isFinite) || fresh <= 0 || limit <= 0) return undefined;
  const growth = Math.max(0, input.growthPerTaskBytes);
  const worst = Math.max(0, input.worstTaskBytes);
  const warnings: string[] = [];
  const lines: string[] = [];
  // Checked after a task ends: the child may then run its worst task before the next check.
  const memoryCap = limit * (1 - SAFETY_SHARE) - worst;
  let maxMemoryPerChildKiB: number | undefined;
  if (memoryCap <= fresh) {
    warnings.push(
      `A fresh child already uses ${formatBytes(fresh)} and its worst task adds ${formatBytes(worst)}, against ${formatBytes(limit)} per child (${LIMIT_SOURCE[input.limitSource]}): ` +
        'no --max-memory-per-child fits. A limit at or below a fresh child recycles every child after one task. Give each child more memory or run fewer children (-c).',
    );
  } else {
    maxMemoryPerChildKiB = Math.floor(memoryCap / KIB);
  }
  let maxTasksPerChild: number | undefined;
  if (growth > 0 && maxMemoryPerChildKiB !== undefined) {
    maxTasksPerChild = Math.max(1, Math.floor((maxMemoryPerChildKiB * KIB - fresh) / growth));
  }
  if (maxTasksPerChild !== undefined && maxTasksPerChild < FEW_TASKS) {
    warnings.push(
      `At this limit a child is replaced every ${maxTasksPerChild} task(s): forking and warming up a new child then costs a noticeable share of the worker's time. Fix the leak, or give each child more memory.`,
    );
  }
  const current = input.current;
  if (current?.maxMemoryPerChildKiB !== undefined && current.maxMemoryPerChildKiB * KIB <= fresh) {
    warnings.push(
      `--max-memory-per-child ${current.maxMemoryPerChildKiB} (KiB) is at or below a fresh child's ${formatBytes(fresh)}: every child is replaced after its first task (celery#4125). ` +
        (maxMemoryPerChildKiB !== undefined ? `Use ${maxMemoryPerChildKiB}.` : 'Raise it above a fresh child, with room for the worst task.'),
    );
  }
  if (current?.maxTasksPerChild !== undefined && maxTasksPerChild !== undefined && current.maxTasksPerChild > maxTasksPerChild) {
    warnings.push(
      `--max-tasks-per-child ${current.maxTasksPerChild} lets a child grow past the limit: at ${formatGrowthPer(growth, 'task')} it reaches it after about ${maxTasksPerChild} tasks.`,
    );
  }
  if (maxTasksPerChild !== undefined || maxMemoryPerChildKiB !== undefined) {
    if (input.supervisor === 'celery') {
      const flags = [
        maxTasksPerChild !== undefined ? `--max-tasks-per-child=${maxTasksPerChild}` : '',
        maxMemoryPerChildKiB !== undefined ? `--max-memory-per-child=${maxMemoryPerChildKiB}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      lines.push(`celery -A <app> worker ${flags}`);
      if (maxTasksPerChild !== undefined) lines.push(`worker_max_tasks_per_child = ${maxTasksPerChild}`);
      if (maxMemoryPerChildKiB !== undefined) lines.push(`worker_max_memory_per_child = ${maxMemoryPerChildKiB}  # KiB`);
    } else {
      if (maxMemoryPerChildKiB !== undefined) lines.push(`pm2 ecosystem.config.js: max_memory_restart: '${Math.floor(memoryCap / MIB)}M'`);
      if (maxTasksPerChild !== undefined) lines.push(`a worker pool (cluster, worker_threads, piscina): replace a worker after ${maxTasksPerChild} tasks`);
    }
  }
  const rate = input.tasksPerSecond;
  const pace =
    maxTasksPerChild !== undefined && rate !== undefined && Number.isFinite(rate) && rate > 0
      ? `about every ${formatSpan(maxTasksPerChild / rate)} at this session's pace (${formatRate(rate)} per child)`
      : undefined;
  const note = [
    growth > 0
      ? `Recycling bounds the damage of ${formatGrowthPer(growth, 'task')}; it does not fix the leak. Fix the task above and keep a limit as a safety net.`
      : 'Children do not grow per task: a memory limit is a safety net for the worst task, not a fix for a leak.',
    // The whole machine is a ceiling, not a budget: say where the figure came from and how to give the real one.
    ...(input.limitSource === 'ram-per-child'
      ? [
          "No memory limit was given and none is set on the container, so the machine's RAM divided among the children stands in: give each child's real budget (in MiB) with --memory-limit.",
        ]
      : []),
  ].join(' ');
  return {
    limitBytes: limit,
    limitSource: input.limitSource,
    freshRssBytes: fresh,
    growthPerTaskBytes: growth,
    worstTaskBytes: worst,
    ...(maxMemoryPerChildKiB !== undefined ? { maxMemoryPerChildKiB } : {}),
    ...(maxTasksPerChild !== undefined ? { maxTasksPerChild } : {}),
    ...(pace ? { pace } : {}),
    lines,
    warnings,
    note,
  };
}

/** "120 tasks/s", "3.5 tasks/min": a child's pace in the unit that reads best. */
function formatRate(perSecond: number): string {
  if (perSecond >= 1) return `${perSecond >= 10 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toFixed(1)} tasks/s`;
  const perMinute = perSecond * 60;
  return perMinute >= 1 ? `${perMinute.toFixed(1)} tasks/min` : `${(perMinute * 60).toFixed(1)} tasks/h`;
}

/** The worker's growth per task: each leaking task's growth, weighted by its share of the tasks. */
export function growthPerTask(tasks: ReadonlyArray<{ runs: number; bytesPerRun: number; leaks: boolean }>): number {
  const total = tasks.reduce((sum, task) => sum + task.runs, 0);
  if (total <= 0) return 0;
  return tasks.reduce((sum, task) => sum + (task.leaks && task.bytesPerRun > 0 ? task.bytesPerRun * task.runs : 0), 0) / total;
}

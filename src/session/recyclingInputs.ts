/**
 * What the recycling advisor needs from a worker session: each child's RSS when fresh and its
 * largest rise across a task, the worker's growth per task, and the memory a child may use (the
 * user's setting, else the cgroup's limit, else RAM divided among the children). The I/O lives here;
 * the advice is pure (core/recyclingAdvisor.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { HeapStatsPoint, TaskSummary } from '../core/model';
import { celeryOption, isCeleryWorker } from '../core/recycling';
import { adviseRecycling, growthPerTask, type LimitSource, type RecyclingAdvice } from '../core/recyclingAdvisor';
import { median } from '../core/robust';

/** cgroup v2 memory.max, else v1 memory.limit_in_bytes; undefined when unlimited or unreadable. */
export function cgroupMemoryLimit(read: (file: string) => string = (file) => fs.readFileSync(file, 'utf8')): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const value = Number(read(file).trim());
      // v1 reports "no limit" as a huge page-aligned number.
      if (Number.isFinite(value) && value > 0 && value < 2 ** 60) return value;
    } catch {
      // not this cgroup version
    }
  }
  return undefined;
}

export interface RecyclingSessionData {
  argv: readonly string[];
  tasks: readonly TaskSummary[];
  statsByTarget: ReadonlyMap<string, readonly HeapStatsPoint[]>;
  /** The user's memory limit per child, bytes (setting or --memory-limit). */
  memoryLimitBytes?: number;
}

export function recyclingAdvice(data: RecyclingSessionData): RecyclingAdvice | undefined {
  const childIds = new Set(data.tasks.flatMap((task) => task.series.map((run) => run.targetId)).filter((id): id is string => id !== undefined));
  const children = [...data.statsByTarget.entries()].filter(([id]) => childIds.size === 0 || childIds.has(id));
  const fresh: number[] = [];
  const rises: number[] = [];
  let childSeconds = 0;
  for (const [, points] of children) {
    const rss = points.map((point) => point.rss).filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0);
    if (rss.length < 2) continue;
    fresh.push(rss[0]);
    childSeconds += Math.max(0, points[points.length - 1].t - points[0].t) / 1000;
    for (let i = 1; i < rss.length; i++) rises.push(rss[i] - rss[i - 1]);
  }
  if (fresh.length === 0 || data.tasks.length === 0) return undefined;
  let limit = data.memoryLimitBytes;
  let source: LimitSource = 'setting';
  if (limit === undefined) {
    limit = cgroupMemoryLimit();
    source = 'cgroup';
    if (limit !== undefined) limit /= Math.max(1, fresh.length);
  }
  if (limit === undefined) {
    limit = os.totalmem() / Math.max(1, fresh.length);
    source = 'ram-per-child';
  }
  const maxTasks = Number(celeryOption(data.argv, ['--max-tasks-per-child']));
  const maxMemory = Number(celeryOption(data.argv, ['--max-memory-per-child']));
  const runs = data.tasks.reduce((sum, task) => sum + task.runs, 0);
  return adviseRecycling({
    freshRssBytes: median(fresh),
    growthPerTaskBytes: growthPerTask(data.tasks.map((task) => ({ runs: task.runs, bytesPerRun: task.bytesPerRun, leaks: task.verdict.kind === 'leak' }))),
    worstTaskBytes: Math.max(0, ...rises),
    limitBytes: limit,
    limitSource: source,
    supervisor: isCeleryWorker(data.argv) ? 'celery' : 'pm2',
    tasksPerChild: runs / fresh.length,
    ...(childSeconds > 0 ? { tasksPerSecond: runs / childSeconds } : {}),
    current: {
      ...(Number.isFinite(maxTasks) && maxTasks > 0 ? { maxTasksPerChild: maxTasks } : {}),
      ...(Number.isFinite(maxMemory) && maxMemory > 0 ? { maxMemoryPerChildKiB: maxMemory } : {}),
    },
  });
}

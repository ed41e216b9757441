/**
 * What measuring a task costs the program, for the GC budget of the task marks (taskMarks.ts).
 *
 * A forced full GC costs far more than its own pause: optimized code that embedded objects the GC
 * freed is thrown away (V8's "weak objects" deopts) and the program runs cold until V8 optimizes it
 * again. Measured on this machine: on a busy HTTP server one `gc()` of ~4 ms cost ~85 ms of
 * throughput; on an allocation-heavy loop one of ~3.4 ms cost ~12 ms. Charging only the pause let
 * a "1%" budget slow a server by 20%.
 *
 * So each measurement is charged what it cost in throughput: the tasks finished from its first GC
 * until a while after its last one, against the rate of the quiet stretch before it. The pause is
 * the floor. A program that idles between tasks (a paced worker) loses no throughput, and a loss
 * within the granularity of a couple of tasks is not counted: it is noise, not re-warming.
 * Pure: the caller passes the clock and the count of finished tasks.
 */

/** How long after a measurement its cost is still being paid (re-warming), at least. */
export const COST_WINDOW_MS = 500;
/** Tasks a stretch needs before its rate (or its loss) means anything. */
export const COST_WINDOW_TASKS = 30;
/** A loss within this many tasks' time is the window's granularity, not a cost. */
const NOISE_TASKS = 2;

interface Probe {
  startedAt: number;
  tasksAtStart: number;
  /** Wall time per finished task in the quiet stretch before: unknown when it was too short. */
  msPerTask: number | undefined;
  /** The pauses of its GCs, charged as they happen. */
  gcMs: number;
  endedAt: number | undefined;
}

export class MeasurementCost {
  private spentMs = 0;
  /** What the last measurement cost: the admission test assumes the next costs as much. */
  private lastCostMs = 0;
  private quietSince: number;
  private quietTasks = 0;
  private probe: Probe | undefined;

  constructor(
    private readonly startedAt: number,
    /** Share of wall time measurements may cost (0.01 = 1%). */
    private readonly budget: number,
    /** Cost allowed before the budget has accrued any (the first tasks of a worker). */
    private readonly allowanceMs: number,
  ) {
    this.quietSince = startedAt;
  }

  /** Whether a measurement may start now and stay within the budget. */
  allows(now: number): boolean {
    return this.spentMs + this.lastCostMs <= this.budget * (now - this.startedAt) + this.allowanceMs;
  }

  /** Cost charged so far (ms). */
  get spent(): number {
    return this.spentMs;
  }

  /** A measurement begins (before its first GC); `tasksFinished` counts every task so far. */
  started(now: number, tasksFinished: number): void {
    // A measurement that starts before the last one's window closed ends that window here.
    if (this.probe) this.settle(now, tasksFinished);
    const quietMs = now - this.quietSince;
    const quietTasks = tasksFinished - this.quietTasks;
    const measurable = quietMs >= COST_WINDOW_MS && quietTasks >= COST_WINDOW_TASKS;
    this.probe = { startedAt: now, tasksAtStart: tasksFinished, msPerTask: measurable ? quietMs / quietTasks : undefined, gcMs: 0, endedAt: undefined };
  }

  /** One of the measurement's GCs took `ms`. */
  paused(ms: number): void {
    this.spentMs += ms;
    if (this.probe) this.probe.gcMs += ms;
  }

  /** The measurement's last GC is done; its cost is known once the window after it has passed. */
  ended(now: number): void {
    if (!this.probe) return;
    this.probe.endedAt = now;
    this.lastCostMs = Math.max(this.lastCostMs, this.probe.gcMs);
  }

  /** Whether finished tasks are being counted for a measurement's cost (callers skip the clock otherwise). */
  get watching(): boolean {
    return this.probe?.endedAt !== undefined;
  }

  /** A task finished (any task, measured or not). */
  taskFinished(now: number, tasksFinished: number): void {
    const probe = this.probe;
    if (probe?.endedAt === undefined) return;
    if (now - probe.endedAt < COST_WINDOW_MS || tasksFinished - probe.tasksAtStart < COST_WINDOW_TASKS) return;
    this.settle(now, tasksFinished);
  }

  private settle(now: number, tasksFinished: number): void {
    const probe = this.probe;
    if (!probe) return;
    this.probe = undefined;
    let cost = probe.gcMs;
    if (probe.msPerTask !== undefined) {
      const elapsed = now - probe.startedAt;
      // The time the tasks finished meanwhile would have taken at the rate before.
      const expected = (tasksFinished - probe.tasksAtStart) * probe.msPerTask;
      const lost = elapsed - expected;
      if (lost > NOISE_TASKS * probe.msPerTask) cost = Math.min(Math.max(lost, probe.gcMs), elapsed);
    }
    this.spentMs += cost - probe.gcMs;
    this.lastCostMs = cost;
    this.quietSince = now;
    this.quietTasks = tasksFinished;
  }
}

/**
 * Worker mode (and attach): the program runs its own tasks. Task marks (diagnostics_channel in
 * Node, Celery signals in Python) give per-task figures; without marks, fixed time windows stand in
 * for tasks. Retained captures run periodically and at the end, so sites and their growth per task
 * are known even for a worker that is killed.
 */
import type { DriverHost } from './driver';
import type { SessionDriver } from './driver';
import type { Target } from './target';
import { DEFAULTS } from './defaults';
import { withTimeout } from './withTimeout';
import { recyclingNote } from '../core/recycling';
import { isRequestTaskName } from '../launch/httpTasks';
import { describeTaskSources } from '../core/taskSources';
import { validProbes } from '../core/persistence';
import { allRuntimes } from '../runtimes/registry';

/** Periodic retained captures cost a full GC: not more often than this. */
const CAPTURE_INTERVAL_MS = 10_000;
/**
 * Captures after the first task, before the periodic ones: the first learns the scripts
 * (Debugger.scriptParsed) while their code is alive, and a worker that ends within seconds still has
 * its sites from a capture taken while it ran (at exit its data may already be unreachable).
 */
const EARLY_CAPTURES_MS = [100, 300, 1000, 3000];
/** Checkpoints can come hundreds a second; the views hear of changed trends at most this often. */
const UPDATE_MS = 500;
const FINAL_CAPTURE_TIMEOUT_MS = 15_000;
/** Why a program that threw has no capture at exit. */
export const EXCEPTION_EXIT_NOTE =
  'The program ended with an uncaught exception: no capture at exit (Node waits for the profiler before it prints the error, and is let go at once); sites are from the last capture while it ran.';
/** How long a program that ended waits for its capture at exit before we let it go. */
const EXIT_CAPTURE_TIMEOUT_MS = 5_000;
const WINDOW_TASK = '(time window)';

export class WorkerModeDriver implements SessionDriver {
  private readonly timers: NodeJS.Timeout[] = [];
  private sawTaskMarks = false;
  /** Tasks the bootloader made of HTTP requests (no marks of the program's own). */
  private sawRequests = false;
  private windows = 0;
  /** Where the tasks came from, as the targets said (Taskmem.taskSource). */
  private readonly sources = new Set<string>();
  private captureRunning: Promise<void> | undefined;
  private readonly extraNotes = new Set<string>();
  private readonly sampledInfo = new Map<string, { sampled: number; total: number }>();
  /** Runtimes that count every task (tracksTaskCounts): how many tasks ended, and how many of them were measured. */
  private countedTasks = { measured: 0, total: 0 };
  /** The labels of the runtimes whose tasks `countedTasks` counts ("Node"). */
  private readonly countedBy = new Set<string>();

  private readonly earlyCaptures: NodeJS.Timeout[] = [];
  /** Sampled bytes of each target's last recorded capture. */
  private readonly sampledBytes = new Map<string, number>();

  /** Task names whose trend changed since the views were last told (at most every UPDATE_MS). */
  private readonly pendingUpdates = new Set<string>();
  private updateTimer: NodeJS.Timeout | undefined;

  /** Every target watched, kept after it exits for what it measured last (malloc_trim). */
  private readonly watched: Target[] = [];
  /** Node targets whose program had finished (its context was torn down) before the process exited. */
  private readonly finishedScripts = new Set<string>();
  /** Targets whose program an uncaught exception ended: its end is not "finished", whatever the exit code says. */
  private readonly failedScripts = new Set<string>();

  constructor(private readonly session: DriverHost) {}

  private scheduleUpdates(): void {
    if (this.updateTimer) return;
    this.updateTimer = setTimeout(() => {
      this.updateTimer = undefined;
      const names = [...this.pendingUpdates];
      this.pendingUpdates.clear();
      for (const name of names) this.session.taskUpdated(this.session.tasks.summary(name));
    }, UPDATE_MS);
    this.updateTimer.unref?.();
  }

  /** HTTP requests as tasks (the bootloader's): they overlap, which the per-name trend cannot see through. */
  private noteRequests(): void {
    this.sawRequests = true;
    this.session.tasks.noteOverlappingTasks();
  }

  private scheduleEarlyCapture(): void {
    if (this.earlyCaptures.length) return;
    for (const delay of EARLY_CAPTURES_MS) {
      const timer = setTimeout(() => {
        if (this.session.state === 'running') void this.captureAll('first tasks');
      }, delay);
      timer.unref?.();
      this.earlyCaptures.push(timer);
    }
  }

  watch(target: Target): void {
    const session = this.session;
    this.watched.push(target);
    target.onCheckpoint((checkpoint) => {
      this.sawTaskMarks = true;
      this.scheduleEarlyCapture();
      const rows = session.tasks.addCheckpoint(target.id, checkpoint);
      for (const name of rows.updated) this.pendingUpdates.add(name);
      for (const name of rows.removed) {
        this.pendingUpdates.delete(name);
        session.taskRemoved(name);
      }
      this.scheduleUpdates();
    });
    target.onTaskStarted((event) => {
      this.sawTaskMarks = true;
      this.scheduleEarlyCapture();
      session.tasks.noteStarted();
      session.mark({ t: session.now(), targetId: target.id, kind: 'task-start', label: event.name });
    });
    target.onTaskFinished((event) => {
      this.sawTaskMarks = true;
      // Python's request tasks are named alike; their source is the agent's (taskSources below).
      if (!this.sawRequests && target.runtimeInfo.requestTasksByName && isRequestTaskName(event.name)) this.noteRequests();
      session.mark({ t: session.now(), targetId: target.id, kind: 'task-end', label: event.name });
      const measured = event.sampled === false ? undefined : event.retainedBytes;
      if (target.runtimeInfo.tracksTaskCounts) {
        this.countedBy.add(target.runtimeInfo.label);
        this.countedTasks.total++;
        if (measured !== undefined) this.countedTasks.measured++;
      }
      // Both runtimes report what a sampled task kept itself (Node: heap after a GC at its end
      // minus after a GC at its start; Python: traced allocations still alive).
      if (session.tasks.addKeptTask(event.name, target.id, measured, event.durationMs ?? 0, event.rss, validProbes(event.persistence))) {
        this.pendingUpdates.add(event.name);
        this.scheduleUpdates();
      }
      this.stopWhenEnoughTasks();
    });
    target.onTaskSource((source) => {
      this.sources.add(source);
      // BullMQ jobs overlap like requests: its Worker runs `concurrency` jobs at once, and the hooked
      // call ends after BullMQ has already taken the next job. A clean job was charged a 4.3 KB/job
      // leak (the leaking one "no leak") in 1 of 3 CI runs before its jobs were judged as a group first.
      if (source === 'bullmq') this.session.tasks.noteOverlappingTasks();
    });
    target.onTaskFunctions((event) => session.tasks.addHandlers(event.name, event.functions));
    target.onTaskCounts((counts) => {
      this.sawTaskMarks = true;
      if (!this.sawRequests && target.runtimeInfo.requestTasksByName && Object.keys(counts).some(isRequestTaskName)) this.noteRequests();
      const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
      session.tasks.addUnmeasured(total);
      if (target.runtimeInfo.tracksTaskCounts) {
        this.countedBy.add(target.runtimeInfo.label);
        this.countedTasks.total += total;
      }
      this.stopWhenEnoughTasks();
    });
    target.onUncaughtException(() => this.failedScripts.add(target.id));
    target.onContextDestroyed(() => {
      this.finishedScripts.add(target.id);
      // After an uncaught exception Node waits for us before it prints the error: a capture then (a
      // full GC in the exception's teardown) only delays the error and risks Node's crash at exit,
      // which would take the printed error with it. Let go at once. (The crash was still seen once
      // after this, in an e2e run: the error Node reported to us is what the views lead with.)
      if (this.failedScripts.has(target.id)) {
        this.extraNotes.add(EXCEPTION_EXIT_NOTE);
        target.dispose();
        return;
      }
      // Node waits for us to disconnect after its main script ends: the last chance to capture.
      // A capture that was in flight as the program ended may never be answered (a full GC in a
      // context being torn down hangs), and the process waits for us: never wait on it for long.
      void withTimeout(this.captureTarget(target, 'at exit', false), EXIT_CAPTURE_TIMEOUT_MS).finally(() => target.dispose());
    });
  }

  private stopWhenEnoughTasks(): void {
    const max = this.session.options.maxTasks;
    if (max !== undefined && this.session.tasks.finished >= max) void this.session.stop(`${max} tasks finished`);
  }

  run(): Promise<void> {
    const session = this.session;
    const duration = session.options.durationSec;
    if (duration !== undefined && duration > 0) this.timers.push(setTimeout(() => void session.stop(`${duration} s elapsed`), duration * 1000));
    const windowMs = session.options.windowMs ?? DEFAULTS.windowMs;
    this.timers.push(setInterval(() => void this.tick(), Math.min(windowMs, CAPTURE_INTERVAL_MS)));
    for (const timer of this.timers) timer.unref?.();
    return Promise.resolve();
  }

  private async tick(): Promise<void> {
    if (this.session.state !== 'running') return;
    await this.captureAll(this.sawTaskMarks ? 'periodic' : 'window');
  }

  async captureAll(reason: string): Promise<void> {
    if (this.captureRunning) return this.captureRunning;
    const targets = this.session.liveTargetList();
    this.captureRunning = Promise.all(targets.map((target) => this.captureTarget(target, reason, true)))
      .then(() => undefined)
      .finally(() => (this.captureRunning = undefined));
    return this.captureRunning;
  }

  private async captureTarget(target: Target, reason: string, collect: boolean): Promise<void> {
    const session = this.session;
    try {
      session.progress({ message: `Retained capture (${reason})…` });
      const capture = await target.capture({ collect });
      const progress = this.sawTaskMarks ? session.tasks.finished : this.windows;
      if (capture.sampledTasks !== undefined && capture.totalTasks !== undefined) {
        this.sampledInfo.set(target.id, { sampled: capture.sampledTasks, total: capture.totalTasks });
      }
      // At exit a module's data may already be unreachable (its loop finished): a capture that lost
      // most of what the last one held describes the teardown, not the worker.
      const previous = this.sampledBytes.get(target.id) ?? 0;
      const now = sampledBytes(capture.profile);
      if (!collect && previous > 0 && now < 0.5 * previous) {
        this.extraNotes.add('At exit most retained memory had become unreachable (the program ended); sites are from the last capture while it ran.');
        return;
      }
      this.sampledBytes.set(target.id, now);
      await session.recordCapture(target, capture.profile, progress);
      if (!this.sawTaskMarks && reason === 'window') {
        this.windows++;
        const summary = session.tasks.addWorkerTask(WINDOW_TASK, target.id, capture.retainedAfterGc, 0);
        if (summary) session.taskUpdated(summary);
        this.extraNotes.add('No task marks were seen: fixed time windows stand in for tasks (see docs on marking tasks).');
      }
    } catch (error) {
      if (target.alive) session.warn(`capture of ${target.info.title} failed: ${(error as Error).message}`);
    }
  }

  async commandExited(how: string, code: number | null): Promise<void> {
    const reason = `the command ${how}`;
    const known = code === 0 ? undefined : this.knownCrashAfterProgramEnded(how, code);
    if (code === 0) await this.session.stop(reason);
    else if (known) {
      this.extraNotes.add(known.note);
      await this.session.stop(`${reason} (${known.label} crashed at exit, after the program had finished)`);
    } else await this.session.fail(reason);
  }

  /**
   * A runtime may crash at exit with the profiler attached through no fault of the program (Node
   * 20's inspector can segfault in process.exit(), README, known issue). When every process of such
   * a runtime had finished its program first, the crash is ours to explain, not the user's failure.
   * Through a shell or npm the signal arrives as exit code 128 + 11.
   */
  private knownCrashAfterProgramEnded(how: string, code: number | null): { label: string; note: string } | undefined {
    const segfault = how === 'killed by SIGSEGV' || code === 128 + 11;
    const exposed = this.watched.filter((target) => target.runtimeInfo.crashAtExitNote !== undefined);
    // A program that threw first failed: the crash after it must not hide its error (a worker that
    // failed at start was once reported as finished, its own error lost to the segfault).
    const finished = (target: Target): boolean => this.finishedScripts.has(target.id) && !this.failedScripts.has(target.id);
    if (!segfault || !exposed.length || !exposed.every(finished)) return undefined;
    const runtime = exposed[0].runtimeInfo;
    return runtime.crashAtExitNote ? { label: runtime.label, note: runtime.crashAtExitNote } : undefined;
  }

  async finalCapture(): Promise<void> {
    await withTimeout(this.captureAll('final'), FINAL_CAPTURE_TIMEOUT_MS);
  }

  /** Where RSS goes, as each runtime can say (Node: its heap, outside it and the rest; Python: high water, with --malloc-trim). */
  private memoryNotes(): string[] {
    const notes: string[] = [];
    for (const target of this.watched) {
      const note = target.memoryNote(this.session.statsPointsOf(target.id));
      if (note) notes.push(note);
    }
    return notes.slice(0, 8);
  }

  /** What the tasks were, for the report: the sources the targets named, else time windows. */
  taskSource(): string | undefined {
    const sources = new Set(this.sources);
    // Targets that mark tasks without naming their source (a Python agent that predates
    // Taskmem.taskSource marks Celery tasks): their runtime's default.
    if (this.sawTaskMarks && !sources.size) for (const target of this.watched) sources.add(target.runtimeInfo.markedTaskSource);
    if (this.windows > 0) sources.add('windows');
    return describeTaskSources(sources);
  }

  notes(): string[] {
    const notes = [...this.extraNotes, ...this.memoryNotes()];
    const command = this.session.options.command ?? [];
    const recycling = recyclingNote(this.session.options.shell ? command.join(' ').split(/\s+/) : command);
    if (recycling) notes.push(recycling);
    const samples = this.session.retainedSampleCount();
    if (samples < 20) {
      notes.push(
        `Only ${samples} retained heap sample(s) at one per ${Math.round(this.session.samplingIntervalBytes / 1024)} KiB: too few to name sites reliably. For a short run, sample finer (--sampling-interval 32768) or run longer.`,
      );
    }
    if (this.sawRequests) {
      notes.push(
        "Tasks are the HTTP requests the server handled (Node's http diagnostics channels), named by method and route. Requests overlap: one measured between two GCs may hold what others allocated meanwhile, so the verdicts rest on the trend of the retained heap against the requests finished. To name tasks yourself, publish taskmem:task marks (then requests are not marked).",
      );
    }
    if (this.countedTasks.total) {
      const budget = Math.round((this.session.options.taskGcBudget ?? DEFAULTS.taskGcBudget) * 100);
      notes.push(
        `${[...this.countedBy].join(' and ')} tasks: ${this.countedTasks.measured} of ${this.countedTasks.total} were measured between two full GCs, as often as the GCs could take at most ${budget}% of the time (--gc-budget); for more measured runs, run longer or raise the budget.`,
      );
    }
    for (const runtime of allRuntimes()) {
      if (!this.session.targets.some((target) => target.runtime === runtime.kind)) continue;
      const taskSources = this.watched.flatMap((target) => (target.runtimeInfo === runtime ? target.taskSources : []));
      notes.push(...runtime.workerNotes({ options: this.session.options, sawTaskMarks: this.sawTaskMarks, taskSources }));
    }
    for (const [targetId, info] of this.sampledInfo) {
      if (info.sampled < info.total) {
        notes.push(
          `${targetId}: sites come from ${info.sampled} traced task(s) of ${info.total} (about one in ${Math.round(info.total / Math.max(1, info.sampled))}, as the sampling allowed); bytes are what those tasks kept, not scaled.`,
        );
      }
    }
    return notes;
  }

  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
    for (const timer of this.earlyCaptures) clearTimeout(timer);
    if (this.updateTimer) clearTimeout(this.updateTimer);
  }
}

function sampledBytes(profile: { samples?: ReadonlyArray<{ size: number }> }): number {
  let bytes = 0;
  for (const sample of profile.samples ?? []) bytes += sample.size;
  return bytes;
}

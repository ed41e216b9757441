/**
 * Heap snapshots through the inspector, read as they stream: `HeapProfiler.takeHeapSnapshot` sends
 * the snapshot as `addHeapSnapshotChunk` events before it answers; each chunk goes to a worker thread
 * (./snapshotWorker.ts) that parses it as it arrives, so the whole text is never held and the graph
 * never lives on the session's thread. The snapshot's own full GC runs first.
 */
import { Worker } from 'node:worker_threads';
import type { CdpClient } from '../../cdp/connection';
import type { WhyRetained } from '../../core/why/model';
import { snapshotWorkerPath } from '../../launch/assets';
import type { SnapshotWorkerReply, SnapshotWorkerRequest } from './snapshotMessages';

export interface SnapshotProgress {
  /** V8's progress building the snapshot (objects), then the chunks read. */
  (done: number, total: number): void;
}

/** What the task marks in the process have counted (src/launch/taskMarks.ts), read with each snapshot. */
const TASKS_FINISHED = 'globalThis.__taskmemTasksFinished?.()';

/** One target's snapshots: a baseline, then what the runs since it kept. */
export class HeapSnapshotReader {
  private worker: Worker | undefined;
  /** Tasks the process had finished when the baseline was taken (undefined: it counts none). */
  private baselineFinished: number | undefined;
  private pending: { resolve: (reply: SnapshotWorkerReply) => void; reject: (error: Error) => void } | undefined;

  constructor(private readonly client: CdpClient) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(snapshotWorkerPath());
    worker.on('message', (reply: SnapshotWorkerReply) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(reply);
    });
    const fail = (error: Error): void => {
      this.worker = undefined;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the heap snapshot reader stopped (exit code ${code})`)));
    // The session's process may end while a snapshot is read.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private post(message: SnapshotWorkerRequest): void {
    this.start().postMessage(message);
  }

  /**
   * The reader's answer, and how long the target was paused (building and sending the snapshot).
   * `end` is told the tasks the process had finished as the snapshot was taken: the count is asked
   * in the same round trip, just before it (the target answers in order, no task runs in between),
   * where the session's own count lags by the task counts still batched in the process.
   */
  private async snapshot(
    end: (finished: number | undefined) => SnapshotWorkerRequest & { type: 'end' },
    progress: SnapshotProgress,
  ): Promise<{ answer: SnapshotWorkerReply; pauseMs: number; finished: number | undefined }> {
    this.post({ type: 'begin' });
    const chunks = this.client.on('HeapProfiler.addHeapSnapshotChunk', (event) => this.post({ type: 'chunk', text: event.chunk }));
    const steps = this.client.on('HeapProfiler.reportHeapSnapshotProgress', (event) => progress(event.done, event.total));
    const started = performance.now();
    const counted = this.client.send('Runtime.evaluate', { expression: TASKS_FINISHED, silent: true, returnByValue: true }).catch(() => undefined);
    try {
      await this.client.send('HeapProfiler.takeHeapSnapshot', { reportProgress: true, captureNumericValue: false });
    } finally {
      chunks.dispose();
      steps.dispose();
    }
    const value: unknown = (await counted)?.result.value;
    const finished = typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
    const reply = new Promise<SnapshotWorkerReply>((resolve, reject) => (this.pending = { resolve, reject }));
    this.post(end(finished));
    const pauseMs = performance.now() - started;
    const answer = await reply;
    if (answer.type === 'failed') throw new Error(`the heap snapshot could not be read: ${answer.message}`);
    return { answer, pauseMs, finished };
  }

  async baseline(): Promise<void> {
    this.baselineFinished = (
      await this.snapshot(
        () => ({ type: 'end', role: 'baseline' }),
        () => undefined,
      )
    ).finished;
  }

  /**
   * What the runs since the baseline kept; `pauseMs` is how long the target was paused for the
   * snapshot. `runs` is the caller's count; the tasks the process itself counted between the two
   * snapshots replace it when it counted any.
   */
  async explain(runs: number, progress: SnapshotProgress): Promise<WhyRetained> {
    const counted = (finished: number | undefined): number => {
      const since = finished !== undefined && this.baselineFinished !== undefined ? finished - this.baselineFinished : 0;
      return since >= 1 ? since : runs;
    };
    const { answer, pauseMs } = await this.snapshot((finished) => ({ type: 'end', role: 'later', runs: counted(finished) }), progress);
    if (answer.type !== 'explained') throw new Error('the heap snapshot reader answered out of turn');
    return { ...answer.why, pauseMs };
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

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

/** One target's snapshots: a baseline, then what the runs since it kept. */
export class HeapSnapshotReader {
  private worker: Worker | undefined;
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

  /** The reader's answer, and how long the target was paused (building and sending the snapshot). */
  private async snapshot(end: SnapshotWorkerRequest & { type: 'end' }, progress: SnapshotProgress): Promise<{ answer: SnapshotWorkerReply; pauseMs: number }> {
    this.post({ type: 'begin' });
    const chunks = this.client.on('HeapProfiler.addHeapSnapshotChunk', (event) => this.post({ type: 'chunk', text: event.chunk }));
    const steps = this.client.on('HeapProfiler.reportHeapSnapshotProgress', (event) => progress(event.done, event.total));
    const started = performance.now();
    try {
      await this.client.send('HeapProfiler.takeHeapSnapshot', { reportProgress: true, captureNumericValue: false });
    } finally {
      chunks.dispose();
      steps.dispose();
    }
    const reply = new Promise<SnapshotWorkerReply>((resolve, reject) => (this.pending = { resolve, reject }));
    this.post(end);
    const pauseMs = performance.now() - started;
    const answer = await reply;
    if (answer.type === 'failed') throw new Error(`the heap snapshot could not be read: ${answer.message}`);
    return { answer, pauseMs };
  }

  async baseline(): Promise<void> {
    await this.snapshot({ type: 'end', role: 'baseline' }, () => undefined);
  }

  /** What the runs since the baseline kept; `pauseMs` is how long the target was paused for the snapshot. */
  async explain(runs: number, progress: SnapshotProgress): Promise<WhyRetained> {
    const { answer, pauseMs } = await this.snapshot({ type: 'end', role: 'later', runs }, progress);
    if (answer.type !== 'explained') throw new Error('the heap snapshot reader answered out of turn');
    return { ...answer.why, pauseMs };
  }

  dispose(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

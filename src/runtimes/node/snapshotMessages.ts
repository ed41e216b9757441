/** The messages between the session and its snapshot worker thread (./snapshotWorker.ts). */
import type { WhyRetained } from '../../core/why/model';

export type SnapshotWorkerRequest =
  | { type: 'begin' }
  | { type: 'chunk'; text: string }
  /** The snapshot is complete: keep its ids (`baseline`), or compare it with them (`later`). */
  | { type: 'end'; role: 'baseline' }
  | { type: 'end'; role: 'later'; runs: number };

export type SnapshotWorkerReply =
  { type: 'baseline'; nodes: number } | { type: 'explained'; why: Omit<WhyRetained, 'pauseMs'>; nodes: number } | { type: 'failed'; message: string };

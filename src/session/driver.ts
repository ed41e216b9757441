/** What the session asks of the part that decides when tasks run and when to capture. */
import type { Target } from './target';

export interface SessionDriver {
  /** Subscribes to a new target's task and GC events (before it is released to run). */
  watch(target: Target): void;
  /** The main loop; resolves when the driver has nothing more to do. */
  run(): Promise<void>;
  commandExited(how: string, code: number | null): Promise<void>;
  captureAll(reason: string): Promise<void>;
  finalCapture(): Promise<void>;
  notes(): string[];
  /** Worker and attach: where the tasks came from (marks, HTTP requests, jobs, time windows). */
  taskSource?(): string | undefined;
  dispose(): void;
}

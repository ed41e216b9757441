/**
 * Coalesces host → webview messages: statistics points are accumulated and flushed at most every
 * `intervalMs` (≤ 10 stats messages a second by default); tasks, sites, verdict, targets and state
 * keep only their latest value; marks are batched; reveal/warnings go out with the next flush.
 * Pure (no `vscode`), driven by injectable timers for tests.
 */
import type { HeapStatsPoint, SessionMark } from '../../core/model';
import type { HostMessage } from '../../shared/protocol';

export interface BatcherTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const defaultTimers: BatcherTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

type Latest = Extract<HostMessage, { type: 'tasks' | 'sites' | 'verdict' | 'targets' | 'state' }>;

export class MessageBatcher {
  private points: HeapStatsPoint[] = [];
  private marks: SessionMark[] = [];
  private latest = new Map<Latest['type'], Latest>();
  private other: HostMessage[] = [];
  private timer: unknown;
  private lastFlush = -Infinity;
  private paused = false;

  constructor(
    private readonly post: (messages: HostMessage[]) => void,
    private readonly intervalMs = 100,
    private readonly timers: BatcherTimers = defaultTimers,
  ) {}

  stats(point: HeapStatsPoint): void {
    this.points.push(point);
    this.schedule();
  }

  mark(mark: SessionMark): void {
    this.marks.push(mark);
    this.schedule();
  }

  set(message: Latest): void {
    this.latest.set(message.type, message);
    this.schedule();
  }

  send(message: HostMessage): void {
    this.other.push(message);
    this.schedule();
  }

  /** While paused (webview not ready or hidden) messages accumulate; `discard` drops them (an init follows). */
  pause(): void {
    this.paused = true;
    this.cancel();
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  discard(): void {
    this.points = [];
    this.marks = [];
    this.latest.clear();
    this.other = [];
  }

  get pending(): number {
    return this.points.length + this.marks.length + this.latest.size + this.other.length;
  }

  private schedule(): void {
    if (this.paused || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.timers.now());
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Posts everything pending now, in an order the webview can apply directly. */
  flush(): void {
    this.cancel();
    if (this.paused) return;
    const out: HostMessage[] = [];
    const targets = this.latest.get('targets');
    if (targets) out.push(targets);
    if (this.points.length) out.push({ type: 'stats', points: this.points });
    if (this.marks.length) out.push({ type: 'mark', marks: this.marks });
    for (const type of ['tasks', 'sites', 'verdict', 'state'] as const) {
      const m = this.latest.get(type);
      if (m) out.push(m);
    }
    out.push(...this.other);
    this.points = [];
    this.marks = [];
    this.latest.clear();
    this.other = [];
    this.lastFlush = this.timers.now();
    if (out.length) this.post(out);
  }

  dispose(): void {
    this.cancel();
    this.discard();
  }
}

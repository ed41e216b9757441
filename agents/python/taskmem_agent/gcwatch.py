"""Full collections as the session sees them: counts since this agent started, and a
``Taskmem.gc`` event per generation-2 collection (at most 10 a second)."""
import time

from .procinfo import gc_counts


class GcWatch:
    def __init__(self):
        # gc.get_stats() counts since the interpreter (or the parent, before a fork) started.
        self.base = gc_counts()
        self.t0: float | None = None
        self.last_event = 0.0
        self.events_dropped = 0

    def collections(self):
        """Collections per generation since this agent started."""
        return [n - b for n, b in zip(gc_counts(), self.base)]

    def callback(self, phase, info, conn):
        # Runs inside the collector, on any thread: no locks, no allocation-heavy work.  Called for
        # generation-2 collections only (see taskmem_agent._gc_callback).
        if phase == "start":
            self.t0 = time.perf_counter()
            return
        t = time.perf_counter()
        dur = (t - self.t0) * 1000.0 if self.t0 is not None else 0.0
        if t - self.last_event < 0.1:  # at most 10 events a second
            self.events_dropped += 1
            return
        self.last_event = t
        if conn is not None:
            collected = info.get("collected", 0)
            conn.queue_text_nowake(f'{{"method":"Taskmem.gc","params":{{"generation":2,"collected":{collected:d},'
                                   f'"durationMs":{dur:.3f}}}}}')

"""The agent's state: registration, task bookkeeping, tracing on demand, statistics.

Configuration is in config.py (kept across a fork), the CDP methods in methods.py, the endpoint in
channel.py.  Threads: the connection's threads answer most methods directly; work that must run on
the main thread (the harness's loadHarness / runTask / exit) is handed over through ``main_queue``.
"""
import gc
import os
import sys
import threading
import time
import tracemalloc

from . import jsonio, methods
from .channel import ChannelServer
from .config import Config
from .frames import caller_code, held_by_frames, profile as _profile
from .marks import RequestGate
from .procinfo import gc_counts, looks_like_celery_worker, older_collections, parse_recycling, process_argv, read_rss
from .sampling import BudgetSampler

# A traced task is settled at the next task's start, or by the connection's writer thread once it
# finished this long ago and no task followed (see Agent._settle).
SETTLE_WAIT_S = 0.05
SETTLE_POLLS = 40  # writer polls (50 ms each) to wait for the task's caller to return; then settle anyway


def _now_ms():
    return time.time() * 1000.0


class Agent:
    def __init__(self, ipc_dir, token, wait_ms, is_harness=False, title=None, argv=None, inherit=None):
        """``inherit``: the parent's agent in a forked child, whose configuration this one keeps
        (not its counters or traces)."""
        self.ipc_dir = ipc_dir
        self.token = token
        self.wait_ms = wait_ms
        self.is_harness = is_harness
        self.argv = argv if argv is not None else process_argv()
        self.title = title or self._default_title()
        self.mode = "harness" if is_harness else ("worker" if looks_like_celery_worker(self.argv) else "script")
        self.config = inherit.config.copy() if inherit is not None else Config(is_harness)
        self.released = threading.Event()
        self.attached = False
        self.dead = False
        self.registration_file = None
        self.sampler = BudgetSampler(self.config.budget)
        self.trim = {"last": 0, "total": 0, "count": 0}  # malloc_trim at the session's GCs
        self.sampling_on = self.mode == "worker"  # per-task sampling (worker mode)
        self.sampling_interval = None
        # tracing state
        self.explicit_tracing = False  # script mode: HeapProfiler.startSampling started tracemalloc
        self.cumulative = {}  # type: dict  # stack table of what sampled tasks kept
        self.sampled_tasks = 0
        # A traced task that finished and waits to be settled (see _settle); the lock makes the
        # settling thread and the next task's start take turns.
        self.pending = None  # type: tuple | None
        self.pending_lock = threading.Lock()
        self.pending_polls = 0
        self.gc_mark = None  # type: tuple | None
        self.tasks_started = 0
        self.tasks_finished = 0
        self.per_name = {}  # type: dict
        self.active = {}  # type: dict
        # What the process is, found at startup or by the hooks; a forked child keeps what the app said.
        self.recycling = parse_recycling(self.argv)
        self.recycling_source = "argv" if any(v is not None for v in self.recycling.values()) else None
        self.celery_hooked = False
        if inherit is not None:
            self.celery_hooked = inherit.celery_hooked
            if inherit.recycling_source == "app":
                self.recycling = dict(inherit.recycling)
                self.recycling_source = "app"
        self.task_sources = set()  # type: set  # the hooks that marked tasks here: celery, rq, flask, django
        self.gate = RequestGate()  # the framework hooks take turns on the task bookkeeping (marks.py)
        # Unsampled tasks ended since the writer thread's last poll, per name: sent as one
        # Taskmem.taskCounts per poll (as Node batches its counts), not one event per task. The lock
        # keeps a count from landing in a dict the writer has already taken.
        self._ended = {}  # type: dict
        self._ended_lock = threading.Lock()
        # gc: collections per generation since this agent started (gc.get_stats() counts since the
        # interpreter, or the parent before a fork, started); the gc callback only times gen 2
        self.gc_base = gc_counts()
        self.gc_t0 = None  # type: float | None
        self.gc_last_event = 0.0
        self.gc_events_dropped = 0
        self.main_queue = methods.MainQueue() if is_harness else None
        self.server = ChannelServer(ipc_dir, token, self._on_message,
                                    on_connect=self._on_connect, on_disconnect=self._on_disconnect)
        self.server.on_writer_poll = self._writer_poll
        self.rss_source = read_rss()[1]

    # -- identity / registration ---------------------------------------------------------------
    def _default_title(self):
        argv = self.argv
        if looks_like_celery_worker(argv):
            return "celery worker"
        words = [os.path.basename(argv[0])] + argv[1:] if argv else ["python"]
        t = " ".join(words)
        return t if len(t) <= 100 else t[:97] + "..."

    def start(self):
        self.server.start()

    def register(self):
        data = {
            "token": self.token, "pid": os.getpid(), "ppid": os.getppid(), "runtime": "python",
            "argv": self.argv, "cwd": os.getcwd(), "title": self.title, "socket": self.server.path,
            "isHarness": self.is_harness,
        }
        name = f"{os.getpid()}-{os.urandom(4).hex()}.json"
        final = os.path.join(self.ipc_dir, name)
        tmp = final + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(jsonio.dumps(data))
            f.flush()
        os.rename(tmp, final)
        self.registration_file = final

    def wait_for_attach(self):
        if not self.released.wait(self.wait_ms / 1000.0):
            sys.stderr.write(f"taskmem: no profiling session attached within {self.wait_ms} ms; running unprofiled\n")
            sys.stderr.flush()
            return False
        return True

    # -- connection ----------------------------------------------------------------------------
    def _on_connect(self, conn):
        self.attached = True

    def _on_disconnect(self, conn):
        self.attached = False
        if self.explicit_tracing:
            self.stop_tracing()
        if self.main_queue is not None:
            self.main_queue.put(("disconnect", None, None, None))

    def emit(self, method, params):
        conn = self.server.current
        if conn is not None and not conn.closed:
            conn.send_text(jsonio.dumps({"method": method, "params": params}), wake=False)

    def _on_message(self, conn, text):
        methods.dispatch(self, conn, text)

    # -- statistics ----------------------------------------------------------------------------
    def stats(self):
        rss, source = read_rss()
        gcs = [n - b for n, b in zip(gc_counts(), self.gc_base)]
        tracing = tracemalloc.is_tracing()
        cur, peak = tracemalloc.get_traced_memory() if tracing else (0, 0)
        return {
            "rss": rss, "rssSource": source,
            "allocatedBlocks": sys.getallocatedblocks(),
            "gcCollections": sum(gcs),
            "gcCollectionsByGeneration": gcs,
            "gcCounts": list(gc.get_count()),
            "tracing": tracing, "tracedCurrent": cur, "tracedPeak": peak,
            "tasksStarted": self.tasks_started, "tasksFinished": self.tasks_finished,
            "sampledTasks": self.sampled_tasks, "nframe": self.config.nframe,
            "sampling": "budget" if self.config.sample_every is None else "every",
            "sampleEvery": self.config.sample_every, "budget": self.config.budget,
            "tracedMs": round(self.sampler.traced_s * 1000.0, 3),
            "mode": self.mode, "pid": os.getpid(),
            "recycling": dict(self.recycling, source=self.recycling_source),
            "celery": self.celery_hooked,
            "taskSources": sorted(self.task_sources),
            "mallocTrim": dict(self.trim) if self.config.malloc_trim else None,
        }

    def gc_callback(self, phase, info):
        # Runs inside the collector, on any thread: no locks, no allocation-heavy work.  Called for
        # generation-2 collections only (see taskmem_agent._gc_callback).
        if phase == "start":
            self.gc_t0 = time.perf_counter()
            return
        t = time.perf_counter()
        dur = (t - self.gc_t0) * 1000.0 if self.gc_t0 is not None else 0.0
        if t - self.gc_last_event < 0.1:  # at most 10 events a second
            self.gc_events_dropped += 1
            return
        self.gc_last_event = t
        conn = self.server.current
        if conn is not None:
            collected = info.get("collected", 0)
            conn.queue_text_nowake(f'{{"method":"Taskmem.gc","params":{{"generation":2,"collected":{collected:d},'
                                   f'"durationMs":{dur:.3f}}}}}')

    # -- tracing -------------------------------------------------------------------------------
    def start_tracing(self):
        if not tracemalloc.is_tracing():
            tracemalloc.start(self.config.nframe)

    def stop_tracing(self):
        self.explicit_tracing = False
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def current_table(self):
        if not tracemalloc.is_tracing():
            return {}
        snap = tracemalloc.take_snapshot()
        return _profile.table_from_snapshot(snap)

    def sampling_profile(self):
        if self.mode == "harness":
            table = self.current_table()
        else:
            table = dict(self.cumulative)
            if self.explicit_tracing:
                _profile.merge_into(table, self.current_table())
        return {"profile": _profile.build_profile(table), "sampledTasks": self.sampled_tasks,
                "totalTasks": self.tasks_finished}

    # -- worker-mode task boundaries (called from the Celery signal handlers) -------------------
    # The unsampled path is the hot one (every task): no event at the start, a count at the end
    # (sent with the others by the writer thread's next poll), no RSS read, no allocated-block count.
    def prepare_tracing(self):
        """Load what the first traced task would otherwise load inside its run (ast, sysconfig)."""
        _profile.classify  # noqa: B018 - imports profile

    def task_started(self, name, task_id, alone=None):
        """``alone``: called when the task is chosen for tracing -> may it be traced now?  (A
        request waits there for the others in flight to end: marks.RequestGate.)"""
        if self.mode != "worker":
            self._become_worker()
        self.tasks_started += 1
        if self.pending is not None:
            self._settle()
        now = time.perf_counter()
        sampled = False
        if self.attached and self.sampling_on and not tracemalloc.is_tracing():
            k = self.config.sample_every
            if k is None:
                sampled = self.sampler.start(name, now)
            else:
                n = self.per_name.get(name, 0) + 1
                self.per_name[name] = n
                sampled = k > 0 and n % k == 0
        elif self.config.sample_every is not None:
            self.per_name[name] = self.per_name.get(name, 0) + 1
        if sampled and alone is not None and not alone():
            sampled = False
            now = time.perf_counter()
        if not sampled:
            self.active[task_id] = (name, now, False)
            return
        self.emit("Taskmem.taskStarted", {"name": name, "id": task_id, "t": _now_ms()})
        self.active[task_id] = (name, time.perf_counter(), True)
        self.gc_mark = older_collections()
        tracemalloc.start(self.config.nframe)

    def _become_worker(self):
        if self.mode == "script":
            # Task marks make this a worker: continuous tracing (startSampling in script mode)
            # gives way to tracing sampled tasks only.
            self.mode = "worker"
            if self.explicit_tracing:
                self.stop_tracing()
                self.sampling_on = True

    def task_finished(self, name, task_id, discard=False):
        """``discard``: a traced task that others overlapped is reported unmeasured (its cost paid)."""
        entry = self.active.pop(task_id, None)
        if entry is None:
            return
        name, t0, sampled = entry
        t1 = time.perf_counter()
        self.tasks_finished += 1
        if sampled and discard:
            sampled = False
            if tracemalloc.is_tracing():
                tracemalloc.stop()
            self.sampler.traced(name, t1 - t0, t1 - t0)
        if not sampled and not self.config.gc_per_task:
            if self.config.sample_every is None:
                st = self.sampler.names.get(name)
                if st is not None:
                    st[3] = t1 - t0
            with self._ended_lock:
                self._ended[name] = self._ended.get(name, 0) + 1
            return
        params = {"name": name, "id": task_id, "t": _now_ms(), "durationMs": round((t1 - t0) * 1000.0, 3),
                  "sampled": False}
        if sampled and tracemalloc.is_tracing():
            self._collect()
            snap = tracemalloc.take_snapshot()
            table = _profile.table_from_snapshot(snap)
            del snap
            t2 = time.perf_counter()
            # Still tracing: what the task's callers hold while they return is settled later.
            caller = caller_code(sys._getframe(1))
            self.pending_polls = 0
            self.pending = (name, params, table, t2 - t0, t1 - t0, threading.get_ident(), caller,
                            time.perf_counter(), time.process_time())
            return
        elif self.config.gc_per_task:
            gc.collect()
        params["rss"] = read_rss()[0]
        params["allocatedBlocks"] = sys.getallocatedblocks()
        self.emit("Taskmem.taskFinished", params)

    def _send_counts(self, conn):
        """The unsampled tasks ended since the last call, per name, in one Taskmem.taskCounts."""
        if self._ended:
            with self._ended_lock:
                ended, self._ended = self._ended, {}
            if ended:
                conn.send_text(jsonio.dumps({"method": "Taskmem.taskCounts", "params": {"counts": ended}}), wake=False)

    def _writer_poll(self, conn):
        """The writer thread's poll (every 50 ms): the task counts, and settle a traced task that no
        task followed."""
        self._send_counts(conn)
        p = self.pending
        if p is not None and time.perf_counter() - p[7] >= SETTLE_WAIT_S:
            self._settle(True)

    def _settle(self, polled=False):
        """Report a traced task once the frames that ran it have returned.

        At ``task_postrun`` Celery's tracer still holds the task's return value, its repr, the
        signal's arguments and the receiver list (~650 B a task in Celery 5.2): they would count as
        kept by every task, a steady +650 B per run that looks like a leak in a clean task.  So the
        snapshot at the end of the task is compared with a second one taken once those frames have
        returned (at the next task's start, or from the writer thread when no task follows), with
        tracing left on in between: per allocation site, the task kept what is alive in both, less
        what only the running frames hold (_held_by_frames: the pool loop's last result).
        Allocations made in between (the next message) are at other sites, or count at most what
        the first snapshot had.  ``polled``: from the writer thread, which waits (up to SETTLE_POLLS polls) while the
        task's thread is still inside the caller that ran the task.

        Traced cost: the task, both collections and snapshots, and the CPU time the process spent
        in between (it ran under tracemalloc), so the budget covers the time tracing costs."""
        with self.pending_lock:
            p = self.pending
            if p is None:
                return
            name, params, table, cost, task_s, ident, caller, t_done, cpu_done = p
            if polled and caller is not None and self.pending_polls < SETTLE_POLLS:
                frame = sys._current_frames().get(ident)
                while frame is not None and frame.f_code is not caller:
                    frame = frame.f_back
                if frame is not None:  # the task's caller has not returned yet
                    del frame
                    self.pending_polls += 1
                    return
            self.pending = None
            t3 = time.perf_counter()
            cost += min(max(0.0, time.process_time() - cpu_done), t3 - t_done)
            if tracemalloc.is_tracing():
                self._collect()
                snap = tracemalloc.take_snapshot()
                later = _profile.table_from_snapshot(snap)
                del snap
                table = {stack: min(size, later[stack]) for stack, size in table.items() if stack in later}
                frame = sys._current_frames().get(ident)
                held = held_by_frames(frame)
                del frame
                tracemalloc.stop()
                for stack, size in held.items():
                    if stack in table:
                        table[stack] = max(0, table[stack] - size)
            _profile.merge_into(self.cumulative, table)
            self.sampled_tasks += 1
            params["sampled"] = True
            params["retainedBytes"] = _profile.table_bytes(table)
            params["rss"] = read_rss()[0]
            params["allocatedBlocks"] = sys.getallocatedblocks()
            t4 = time.perf_counter()
            self.sampler.traced(name, cost + (t4 - t3), task_s)
            self.emit("Taskmem.taskFinished", params)

    def _collect(self):
        """gc.collect() for a traced task: generations 0 and 1 only while no collection of an older
        generation ran since the task started.  Everything allocated since then is in those two
        (only a generation-1 collection moves objects on to generation 2), so the cycles it left
        are found at a fraction of a full collection's cost (milliseconds in a Celery child)."""
        if older_collections() == self.gc_mark:
            gc.collect(1)
        else:
            gc.collect()
        self.gc_mark = older_collections()

    def flush_at_exit(self):
        if self.pending is not None:
            self._settle()
        conn = self.server.current
        if conn is not None and not self.dead:
            self._send_counts(conn)  # the last counts, not left for a poll that will not come
            conn.flush(1.0)
        if not self.dead:
            self.server.remove_socket_file()  # a long session of recycled workers would collect them

    def abandon_after_fork(self):
        self.dead = True
        self.server.abandon_after_fork()

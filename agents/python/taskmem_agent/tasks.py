"""Worker-mode task bookkeeping and tracing: which tasks started and ended, which of them is traced
(one in K, or within the time budget: sampling.py), and settling a traced task once the code that ran
it has returned.  The agent (agent.py) owns one; the hooks (celery_hook.py, marks.py, rq_hook.py,
web_hooks.py) call its task_started / task_finished.
"""
import sys
import threading
import time
import tracemalloc

from . import jsonio
from .frames import caller_code, held_by_frames, in_flight_stacks, profile as _profile
from .marks import RequestGate
from .persist import probe_kept
from .procinfo import collect, older_collections, read_rss
from .sampling import BudgetSampler

# A traced task is settled at the next task's start, or by the connection's writer thread once it
# finished this long ago and no task followed (see TaskTracer._settle).
SETTLE_WAIT_S = 0.05
SETTLE_POLLS = 40  # writer polls (50 ms each) to wait for the task's caller to return; then settle anyway
# A name is probed (persist.py) while its typical traced run keeps more than the 8 B floor and less
# than the 1 KiB per task a Python worker's figure stands behind (src/core/keptSeries.ts), at most
# PROBES_PER_NAME times, over its last PROBE_WINDOW settled runs once it has PROBE_MIN_RUNS.
PROBE_FLOOR_BYTES = 8
PROBE_CEILING_BYTES = 1024
PROBES_PER_NAME = 6
PROBE_WINDOW = 8
PROBE_MIN_RUNS = 8
# A probe walks the whole heap (tens of milliseconds, more on a large one), on the tracing budget: only
# while the budget is not in debt (never on the start-up allowance's borrowed credit; with
# --sample-every, whenever), once the name has PROBE_MIN_RUNS settled runs.


def _now_ms():
    return time.time() * 1000.0


def _own_copy(task_id):
    """The task's id as the agent's own object.  A traced task's report waits to be settled, and an
    id the program built inside the traced window (``task_id="t%d" % i`` at ``task_postrun``) would
    be kept alive by that report and counted as kept by the task (+55 B on every run of a clean
    task); a copy made here is the agent's, which the traces leave out."""
    if type(task_id) is str and len(task_id) > 1:
        return task_id.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    if type(task_id) is int:
        return int(repr(task_id))
    return task_id


class TaskTracer:
    def __init__(self, config, mode, emit, is_attached):
        """``mode``: "harness", "worker" or "script" (marks turn a script into a worker);
        ``emit(method, params)`` sends an event; ``is_attached()``: is a session connected?"""
        self.config = config
        self.mode = mode
        self.emit = emit
        self._is_attached = is_attached
        self.sampler = BudgetSampler(config.budget)
        self.sampling_on = mode == "worker"  # per-task sampling (worker mode)
        self.sampling_interval = None
        self.explicit_tracing = False  # script mode: HeapProfiler.startSampling started tracemalloc
        self.cumulative: dict = {}  # stack table of what sampled tasks kept
        self.sampled_tasks = 0
        # A traced task that finished and waits to be settled (see _settle); the lock makes the
        # settling thread and the next task's start take turns.
        self.pending: tuple | None = None
        self.pending_lock = threading.Lock()
        self.pending_polls = 0
        self.gc_mark: tuple | None = None
        self.tasks_started = 0
        self.tasks_finished = 0
        self.per_name: dict = {}
        self.active: dict = {}
        self.task_sources: set = set()  # the hooks that marked tasks here: celery, rq, flask, django
        self.gate = RequestGate()  # the framework hooks take turns on the task bookkeeping (marks.py)
        # Unsampled tasks ended since the writer thread's last poll, per name: sent as one
        # Taskmem.taskCounts per poll (as Node batches its counts), not one event per task. The lock
        # keeps a count from landing in a dict the writer has already taken.
        self._ended: dict = {}
        self._ended_lock = threading.Lock()
        # Persistence probes (persist.py): one held at a time; per name its recent kept figures,
        # how many probes it had, and the results not yet sent (with its next traced run).
        self.probe = None
        self._probe_lock = threading.Lock()
        self.recent_kept: dict = {}
        self.probes_done: dict = {}
        self.probe_results: dict = {}

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
            self.become_worker()
        self.tasks_started += 1
        # Also when nothing is pending: the writer thread may be settling the last traced task (it
        # takes the report first, then stops tracing); the lock waits for it to end, else this task
        # would find tracing still on and go untraced (a traced slot lost: 3 traced runs of 6, CI).
        self._settle()
        if self.probe is not None:
            self.read_probe()
        now = time.perf_counter()
        sampled = False
        if self._is_attached() and self.sampling_on and not tracemalloc.is_tracing():
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

    def become_worker(self):
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
        params = {"name": name, "id": _own_copy(task_id) if sampled else task_id, "t": _now_ms(),
                  "durationMs": round((t1 - t0) * 1000.0, 3),
                  "sampled": False}
        if sampled and tracemalloc.is_tracing():
            self._collect()
            snap = tracemalloc.take_snapshot()
            table = _profile.table_from_snapshot(snap)
            del snap
            for stack in in_flight_stacks(sys._getframe(1), self.config.nframe):
                table.pop(stack, None)
            t2 = time.perf_counter()
            # Still tracing: what the task's callers hold while they return is settled later.
            caller = caller_code(sys._getframe(1))
            self.pending_polls = 0
            self.pending = (name, params, table, t2 - t0, t1 - t0, threading.get_ident(), caller,
                            time.perf_counter(), time.process_time())
            if not self._is_attached():
                # The session left while the task ran: no writer thread will settle it, and the next
                # task may never come; tracing ends now.
                self._settle()
            return
        elif self.config.gc_per_task:
            collect()
        params["rss"] = read_rss()[0]
        params["allocatedBlocks"] = sys.getallocatedblocks()
        self.emit("Taskmem.taskFinished", params)

    def send_counts(self, conn):
        """The unsampled tasks ended since the last call, per name, in one Taskmem.taskCounts."""
        if self._ended:
            with self._ended_lock:
                ended, self._ended = self._ended, {}
            if ended:
                conn.send_text(jsonio.dumps({"method": "Taskmem.taskCounts", "params": {"counts": ended}}), wake=False)

    def writer_poll(self, conn):
        """The writer thread's poll (every 50 ms): the task counts, and settle a traced task that no
        task followed."""
        self.send_counts(conn)
        p = self.pending
        if p is not None and time.perf_counter() - p[7] >= SETTLE_WAIT_S:
            self._settle(True)
        if self.probe is not None:
            self.read_probe()

    def read_probe(self):
        """Read the held probe once enough tasks and time have passed: its result goes with the
        name's next traced run (Taskmem.taskFinished ``persistence``)."""
        with self._probe_lock:
            probe = self.probe
            if probe is None or not probe.due(self.tasks_finished):
                return
            self.probe = None
        alive, probed = probe.read()
        self.probe_results.setdefault(probe.name, []).append(
            {"aliveBytes": alive, "probedBytes": probed, "tasksBetween": self.tasks_finished - probe.tasks_at})

    def _wants_probe(self, name, kept, cost):
        """Whether to probe what this settled run of ``name`` kept (see PROBE_* above); ``cost``: the
        run's traced cost so far, not yet debited."""
        recent = self.recent_kept.setdefault(name, [])
        recent.append(kept)
        del recent[:-PROBE_WINDOW]
        if self.probe is not None or kept <= PROBE_FLOOR_BYTES or self.probes_done.get(name, 0) >= PROBES_PER_NAME:
            return False
        if len(recent) < PROBE_MIN_RUNS or (self.config.sample_every is None and self.sampler.credit - cost < 0.0):
            return False
        typical = sorted(recent)[len(recent) // 2]
        return PROBE_FLOOR_BYTES < typical < PROBE_CEILING_BYTES

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
            probe_s = 0.0
            if tracemalloc.is_tracing():
                full = self._collect()
                frame = sys._current_frames().get(ident)
                held = held_by_frames(frame)
                del frame
                first = table
                table = self._kept_now(first, held)
                if not full and 0 < _profile.table_bytes(table) < PROBE_CEILING_BYTES:
                    # What the task freed into CPython's free lists (lists, dicts, tuples, floats kept
                    # for reuse) is still allocated to tracemalloc: only a full collection empties them.
                    # Under the ceiling a run's figure decides "no-leak" or "undecided", so a run that
                    # seems to keep that little pays for one (6 ms in a Celery child: on every run it
                    # took most of the tracing budget, 41 traced runs of each task down to 9).
                    self._collect(full=True)
                    table = self._kept_now(first, held)
                if self._wants_probe(name, _profile.table_bytes(table), cost):
                    t_probe = time.perf_counter()
                    # An attempt counts whether or not it found anything to hold: it costs a walk.
                    self.probes_done[name] = self.probes_done.get(name, 0) + 1
                    self.probe = probe_kept(name, table, self.tasks_finished)
                    probe_s = time.perf_counter() - t_probe
                tracemalloc.stop()
            _profile.merge_into(self.cumulative, table)
            self.sampled_tasks += 1
            params["sampled"] = True
            params["retainedBytes"] = _profile.table_bytes(table)
            results = self.probe_results.pop(name, None)
            if results:
                params["persistence"] = results
            params["rss"] = read_rss()[0]
            params["allocatedBlocks"] = sys.getallocatedblocks()
            t4 = time.perf_counter()
            self.sampler.traced(name, cost + (t4 - t3) - probe_s, task_s)
            self.sampler.spent(probe_s)
            self.emit("Taskmem.taskFinished", params)

    @staticmethod
    def _kept_now(table, held):
        """Per site of ``table`` (the task's end), what a snapshot taken now still has (the smaller
        figure), less what only the running frames hold (``held``)."""
        snap = tracemalloc.take_snapshot()
        later = _profile.table_from_snapshot(snap)
        del snap
        kept = {stack: min(size, later[stack]) for stack, size in table.items() if stack in later}
        for stack, size in held.items():
            if stack in kept:
                kept[stack] = max(0, kept[stack] - size)
        return kept

    def _collect(self, full=False):
        """gc.collect() for a traced task: generations 0 and 1 only while no collection of an older
        generation ran since the task started (unless ``full``).  Everything allocated since then is
        in those two (only a generation-1 collection moves objects on to generation 2), so the
        cycles it left are found at a fraction of a full collection's cost (milliseconds in a Celery
        child).  -> whether it was a full collection (which also empties CPython's free lists)."""
        full = full or older_collections() != self.gc_mark
        collect(2 if full else 1)
        self.gc_mark = older_collections()
        return full

    def settle_at_exit(self):
        if self.pending is not None:
            self._settle()

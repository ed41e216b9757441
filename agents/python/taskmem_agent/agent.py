"""The agent: registration, the CDP subset, cheap statistics, tracing on demand, fork support.

Threads: the WebSocket threads answer most methods directly; work that must run on the main thread
(the harness's loadHarness / runTask / exit) is handed over through ``main_queue``.
"""
import collections
import gc
import os
import sys
import threading
import time
import tracemalloc
import types  # noqa: F401  (type comments)

from . import jsonio
from .marks import RequestGate
from .sampling import BudgetSampler
from .wsserver import Signal, WebSocketServer

DEFAULT_BUDGET = 0.1  # worker mode: traced time <= 10 % of wall time (see sampling.py)
# A traced task is settled at the next task's start, or by the connection's writer thread once it
# finished this long ago and no task followed (see Agent._settle).
SETTLE_WAIT_S = 0.05
SETTLE_POLLS = 40  # writer polls (50 ms each) to wait for the task's caller to return; then settle anyway
RSS_MAX_AGE_S = 0.1  # unsampled tasks report an RSS read at most this long ago

DEFERRED = object()

_PAGESIZE = 4096
try:
    _PAGESIZE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):
    pass


class _LazyProfile(object):
    """``profile`` pulls in ast and sysconfig: load it only once something is traced."""

    def __getattr__(self, name):
        from . import profile
        return getattr(profile, name)


_profile = _LazyProfile()


class MainQueue(object):
    """Work for the main thread (deque + raw-lock signal: nothing allocated while it waits)."""

    def __init__(self):
        self._items = collections.deque()  # type: collections.deque
        self._signal = Signal()

    def put(self, item):
        self._items.append(item)
        self._signal.set()

    def get(self):
        while True:
            try:
                return self._items.popleft()
            except IndexError:
                self._signal.wait(1.0)


class CdpError(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


def _gc_counts():
    return [g.get("collections", 0) for g in gc.get_stats()]


def _now_ms():
    return time.time() * 1000.0


_AGENT_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _held_by_frames(frame, _getrefcount=sys.getrefcount):
    """{stack: bytes} of traced objects that only running code holds: local variables of ``frame``
    and its callers, and what tuples held that way hold, referenced from nowhere else.

    A worker's loop keeps the last task's result in a local until the next task's result replaces
    it (billiard's ``result = (True, prepare_result(fun(...)))`` holds Celery's repr of the return
    value): alive when the task is settled, gone one task later, so not kept.  An object that
    something else also references (a cache that holds the returned object too) is kept, and stays
    counted.  A frame's locals hold each value twice once ``f_locals`` is read (the variable and the
    frame's locals dict); references from a running expression (the value stack) are not seen, so
    such an object stays counted too."""
    refs = {}  # type: dict  # id -> references found from frames and from held tuples
    objs = {}  # id -> object allocated while tracing, seen from a frame
    frames = []
    while frame is not None:
        if not frame.f_code.co_filename.startswith(_AGENT_DIR):
            frames.append(frame)
        frame = frame.f_back
    for f in frames:
        for v in f.f_locals.values():
            # Tuples are followed whether or not they were traced (most come from a free list).
            if type(v) is tuple or tracemalloc.get_object_traceback(v) is not None:
                refs[id(v)] = refs.get(id(v), 0) + 2
                objs[id(v)] = v
    del frames[:]  # no references of ours left
    v = f = None  # type: ignore[assignment]
    held = {}  # type: dict
    level = list(objs)
    while level:
        nxt = []
        for key in level:
            obj = objs[key]
            # + 3: objs' reference, ``obj``, getrefcount's argument
            if _getrefcount(obj) != refs[key] + 3:
                continue
            tb = tracemalloc.get_object_traceback(obj)
            stack = _profile.clean_stack(tuple((fr.filename, fr.lineno) for fr in tb)) if tb else None
            if stack is not None:
                held[stack] = held.get(stack, 0) + sys.getsizeof(obj)
            if type(obj) is tuple:
                for item in obj:
                    if type(item) is tuple or tracemalloc.get_object_traceback(item) is not None:
                        if id(item) not in objs:
                            objs[id(item)] = item
                            nxt.append(id(item))
                        refs[id(item)] = refs.get(id(item), 0) + 1
                item = None
            obj = None
        level = nxt
    return held


def _older_collections():
    """Collections of generations 1 and 2 so far."""
    stats = gc.get_stats()
    return (stats[1].get("collections", 0), stats[2].get("collections", 0))


def _caller_code(frame):
    """The code of the first frame outside this agent and the signal dispatch that called it (a
    ``send``, or a comprehension in it): the caller that ran the task (Celery's tracer), or None.
    Code objects only: a frame kept alive would keep its locals alive."""
    while frame is not None:
        code = frame.f_code
        # Comprehensions too: Django's Signal.send calls receivers from a list comprehension.
        if (not code.co_filename.startswith(_AGENT_DIR) and code.co_name not in ("send", "send_robust")
                and not code.co_name.startswith("<")):
            return code
        frame = frame.f_back
    return None


def _json_id(task_id):
    if type(task_id) is str:
        return jsonio._escape(task_id)
    return jsonio.dumps(task_id)


_libc_trim = []  # type: list  # [function or None], resolved once


def resolve_malloc_trim():
    """Looks malloc_trim up once, before tracing starts: importing ctypes allocates ~1 MB that a
    traced run would otherwise keep."""
    if not _libc_trim:
        fn = None
        try:
            import ctypes
            import ctypes.util
            fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            fn.argtypes = [ctypes.c_size_t]
            fn.restype = ctypes.c_int
        except (OSError, AttributeError, ImportError):
            fn = None
        _libc_trim.append(fn)


def malloc_trim():
    """glibc's malloc_trim(0) through ctypes: True when it ran. Elsewhere (musl, macOS) False."""
    resolve_malloc_trim()
    fn = _libc_trim[0]
    if fn is None:
        return False
    fn(0)
    return True


_statm = [None, None]  # type: list  # [pid, fd]: /proc/self resolves at open time, so reopen after a fork


def read_rss():
    """-> (bytes, source).  Current RSS from /proc/self/statm; else the peak from getrusage."""
    try:
        pid = os.getpid()
        if _statm[0] != pid:
            # A stale descriptor from the parent is closed by statm_after_fork(); never close a
            # number here, it may belong to someone else by now.
            _statm[1] = os.open("/proc/self/statm", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            _statm[0] = pid
        return int(os.pread(_statm[1], 128, 0).split()[1]) * _PAGESIZE, "statm"
    except (OSError, ValueError, IndexError, AttributeError):
        _statm[0] = None
    try:
        import resource
        m = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (m if sys.platform == "darwin" else m * 1024), "maxrss"
    except Exception:
        return 0, "none"


def statm_after_fork():
    """Right after fork, in the child: drop the parent's /proc/<ppid>/statm descriptor."""
    if _statm[1] is not None:
        try:
            os.close(_statm[1])
        except OSError:
            pass
    _statm[0] = _statm[1] = None


def process_argv():
    """The real command line (``sys.argv`` is incomplete while ``site`` runs)."""
    argv = getattr(sys, "orig_argv", None)
    if argv:
        return list(argv)
    try:
        with open("/proc/self/cmdline", "rb") as f:
            parts = f.read().split(b"\0")
        if parts and parts[-1] == b"":
            parts.pop()
        if parts:
            return [os.fsdecode(p) for p in parts]
    except OSError:
        pass
    return [sys.executable] + list(getattr(sys, "argv", []) or [])


def looks_like_celery_worker(argv):
    has_celery = any(os.path.basename(a).startswith("celery") or a == "celery" for a in argv)
    return has_celery and "worker" in argv


def parse_recycling(argv):
    out = {"maxTasksPerChild": None, "maxMemoryPerChild": None}  # type: dict
    names = {"--max-tasks-per-child": "maxTasksPerChild", "--maxtasksperchild": "maxTasksPerChild",
             "--max-memory-per-child": "maxMemoryPerChild", "--maxmemperchild": "maxMemoryPerChild"}
    for i, a in enumerate(argv):
        key, value = a, None
        if "=" in a:
            key, value = a.split("=", 1)
        if key in names:
            if value is None and i + 1 < len(argv):
                value = argv[i + 1]
            if value is None:
                continue
            try:
                out[names[key]] = int(value)
            except ValueError:
                pass
    return out


def in_subprocess_preexec():
    """True when os.fork hooks run inside subprocess's fork+exec (a ``preexec_fn`` child)."""
    f = sys._getframe(1)  # type: types.FrameType | None
    while f is not None:
        if f.f_code.co_name == "_execute_child" and f.f_code.co_filename.endswith("subprocess.py"):
            return True
        f = f.f_back
    return False


class Agent(object):
    def __init__(self, ipc_dir, token, wait_ms, is_harness=False, title=None, argv=None):
        self.ipc_dir = ipc_dir
        self.token = token
        self.wait_ms = wait_ms
        self.is_harness = is_harness
        self.argv = argv if argv is not None else process_argv()
        self.title = title or self._default_title()
        self.mode = "harness" if is_harness else ("worker" if looks_like_celery_worker(self.argv) else "script")
        self.released = threading.Event()
        self.attached = False
        self.dead = False
        self.registration_file = None
        # configuration: sample_every None = budget mode (the worker default); K = one in K per name
        self.sample_every = 1 if is_harness else None
        self.budget = DEFAULT_BUDGET
        env_k = os.environ.get("TASKMEM_SAMPLE_EVERY")
        if env_k and not is_harness:
            try:
                self.sample_every = max(0, int(env_k))
            except ValueError:
                pass
        self.sampler = BudgetSampler(self.budget)
        self.nframe = 3
        self.gc_per_task = False
        # Opt-in (it changes the process): malloc_trim(0) after the session's full GCs, to measure
        # how much RSS is allocator high water.
        self.malloc_trim_at_gc = False
        self.trimmed_last = 0
        self.trimmed_total = 0
        self.trims = 0
        self.sampling_on = self.mode == "worker"  # per-task sampling (worker mode)
        self.sampling_interval = None
        # tracing state
        self.explicit_tracing = False  # script mode: HeapProfiler.startSampling started tracemalloc
        self.cumulative = {}  # stack table of what sampled tasks kept
        self.sampled_tasks = 0
        # A traced task that finished and waits to be settled (see _settle); the lock makes the
        # settling thread and the next task's start take turns.
        self.pending = None
        self.pending_lock = threading.Lock()
        self.pending_polls = 0
        self.gc_mark = None
        self.tasks_started = 0
        self.tasks_finished = 0
        self.per_name = {}
        self.active = {}
        self.recycling = parse_recycling(self.argv)
        self.recycling_source = "argv" if any(v is not None for v in self.recycling.values()) else None
        self.celery_hooked = False
        self.task_sources = set()  # type: set  # the hooks that marked tasks here: celery, rq, flask, django
        self.gate = RequestGate()  # the framework hooks take turns on the task bookkeeping (marks.py)
        self._rss = 0
        self._rss_t = -1.0
        self._quoted = {}  # task name -> its JSON string
        # gc
        # collections per generation since this agent started (gc.get_stats() counts since the
        # interpreter, or the parent before a fork, started): the gc callback only times gen 2
        self.gc_base = _gc_counts()
        self.gc_t0 = None
        self.gc_last_event = 0.0
        self.gc_events_dropped = 0
        # harness
        self.main_queue = None
        if is_harness:
            self.main_queue = MainQueue()
        self.server = WebSocketServer("/" + os.urandom(16).hex(), self._on_message,
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
            "argv": self.argv, "cwd": os.getcwd(), "title": self.title, "url": self.server.url,
            "isHarness": self.is_harness,
        }
        name = "%d-%s.json" % (os.getpid(), os.urandom(4).hex())
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
            sys.stderr.write("taskmem: no profiling session attached within %d ms; running unprofiled\n"
                             % self.wait_ms)
            sys.stderr.flush()
            return False
        return True

    # -- connection ----------------------------------------------------------------------------
    def _on_connect(self, conn):
        self.attached = True

    def _on_disconnect(self, conn):
        self.attached = False
        if self.explicit_tracing:
            self._stop_tracing()
        if self.main_queue is not None:
            self.main_queue.put(("disconnect", None, None, None))

    def send(self, conn, obj):
        try:
            text = jsonio.dumps(obj)
        except RecursionError:
            # A request id nested thousands deep cannot be echoed: answer without it.
            text = jsonio.dumps({"id": None,
                                 "error": {"code": -32600, "message": "Invalid request: id nested too deep"}})
        conn.send_text(text)

    def emit(self, method, params):
        conn = self.server.current
        if conn is not None and not conn.closed:
            conn.send_text(jsonio.dumps({"method": method, "params": params}), wake=False)

    def _on_message(self, conn, text):
        try:
            msg = jsonio.loads(text)
            if not isinstance(msg, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError) as e:
            # RecursionError: arrays nested thousands deep; the C scanner gives up, the connection stays.
            self.send(conn, {"id": None, "error": {"code": -32700, "message": "Parse error: %s" % e}})
            return
        mid = msg.get("id")
        method = msg.get("method")
        params = msg.get("params") or {}
        if not isinstance(method, str) or not isinstance(params, dict):
            self.send(conn, {"id": mid, "error": {"code": -32600, "message": "Invalid request"}})
            return
        handler = self.METHODS.get(method)
        if handler is None:
            self.send(conn, {"id": mid, "error": {"code": -32601, "message": "'%s' wasn't found" % method}})
            return
        try:
            result = handler(self, params, mid, conn)
        except CdpError as e:
            self.send(conn, {"id": mid, "error": {"code": e.code, "message": e.message}})
            return
        except Exception as e:  # a bug in the agent must not kill the connection
            self.send(conn, {"id": mid, "error": {"code": -32000, "message": "%s: %s" % (type(e).__name__, e)}})
            return
        if result is not DEFERRED:
            self.send(conn, {"id": mid, "result": result})

    # -- statistics ----------------------------------------------------------------------------
    def stats(self):
        rss, source = read_rss()
        gcs = [n - b for n, b in zip(_gc_counts(), self.gc_base)]
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
            "sampledTasks": self.sampled_tasks, "nframe": self.nframe,
            "sampling": "budget" if self.sample_every is None else "every",
            "sampleEvery": self.sample_every, "budget": self.budget,
            "tracedMs": round(self.sampler.traced_s * 1000.0, 3),
            "mode": self.mode, "pid": os.getpid(),
            "recycling": dict(self.recycling, source=self.recycling_source),
            "celery": self.celery_hooked,
            "taskSources": sorted(self.task_sources),
            "mallocTrim": {"last": self.trimmed_last, "total": self.trimmed_total, "count": self.trims}
            if self.malloc_trim_at_gc else None,
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
            conn.queue_text_nowake('{"method":"Taskmem.gc","params":{"generation":2,"collected":%d,'
                                   '"durationMs":%.3f}}' % (info.get("collected", 0), dur))

    # -- tracing -------------------------------------------------------------------------------
    def _start_tracing(self):
        if not tracemalloc.is_tracing():
            tracemalloc.start(self.nframe)

    def _stop_tracing(self):
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
    # The unsampled path is the hot one (every task): no event at the start, one preformatted
    # taskFinished at the end, RSS from a read at most RSS_MAX_AGE_S old, no allocated-block count.
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
            k = self.sample_every
            if k is None:
                sampled = self.sampler.start(name, now)
            else:
                n = self.per_name.get(name, 0) + 1
                self.per_name[name] = n
                sampled = k > 0 and n % k == 0
        elif self.sample_every is not None:
            self.per_name[name] = self.per_name.get(name, 0) + 1
        if sampled and alone is not None and not alone():
            sampled = False
            now = time.perf_counter()
        if not sampled:
            self.active[task_id] = (name, now, False)
            return
        self.emit("Taskmem.taskStarted", {"name": name, "id": task_id, "t": _now_ms()})
        self.active[task_id] = (name, time.perf_counter(), True)
        self.gc_mark = _older_collections()
        tracemalloc.start(self.nframe)

    def _become_worker(self):
        if self.mode == "script":
            # Task marks make this a worker: continuous tracing (startSampling in script mode)
            # gives way to tracing sampled tasks only.
            self.mode = "worker"
            if self.explicit_tracing:
                self._stop_tracing()
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
        if not sampled and not self.gc_per_task:
            if self.sample_every is None:
                st = self.sampler.names.get(name)
                if st is not None:
                    st[3] = t1 - t0
            conn = self.server.current
            if conn is None or conn.closed:
                return
            if t1 - self._rss_t >= RSS_MAX_AGE_S:
                self._rss = read_rss()[0]
                self._rss_t = t1
            q = self._quoted.get(name)
            if q is None:
                q = self._quoted[name] = jsonio.dumps(name)
            conn.send_text('{"method":"Taskmem.taskFinished","params":{"name":%s,"id":%s,"t":%.3f,'
                           '"durationMs":%.3f,"sampled":false,"rss":%d}}'
                           % (q, _json_id(task_id), _now_ms(), (t1 - t0) * 1000.0, self._rss), wake=False)
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
            caller = _caller_code(sys._getframe(1))
            self.pending_polls = 0
            self.pending = (name, params, table, t2 - t0, t1 - t0, threading.get_ident(), caller,
                            time.perf_counter(), time.process_time())
            return
        elif self.gc_per_task:
            gc.collect()
        self._rss = params["rss"] = read_rss()[0]
        params["allocatedBlocks"] = sys.getallocatedblocks()
        self._rss_t = time.perf_counter()
        self.emit("Taskmem.taskFinished", params)

    def _writer_poll(self, conn):
        """The writer thread's poll (every 50 ms): settle a traced task that no task followed."""
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
                held = _held_by_frames(frame)
                del frame
                tracemalloc.stop()
                for stack, size in held.items():
                    if stack in table:
                        table[stack] = max(0, table[stack] - size)
            _profile.merge_into(self.cumulative, table)
            self.sampled_tasks += 1
            params["sampled"] = True
            params["retainedBytes"] = _profile.table_bytes(table)
            self._rss = params["rss"] = read_rss()[0]
            params["allocatedBlocks"] = sys.getallocatedblocks()
            self._rss_t = t4 = time.perf_counter()
            self.sampler.traced(name, cost + (t4 - t3), task_s)
            self.emit("Taskmem.taskFinished", params)

    def _collect(self):
        """gc.collect() for a traced task: generations 0 and 1 only while no collection of an older
        generation ran since the task started.  Everything allocated since then is in those two
        (only a generation-1 collection moves objects on to generation 2), so the cycles it left
        are found at a fraction of a full collection's cost (milliseconds in a Celery child)."""
        if _older_collections() == self.gc_mark:
            gc.collect(1)
        else:
            gc.collect()
        self.gc_mark = _older_collections()

    # -- CDP methods ---------------------------------------------------------------------------
    def m_empty(self, params, mid, conn):
        return {}

    def m_run_if_waiting(self, params, mid, conn):
        # Answer first: a short program may exit as soon as it is released.
        self.send(conn, {"id": mid, "result": {}})
        conn.flush(1.0)
        self.released.set()
        return DEFERRED

    def flush_at_exit(self):
        if self.pending is not None:
            self._settle()
        conn = self.server.current
        if conn is not None and not self.dead:
            conn.flush(1.0)

    def m_heap_usage(self, params, mid, conn):
        used = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
        return {"usedSize": used, "totalSize": read_rss()[0], "embedderHeapUsedSize": 0, "backingStorageSize": 0}

    def m_collect_garbage(self, params, mid, conn):
        gc.collect()
        if self.malloc_trim_at_gc:
            before = read_rss()[0]
            if malloc_trim():
                self.trimmed_last = max(0, before - read_rss()[0])
                self.trimmed_total += self.trimmed_last
                self.trims += 1
        return {}

    def m_start_sampling(self, params, mid, conn):
        self.sampling_interval = params.get("samplingInterval")
        self.sampling_on = True
        if self.mode == "script":
            self._start_tracing()
            self.explicit_tracing = True
        # harness: tracing starts with the first measured run; worker: at sampled tasks.
        return {}

    def m_stop_sampling(self, params, mid, conn):
        result = self.sampling_profile()
        self.sampling_on = False
        if self.mode != "harness":
            self._stop_tracing()
        return result

    def m_get_sampling_profile(self, params, mid, conn):
        return self.sampling_profile()

    def m_get_stats(self, params, mid, conn):
        return self.stats()

    def m_configure(self, params, mid, conn):
        if "sampleEvery" in params and "budget" in params:
            raise CdpError(-32602, "give sampleEvery (one in K) or budget (a time fraction), not both")
        if "budget" in params:
            b = params["budget"]
            if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 < b <= 1:
                raise CdpError(-32602, "budget must be a fraction of wall time, 0 < budget <= 1")
            self.budget = float(b)
            self.sampler.budget = float(b)
            self.sample_every = None
        if "sampleEvery" in params:
            k = params["sampleEvery"]
            if not isinstance(k, int) or isinstance(k, bool) or k < 0:
                raise CdpError(-32602, "sampleEvery must be an integer >= 0 (0 = never)")
            self.sample_every = k
        if "nframe" in params:
            n = params["nframe"]
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 100:
                raise CdpError(-32602, "nframe must be an integer from 1 to 100")
            self.nframe = n
        if "gcPerTask" in params:
            self.gc_per_task = bool(params["gcPerTask"])
        if "mallocTrim" in params:
            self.malloc_trim_at_gc = bool(params["mallocTrim"])
            if self.malloc_trim_at_gc:
                resolve_malloc_trim()
        return {}

    METHODS = {
        "Runtime.enable": m_empty,
        "Runtime.disable": m_empty,
        "Runtime.runIfWaitingForDebugger": m_run_if_waiting,
        "Runtime.getHeapUsage": m_heap_usage,
        "HeapProfiler.enable": m_empty,
        "HeapProfiler.disable": m_empty,
        "HeapProfiler.collectGarbage": m_collect_garbage,
        "HeapProfiler.startSampling": m_start_sampling,
        "HeapProfiler.stopSampling": m_stop_sampling,
        "HeapProfiler.getSamplingProfile": m_get_sampling_profile,
        "Taskmem.getStats": m_get_stats,
        "Taskmem.configure": m_configure,
    }

    def abandon_after_fork(self):
        self.dead = True
        self.server.abandon_after_fork()


def _main_thread_method(name):
    def handler(self, params, mid, conn):
        if self.main_queue is None:
            raise CdpError(-32000, "%s is only served by the taskmem harness (python -m taskmem_agent.harness)"
                           % name)
        self.main_queue.put(("call", name, params, (mid, conn)))
        return DEFERRED
    return handler


for _name in ("Taskmem.loadHarness", "Taskmem.runTask", "Taskmem.exit"):
    Agent.METHODS[_name] = _main_thread_method(_name)

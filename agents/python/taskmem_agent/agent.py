"""The agent: the process's identity and registration, its connection to the session, and what it
knows about the process (recycling settings, allocator trims).

Configuration is in config.py (kept across a fork), the CDP methods in methods.py, the endpoint in
channel.py, task bookkeeping and tracing in tasks.py, collections in gcwatch.py.  Threads: the
connection's threads answer most methods directly; work that must run on the main thread (the
harness's loadHarness / runTask / exit) is handed over through ``main_queue``.
"""
import gc
import os
import sys
import threading
import tracemalloc

from . import jsonio, methods
from .channel import ChannelServer
from .config import Config
from .gcwatch import GcWatch
from .procinfo import looks_like_celery_worker, parse_recycling, process_argv, read_rss
from .tasks import TaskTracer


class Agent:
    def __init__(self, ipc_dir, token, wait_ms, is_harness=False, title=None, argv=None, inherit=None,
                 attachable=False):
        """``inherit``: the parent's agent in a forked child, whose configuration this one keeps
        (not its counters or traces)."""
        self.ipc_dir = ipc_dir
        self.token = token
        self.wait_ms = wait_ms
        self.is_harness = is_harness
        self.argv = argv if argv is not None else process_argv()
        self.title = title or self._default_title()
        self.config = inherit.config.copy() if inherit is not None else Config(is_harness)
        self.released = threading.Event()
        self.attached = False
        self.dead = False
        self.registration_file = None
        self.attachable = attachable and not is_harness
        mode = "harness" if is_harness else ("worker" if looks_like_celery_worker(self.argv) else "script")
        self.tasks = TaskTracer(self.config, mode, self.emit, lambda: self.attached)
        self.gc = GcWatch()
        self.trim = {"last": 0, "total": 0, "count": 0}  # malloc_trim at the session's GCs
        # What the process is, found at startup or by the hooks; a forked child keeps what the app said.
        self.recycling = parse_recycling(self.argv)
        self.recycling_source = "argv" if any(v is not None for v in self.recycling.values()) else None
        self.celery_hooked = False
        if inherit is not None:
            self.celery_hooked = inherit.celery_hooked
            if inherit.recycling_source == "app":
                self.recycling = dict(inherit.recycling)
                self.recycling_source = "app"
        self.main_queue = methods.MainQueue() if is_harness else None
        self.server = ChannelServer(ipc_dir, token, self._on_message,
                                    on_connect=self._on_connect, on_disconnect=self._on_disconnect)
        self.server.on_writer_poll = self.tasks.writer_poll
        self.rss_source = read_rss()[1]

    @property
    def mode(self):
        """"harness", "worker" or "script" (task marks turn a script into a worker)."""
        return self.tasks.mode

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
        if self.attachable:
            return False  # nobody is waiting for it: a session attaches later, or never
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
        if self.tasks.explicit_tracing:
            self.tasks.stop_tracing()
        # A traced task waiting for the writer thread, which ends with the connection.
        self.tasks.settle_at_exit()
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
        gcs = self.gc.collections()
        tasks = self.tasks
        tracing = tracemalloc.is_tracing()
        cur, peak = tracemalloc.get_traced_memory() if tracing else (0, 0)
        return {
            "rss": rss, "rssSource": source,
            "allocatedBlocks": sys.getallocatedblocks(),
            "gcCollections": sum(gcs),
            "gcCollectionsByGeneration": gcs,
            "gcCounts": list(gc.get_count()),
            "tracing": tracing, "tracedCurrent": cur, "tracedPeak": peak,
            "tasksStarted": tasks.tasks_started, "tasksFinished": tasks.tasks_finished,
            "sampledTasks": tasks.sampled_tasks, "nframe": self.config.nframe,
            "sampling": "budget" if self.config.sample_every is None else "every",
            "sampleEvery": self.config.sample_every, "budget": self.config.budget,
            "tracedMs": round(tasks.sampler.traced_s * 1000.0, 3),
            "mode": self.mode, "pid": os.getpid(),
            "recycling": dict(self.recycling, source=self.recycling_source),
            "celery": self.celery_hooked,
            "taskSources": sorted(tasks.task_sources),
            "mallocTrim": dict(self.trim) if self.config.malloc_trim else None,
        }

    def gc_callback(self, phase, info):
        self.gc.callback(phase, info, self.server.current)

    def flush_at_exit(self):
        self.tasks.settle_at_exit()
        conn = self.server.current
        if conn is not None and not self.dead:
            self.tasks.send_counts(conn)  # the last counts, not left for a poll that will not come
            conn.flush(1.0)
        if not self.dead:
            self.server.remove_socket_file()  # a long session of recycled workers would collect them
            if self.attachable and self.registration_file:
                # The attach directory outlives sessions: what it lists must still run.
                try:
                    os.unlink(self.registration_file)
                except OSError:
                    pass

    def abandon_after_fork(self):
        self.dead = True
        self.server.abandon_after_fork()

"""The CDP subset the agent answers (docs/PROTOCOL.md §3): one function per method, and the dispatch.

Each method is ``fn(agent, params, mid, conn)`` -> a result, or ``DEFERRED`` when it answers itself
(or the main thread answers it).  Runs on the connection's reader thread.
"""
import collections
import tracemalloc

from . import jsonio
from .channel import Signal
from .config import ConfigError
from .procinfo import collect, malloc_trim, read_rss, resolve_malloc_trim

DEFERRED = object()


class CdpError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class MainQueue:
    """Work for the main thread (deque + raw-lock signal: nothing allocated while it waits)."""

    def __init__(self):
        self._items: collections.deque = collections.deque()
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


def send(conn, obj):
    try:
        text = jsonio.dumps(obj)
    except RecursionError:
        # A request id nested thousands deep cannot be echoed: answer without it.
        text = jsonio.dumps({"id": None, "error": {"code": -32600, "message": "Invalid request: id nested too deep"}})
    conn.send_text(text)


def dispatch(agent, conn, text):
    try:
        msg = jsonio.loads(text)
        if not isinstance(msg, dict):
            raise ValueError("not an object")
    except (ValueError, RecursionError) as e:
        # RecursionError: arrays nested thousands deep; the C scanner gives up, the connection stays.
        send(conn, {"id": None, "error": {"code": -32700, "message": f"Parse error: {e}"}})
        return
    mid = msg.get("id")
    method = msg.get("method")
    params = msg.get("params") or {}
    if not isinstance(method, str) or not isinstance(params, dict):
        send(conn, {"id": mid, "error": {"code": -32600, "message": "Invalid request"}})
        return
    handler = METHODS.get(method)
    if handler is None:
        send(conn, {"id": mid, "error": {"code": -32601, "message": f"'{method}' wasn't found"}})
        return
    try:
        result = handler(agent, params, mid, conn)
    except CdpError as e:
        send(conn, {"id": mid, "error": {"code": e.code, "message": e.message}})
        return
    except Exception as e:  # a bug in the agent must not kill the connection
        send(conn, {"id": mid, "error": {"code": -32000, "message": f"{type(e).__name__}: {e}"}})
        return
    if result is not DEFERRED:
        send(conn, {"id": mid, "result": result})


def empty(agent, params, mid, conn):
    return {}


def run_if_waiting(agent, params, mid, conn):
    # Answer first: a short program may exit as soon as it is released.
    send(conn, {"id": mid, "result": {}})
    conn.flush(1.0)
    agent.released.set()
    return DEFERRED


def collect_garbage(agent, params, mid, conn):
    collect()
    if agent.config.malloc_trim:
        before = read_rss()[0]
        if malloc_trim():
            trim = agent.trim
            trim["last"] = max(0, before - read_rss()[0])
            trim["total"] += trim["last"]
            trim["count"] += 1
    return {}


def start_sampling(agent, params, mid, conn):
    agent.tasks.sampling_interval = params.get("samplingInterval")
    agent.tasks.sampling_on = True
    if agent.mode == "script":
        agent.tasks.start_tracing()
        agent.tasks.explicit_tracing = True
    # harness: tracing starts with the first measured run; worker: at sampled tasks.
    return {}


def stop_sampling(agent, params, mid, conn):
    profile = agent.tasks.sampling_profile()["profile"]
    agent.tasks.sampling_on = False
    if agent.mode != "harness":
        agent.tasks.stop_tracing()
    return {"profile": profile}


def get_sampling_profile(agent, params, mid, conn):
    # The DevTools shape, for any CDP client; the session asks Taskmem.getSamplingProfile.
    return {"profile": agent.tasks.sampling_profile()["profile"]}


def taskmem_sampling_profile(agent, params, mid, conn):
    return agent.tasks.sampling_profile()


def get_stats(agent, params, mid, conn):
    return agent.stats()


def configure(agent, params, mid, conn):
    try:
        agent.config.apply(params)
    except ConfigError as e:
        raise CdpError(-32602, str(e)) from None
    agent.tasks.sampler.budget = agent.config.budget
    if agent.config.malloc_trim:
        resolve_malloc_trim()
    return {}


def _why_params(params):
    """-> (runs, maxObjects, timeBudgetMs) of ``Taskmem.whyRetained``, checked."""
    def count(key, default, low):
        v = params.get(key, default)
        if type(v) is not int or v < low:
            raise CdpError(-32602, f"whyRetained: '{key}' must be an integer >= {low}")
        return v
    return count("runs", None, 1), count("maxObjects", 2_000_000, 1), count("timeBudgetMs", 5000, 1)


def why_retained(agent, params):
    """``Taskmem.whyRetained``: in the harness on the main thread (harness.py), between runs, so no
    task changes the heap under the walk; elsewhere on the reader thread: a script or worker has no
    loop to hand it to, and its own threads keep running (the walk is a reading, not a pause)."""
    runs, max_objects, budget = _why_params(params)
    if not tracemalloc.is_tracing():
        raise CdpError(-32000, "whyRetained needs tracemalloc tracing: in the harness after a measured run, in "
                               "a script after HeapProfiler.startSampling (a worker traces only inside sampled tasks)")
    from .why import why_retained as walk  # ast, and the walk's modules, only when asked
    return walk(runs, max_objects, budget)


def taskmem_why_retained(agent, params, mid, conn):
    if agent.main_queue is not None:
        _why_params(params)  # bad params answered at once
        agent.main_queue.put(("call", "Taskmem.whyRetained", params, (mid, conn)))
        return DEFERRED
    return why_retained(agent, params)


def _main_thread_method(name):
    def handler(agent, params, mid, conn):
        if agent.main_queue is None:
            raise CdpError(-32000, f"{name} is only served by the taskmem harness (python -m taskmem_agent.harness)")
        agent.main_queue.put(("call", name, params, (mid, conn)))
        return DEFERRED
    return handler


METHODS = {
    "Runtime.enable": empty,
    "Runtime.disable": empty,
    "Runtime.runIfWaitingForDebugger": run_if_waiting,
    "HeapProfiler.enable": empty,
    "HeapProfiler.disable": empty,
    "HeapProfiler.collectGarbage": collect_garbage,
    "HeapProfiler.startSampling": start_sampling,
    "HeapProfiler.stopSampling": stop_sampling,
    "HeapProfiler.getSamplingProfile": get_sampling_profile,
    "Taskmem.getStats": get_stats,
    "Taskmem.getSamplingProfile": taskmem_sampling_profile,
    "Taskmem.configure": configure,
    "Taskmem.whyRetained": taskmem_why_retained,
}
for _name in ("Taskmem.loadHarness", "Taskmem.runTask", "Taskmem.exit"):
    METHODS[_name] = _main_thread_method(_name)

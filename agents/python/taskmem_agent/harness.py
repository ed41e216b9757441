"""``python -m taskmem_agent.harness``: calls one function of the user's N times for the session.

Registers like any process (with ``"isHarness": true``), then runs ``Taskmem.loadHarness`` /
``Taskmem.runTask`` / ``Taskmem.exit`` on the MAIN thread, handed over by the connection's reader thread
through a queue, until the client disconnects or ``Taskmem.exit`` arrives.
"""
import importlib
import inspect
import os
import sys
import time
import traceback
import tracemalloc

from . import install
from .methods import CdpError, send, why_retained
from .procinfo import collect, malloc_trim, read_rss, resolve_malloc_trim


def _display(path):
    try:
        rel = os.path.relpath(path)
        if not rel.startswith(".."):
            return rel
    except ValueError:
        pass
    return path


def _module_name_for(path):
    """-> (sys.path root, dotted module name): climb while the directory is a package."""
    path = os.path.abspath(path)
    directory, base = os.path.split(path)
    parts = [os.path.splitext(base)[0]]
    if parts[0] == "__init__":
        parts = []
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, pkg = os.path.split(directory)
        parts.insert(0, pkg)
    return directory, ".".join(parts)


def _is_celery_task(obj):
    cls = type(obj)
    return any(c.__module__.startswith("celery.") and c.__name__ == "Task" for c in cls.__mro__) \
        if hasattr(cls, "__mro__") else False


def _candidates(module):
    names = []
    for name, value in sorted(vars(module).items()):
        if name.startswith("_"):
            continue
        if _is_celery_task(value):
            names.append(name)
        elif callable(value) and not inspect.ismodule(value) \
                and getattr(value, "__module__", None) == module.__name__:
            names.append(name)  # functions, decorated functions (lru_cache...), classes
    return names


class Harness:
    def __init__(self, agent):
        self.agent = agent
        self.fn = None
        self.args = []
        self.label = None

    def load(self, params):
        file = params.get("file")
        export = params.get("exportName") or "default"
        args = params.get("args") or []
        if not isinstance(file, str) or not file:
            raise CdpError(-32602, "loadHarness needs 'file'")
        if not isinstance(args, list):
            raise CdpError(-32602, "'args' must be a list")
        path = os.path.abspath(file)
        shown = _display(path)
        if not os.path.isfile(path):
            raise CdpError(-32000, f"{shown}: no such file")
        root, modname = _module_name_for(path)
        if not modname:
            raise CdpError(-32000, f"{shown}: cannot derive a module name")
        if root not in sys.path:
            sys.path.insert(0, root)
        try:
            if modname in sys.modules:
                module = sys.modules[modname]
            else:
                module = importlib.import_module(modname)
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            tb = traceback.format_exc()
            raise CdpError(-32000, f"{shown} failed to import: {type(e).__name__}: {e}\n{tb}")
        obj = module
        for part in export.split("."):
            if not hasattr(obj, part):
                found = ", ".join(_candidates(module)) or "nothing callable"
                raise CdpError(-32000, f"{shown} has no function '{export}' (found: {found})")
            obj = getattr(obj, part)
        if not callable(obj):
            raise CdpError(-32000, f"{shown}: '{export}' is a {type(obj).__name__}, not a function")
        self.fn = obj  # a Celery task object is called in-process: Task.__call__ runs .run, no broker
        resolve_malloc_trim()
        self.args = args
        self.label = export
        return {"ok": True, "celeryTask": _is_celery_task(obj), "module": modname}

    def run(self, params):
        if self.fn is None:
            raise CdpError(-32000, "runTask before loadHarness")
        measure = bool(params.get("measure"))
        agent = self.agent
        if measure and not tracemalloc.is_tracing():
            # First measured run: imports and warm-up stay out of the traces.
            tracemalloc.start(agent.config.nframe)
        error = None
        t0 = time.perf_counter()
        try:
            r = self.fn(*self.args)
            if inspect.isawaitable(r):
                import asyncio

                async def _wait(aw):
                    return await aw
                r = asyncio.run(_wait(r))
            r = None
        except BaseException as e:
            if isinstance(e, KeyboardInterrupt):
                raise
            error = {"message": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
            del e
        duration = (time.perf_counter() - t0) * 1000.0
        if measure or agent.config.gc_per_task:
            collect()
        result = {"index": params.get("index"), "durationMs": round(duration, 3)}
        if measure:
            result["retainedBytes"] = traced = tracemalloc.get_traced_memory()[0]
        result["rss"] = rss = read_rss()[0]
        if measure:
            # What C code holds (extensions, ctypes, the allocator): RSS once malloc_trim(0) has
            # returned the allocator's free pages, less what tracemalloc traces and its own tables.
            if malloc_trim():
                trimmed_rss = read_rss()[0]
                result["trimmedBytes"] = max(0, rss - trimmed_rss)
                rss = trimmed_rss
            result["untracedBytes"] = rss - traced - tracemalloc.get_tracemalloc_memory()
        result["allocatedBlocks"] = sys.getallocatedblocks()
        if error is not None:
            result["error"] = error
        agent.tasks.tasks_started += 1
        agent.tasks.tasks_finished += 1
        if measure:
            agent.tasks.sampled_tasks += 1
        return result

    def loop(self):
        agent = self.agent
        q = agent.main_queue
        while True:
            kind, method, params, reply = q.get()
            if kind == "disconnect":
                return 0
            mid, conn = reply
            if method == "Taskmem.exit":
                send(conn, {"id": mid, "result": {}})
                conn.flush()
                return 0
            try:
                if method == "Taskmem.loadHarness":
                    result = self.load(params)
                elif method == "Taskmem.whyRetained":
                    result = why_retained(agent, params)
                else:
                    result = self.run(params)
                send(conn, {"id": mid, "result": result})
            except CdpError as e:
                send(conn, {"id": mid, "error": {"code": e.code, "message": e.message}})
            except Exception as e:
                send(conn, {"id": mid, "error": {"code": -32000, "message": f"{type(e).__name__}: {e}"}})


def main():
    agent = install(is_harness=True)
    if agent is None:
        sys.stderr.write("taskmem: harness: TASKMEM_IPC_DIR / TASKMEM_TOKEN not set or agent failed\n")
        return 2
    if not agent.released.is_set():
        sys.stderr.write("taskmem: harness: no session attached; exiting\n")
        return 2
    code = Harness(agent).loop()
    agent.server.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())

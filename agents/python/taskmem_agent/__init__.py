"""Task Memory Profiler agent for Python: gives a process a private CDP endpoint (see docs/PROTOCOL.md).

``install()`` is called by ``sitecustomize`` (and by the harness).  Nothing here may crash the user's
program: failures print ``taskmem: agent disabled: <reason>`` and the program runs unprofiled.
"""
import os
import sys
# threading registers its own fork handler when first imported, and fork handlers run in the order
# they were registered: ours (install) starts the child's agent threads, which threading's handler,
# run after it, would drop from its books (not alive to join; a KeyError traceback from each as it
# ends, on every Stop of a Celery prefork worker).  Imported here, it is registered first.
import threading  # noqa: F401

_agent = None
_hooks_installed = False
_fork_children = [0]
# Set around a fork whose child needs no agent of its own: an RQ work-horse (rq_hook.py).
skip_fork_child = [False]


def current():
    """The live agent of this process, or None."""
    a = _agent
    if a is None or a.dead:
        return None
    return a


def _disabled(reason):
    try:
        sys.stderr.write(f"taskmem: agent disabled: {reason}\n")
        sys.stderr.flush()
    except Exception:
        pass


def _env():
    ipc_dir = os.environ.get("TASKMEM_IPC_DIR")
    token = os.environ.get("TASKMEM_TOKEN")
    if not ipc_dir or not token:
        return None
    if attachable():
        return ipc_dir, token, 0  # runs on at once: a session attaches whenever it likes
    try:
        wait_ms = int(os.environ.get("TASKMEM_WAIT_MS", "10000"))
    except ValueError:
        wait_ms = 10000
    return ipc_dir, token, max(0, wait_ms)


def attachable():
    """Started to be attached to later (``taskmem env``): registered in the user's attach directory,
    not waiting for a session, and unregistered at exit."""
    return os.environ.get("TASKMEM_ATTACHABLE") == "1"


def _gc_callback(phase, info):
    # Called twice per collection, thousands of times a second in allocation-heavy code: only
    # generation 2 gets past the first test (the agent counts collections from gc.get_stats()).
    if info["generation"] != 2:
        return
    a = _agent
    if a is not None and not a.dead:
        try:
            a.gc_callback(phase, info)
        except Exception:
            pass


def _flush_at_exit():
    a = _agent
    if a is not None:
        try:
            a.flush_at_exit()  # task events of the last moments
        except Exception:
            pass


def _before_fork():
    _fork_children[0] += 1


def _after_fork_child():
    global _agent
    old = _agent
    if old is None:
        return
    try:
        old.abandon_after_fork()
        _agent = None
        from .procinfo import in_subprocess_preexec, statm_after_fork
        statm_after_fork()
        import tracemalloc
        if tracemalloc.is_tracing():
            # Inherited traces describe the parent's allocations: drop them (stop() clears them).
            tracemalloc.stop()
        if in_subprocess_preexec():
            return  # subprocess fork+exec with preexec_fn: the child execs right away
        if skip_fork_child[0]:
            return
        env = _env()
        if env is None:
            return
        title = old.title
        if title == "celery worker" or title.startswith("celery worker ("):
            title = f"celery worker (child {_fork_children[0]})"
        else:
            title = f"{old.title.split(' (fork ')[0]} (fork {_fork_children[0]} of {os.getppid()})"
        _fork_children[0] = 0
        _start(env, is_harness=False, title=title, argv=old.argv, inherit=old)
    except Exception as e:
        _agent = None
        _disabled(f"{type(e).__name__}: {e}")


def _start(env, is_harness, title=None, argv=None, inherit=None):
    global _agent
    from .agent import Agent
    ipc_dir, token, wait_ms = env
    # A forked child opens its own socket and keeps the session's configuration (Agent.__init__).
    agent = Agent(ipc_dir, token, wait_ms, is_harness=is_harness, title=title, argv=argv, inherit=inherit,
                  attachable=attachable())
    agent.start()
    _agent = agent
    agent.register()
    agent.wait_for_attach()
    return agent


def _install_task_hooks():
    """Tasks without code changes: Celery, RQ, Flask and Django, each once the app imports it."""
    from .marks import enabled_sources
    sources = enabled_sources()
    if "celery" in sources:
        from . import celery_hook
        celery_hook.install()
    if "rq" in sources:
        from . import rq_hook
        rq_hook.install()
    if "flask" in sources or "django" in sources:
        from . import web_hooks
        web_hooks.install(sources)


def install(is_harness=False):
    """Start the endpoint, register, hook Celery/RQ/Flask/Django, wait for the session.  -> the agent or None."""
    global _hooks_installed
    env = _env()
    if env is None:
        return None
    try:
        if not os.path.isdir(env[0]):
            raise RuntimeError(f"TASKMEM_IPC_DIR {env[0]!r} is not a directory")
        if not _hooks_installed:
            import gc
            gc.callbacks.append(_gc_callback)
            import atexit
            atexit.register(_flush_at_exit)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(before=_before_fork, after_in_child=_after_fork_child)
            if not is_harness:
                _install_task_hooks()
            _hooks_installed = True
        return _start(env, is_harness)
    except Exception as e:
        _disabled(f"{type(e).__name__}: {e}")
        return None

"""Task marks for the Python bench workloads, the way a Celery worker makes them.

With Celery installed, ``celery.signals.task_prerun`` / ``task_postrun`` are sent (Celery's own
signal objects; without a profiler nobody listens and a send costs a few microseconds); the
taskmem agent hooks those signals when it is present. Without Celery the marks go straight to the
agent if there is one, and cost nothing otherwise.
"""
try:
    from celery.signals import task_prerun as _prerun, task_postrun as _postrun
except ImportError:  # pragma: no cover - depends on the interpreter
    _prerun = _postrun = None


class _Task(object):
    """Stands in for a Celery task object: the signals pass it as ``sender`` and ``task``."""

    def __init__(self, fn):
        self.fn = fn
        self.name = fn.__name__

    def __call__(self, *args):
        return self.fn(*args)


def task(fn):
    return _Task(fn)


def _agent():
    try:
        import taskmem_agent
    except ImportError:
        return None
    return taskmem_agent.current()


USING = "celery.signals" if _prerun is not None else "taskmem_agent"


def run_task(t, task_id, *args):
    """Calls task ``t`` between prerun and postrun marks; returns its result."""
    if _prerun is not None:
        _prerun.send(sender=t, task_id=task_id, task=t, args=args, kwargs={})
        try:
            result = t(*args)
        finally:
            _postrun.send(sender=t, task_id=task_id, task=t, args=args, kwargs={}, retval=None, state="SUCCESS")
        return result
    agent = _agent()
    if agent is not None:
        agent.tasks.task_started(t.name, task_id)
    try:
        return t(*args)
    finally:
        if agent is not None:
            agent.tasks.task_finished(t.name, task_id)


def warm_up(run_one):
    """One task before the timed loop, as a worker has run tasks before the steady state the bench
    measures.  It also keeps one-off costs out of the per-task figure: first calls, and, under the
    profiler, the switch of this script (which starts in the agent's script mode, where the session
    traces from the start) to worker mode at its first task mark, which stops and frees that
    start-up tracing (~50 ms once; a ``celery worker`` command line is in worker mode from the
    start and has no such switch)."""
    run_one()

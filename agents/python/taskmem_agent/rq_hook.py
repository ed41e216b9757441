"""RQ jobs as tasks: ``rq.job.Job._execute`` is wrapped once ``rq.job`` is imported.

Why the job and not the worker: ``Job.perform`` is where every rq worker class runs the job's
function (``SimpleWorker`` in the worker itself, the forking ``Worker`` in its work-horse,
``Queue(is_async=False)`` inline), and its signature (``self`` only) has not changed across rq 1.x,
whereas ``Worker.perform_job`` gained and lost arguments and is what custom worker classes
override.  Inside it, ``Job._execute`` (also ``self`` only) calls just the function; ``perform``
first makes a Redis call, whose socket buffer, grown once inside a traced job, would count as kept
by it.  So ``_execute`` is wrapped where it exists, else ``perform``.  Each job is named by its
function (``job.func_name``: ``app.jobs.ingest``).

The default ``Worker`` forks a work-horse per job, which runs that one job and ends with
``os._exit``.  What a job keeps ends with its horse, and a horse's one job would be its warm-up
run (never traced): following each horse as a target would cost an attach per job and measure
nothing.  So a work-horse gets no agent of its own (``Worker.fork_work_horse`` is wrapped to say
so), and the worker reports ``rq-fork``: the report says why its jobs have no figures and that
``--worker-class rq.worker.SimpleWorker`` runs them where they can be measured.
"""
import sys

from . import marks

_pkg = sys.modules[__name__.rpartition(".")[0]]


def _job_name(job):
    try:
        name = job.func_name
    except Exception:
        name = None
    return name if isinstance(name, str) and name else "rq job"


def _mark_wrapped(wrapper, real):
    wrapper._taskmem = True
    wrapper.__wrapped__ = real
    wrapper.__name__ = real.__name__
    wrapper.__doc__ = real.__doc__
    return wrapper


def wrap_job(job_module):
    job_class = job_module.Job
    method = "_execute" if callable(getattr(job_class, "_execute", None)) else "perform"
    real = getattr(job_class, method)
    if getattr(real, "_taskmem", False):
        return

    def run(self, *args, **kwargs):
        a = marks.agent()
        if a is None:
            return real(self, *args, **kwargs)
        name = _job_name(self)
        task_id = getattr(self, "id", None) or marks.next_id()
        marks.started(a, "rq", name, task_id)
        try:
            return real(self, *args, **kwargs)
        finally:
            marks.finished(a, "rq", name, task_id)

    setattr(job_class, method, _mark_wrapped(run, real))
    a = marks.agent()
    if a is not None:
        a.tasks.prepare_tracing()


def wrap_worker(worker_module):
    worker_class = getattr(worker_module, "Worker", None)
    real = getattr(worker_class, "fork_work_horse", None)
    if worker_class is not None and real is not None and not getattr(real, "_taskmem", False):
        worker_class.fork_work_horse = _mark_wrapped(_horse_without_agent(real), real)


def _horse_without_agent(real):
    def fork_work_horse(self, *args, **kwargs):
        a = marks.agent()
        if a is not None and "rq-fork" not in a.tasks.task_sources:
            a.tasks.task_sources.add("rq-fork")
            # A worker whose jobs run elsewhere: not a script to trace throughout (which would
            # slow the worker loop and hand every horse a traced heap to drop).
            a.tasks.become_worker()
        _pkg.skip_fork_child[0] = True  # read by the agent's at-fork hook in the child
        try:
            return real(self, *args, **kwargs)
        finally:
            _pkg.skip_fork_child[0] = False
    return fork_work_horse


def install():
    from .imports import when_imported
    when_imported("rq.job", wrap_job)
    when_imported("rq.worker", wrap_worker)

"""Connect Celery's task signals without editing the app.

Once the application imports ``celery.signals`` (see imports.py: Celery itself is never imported
by the agent), ``task_prerun`` / ``task_postrun`` mark each task and ``worker_process_init`` tells
a prefork child.
"""
import sys

_connected = [False]


_pkg = sys.modules[__name__.rpartition(".")[0]]  # taskmem_agent: its _agent is the live agent


def _agent():
    a = _pkg._agent
    return None if a is None or a.dead else a


def _task_name(sender, task):
    t = task if task is not None else sender
    name = getattr(t, "name", None)
    return name if isinstance(name, str) else repr(t)


def on_task_prerun(sender=None, task_id=None, task=None, **kwargs):
    a = _pkg._agent
    if a is None or a.dead:
        return
    try:
        if a.recycling_source is None and task is not None:
            conf = getattr(getattr(task, "app", None), "conf", None)
            if conf is not None:
                a.recycling = {"maxTasksPerChild": conf.get("worker_max_tasks_per_child"),
                               "maxMemoryPerChild": conf.get("worker_max_memory_per_child")}
                a.recycling_source = "app"
        a.tasks.task_sources.add("celery")
        a.tasks.task_started(_task_name(sender, task), task_id)
    except Exception as e:
        _warn(e)


def on_task_postrun(sender=None, task_id=None, task=None, **kwargs):
    a = _pkg._agent
    if a is None or a.dead:
        return
    try:
        a.tasks.task_finished(_task_name(sender, task), task_id)
    except Exception as e:
        _warn(e)


def on_worker_process_init(sender=None, **kwargs):
    a = _agent()
    if a is not None:
        a.pool_child = True


_warned = [False]


def _warn(e):
    if not _warned[0]:
        _warned[0] = True
        sys.stderr.write(f"taskmem: celery hook failed: {type(e).__name__}: {e}\n")


def connect(signals_module):
    if _connected[0]:
        return
    _connected[0] = True
    signals_module.task_prerun.connect(on_task_prerun, weak=False)
    signals_module.task_postrun.connect(on_task_postrun, weak=False)
    signals_module.worker_process_init.connect(on_worker_process_init, weak=False)
    a = _agent()
    if a is not None:
        a.celery_hooked = True
        # A process that loads Celery's signals runs tasks: load the tracing helpers now, at
        # import time, rather than inside the first traced task.
        a.tasks.prepare_tracing()


def install():
    from .imports import when_imported
    when_imported("celery.signals", connect)

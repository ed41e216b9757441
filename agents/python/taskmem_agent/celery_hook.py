"""Connect Celery's task signals without editing the app.

A meta-path finder sits first on ``sys.meta_path`` and waits for ``celery`` / ``celery.signals``;
it asks the other finders for the real spec and wraps the real loader so that, once the module
has executed, the signal handlers are connected.  Celery itself is never imported by the agent:
the handlers exist only if the application imports it.

The finder is duck-typed (a ``find_spec`` method is all the import system needs) rather than a
subclass of ``importlib.abc.MetaPathFinder``, to keep ``importlib.abc`` out of every start-up.
"""
import sys

WATCHED = ("celery", "celery.signals")
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
        a.task_started(_task_name(sender, task), task_id)
    except Exception as e:
        _warn(e)


def on_task_postrun(sender=None, task_id=None, task=None, **kwargs):
    a = _pkg._agent
    if a is None or a.dead:
        return
    try:
        a.task_finished(_task_name(sender, task), task_id)
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
        sys.stderr.write("taskmem: celery hook failed: %s: %s\n" % (type(e).__name__, e))


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
        a.prepare_tracing()


class _WrappedLoader(object):
    def __init__(self, real, fullname):
        self._real = real
        self._fullname = fullname

    def create_module(self, spec):
        create = getattr(self._real, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:
            spec.loader = self._real  # be transparent to importlib.resources & co.
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._real
        self._real.exec_module(module)
        try:
            if self._fullname == "celery.signals":
                connect(module)
        except Exception as e:
            _warn(e)

    def __getattr__(self, name):
        return getattr(self._real, name)


class CeleryFinder(object):
    def __init__(self):
        self._busy = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in WATCHED or self._busy or _connected[0]:
            return None
        self._busy = True
        try:
            for finder in sys.meta_path:
                if finder is self:
                    continue
                find = getattr(finder, "find_spec", None)
                if find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = _WrappedLoader(spec.loader, fullname)
                    return spec
            return None
        finally:
            self._busy = False

    def invalidate_caches(self):
        pass


def install():
    mod = sys.modules.get("celery.signals")
    if mod is not None:
        connect(mod)
        return
    if not any(isinstance(f, CeleryFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, CeleryFinder())

"""Run a callback once a module has been imported, without importing it ourselves.

A meta-path finder sits first on ``sys.meta_path`` and waits for the watched names; it asks the
other finders for the real spec and wraps the real loader so that, once the module has executed,
the callback runs with the module.  Frameworks are never imported by the agent: the hooks exist
only if the application imports them.

The finder is duck-typed (a ``find_spec`` method is all the import system needs) rather than a
subclass of ``importlib.abc.MetaPathFinder``, to keep ``importlib.abc`` out of every start-up.
"""
import sys

_callbacks: dict = {}  # module name -> [callback(module)], until it is imported


def _warn(what, e):
    sys.stderr.write(f"taskmem: {what} hook failed: {type(e).__name__}: {e}\n")


def _run(fullname, module):
    for callback in _callbacks.pop(fullname, []):
        try:
            callback(module)
        except Exception as e:  # a hook must never break the import
            _warn(fullname, e)


class _WrappedLoader:
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
        _run(self._fullname, module)

    def __getattr__(self, name):
        return getattr(self._real, name)


class ImportHookFinder:
    def __init__(self):
        self._busy = False

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _callbacks or self._busy:
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


def when_imported(fullname, callback):
    """``callback(module)`` once ``fullname`` has executed (now, when it already has)."""
    module = sys.modules.get(fullname)
    if module is not None:
        try:
            callback(module)
        except Exception as e:
            _warn(fullname, e)
        return
    _callbacks.setdefault(fullname, []).append(callback)
    if not any(isinstance(f, ImportHookFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, ImportHookFinder())

"""Flask and Django requests as tasks, from their request signals, named by method and route.

Flask: ``request_started`` (the request is routed by then: ``request.url_rule``) to the close of
the response ``request_finished`` carries (``call_on_close``: sent by then, as Django's end), or to
``request_tearing_down`` when the view raised past Flask's error handlers (no response).
Django (WSGI): ``request_started`` to ``request_finished`` (sent when the server closes the
response).  Neither carries the request: ``request_started`` has the WSGI ``environ``, so the path
is resolved there (``django.urls.resolve(path).route``, what the handler will match with the
default URLconf) and kept in a thread-local until ``request_finished`` on the same thread.
Under ASGI ``request_started`` has a ``scope`` and the response closes on another thread: not marked.

Requests that overlap share one process: see marks.py for the bookkeeping and the README for what
overlap does to per-request figures.
"""
import sys
import threading

from . import marks

_ENVIRON_KEY = "taskmem.task"
_django_open = threading.local()


# -- Flask ---------------------------------------------------------------------------------------
def _flask_request():
    flask = sys.modules.get("flask")
    return flask.request._get_current_object() if flask is not None else None


def on_flask_started(sender=None, **extra):
    a = marks.agent()
    if a is None:
        return
    try:
        request = _flask_request()
        if request is None:
            return
        rule = getattr(request, "url_rule", None)
        from .naming import request_task_name  # loaded once Flask is (it imports re)
        name = request_task_name(request.method, getattr(rule, "rule", None), request.path)
        task_id = marks.next_id()
        request.environ[_ENVIRON_KEY] = (name, task_id)
    except Exception as e:
        marks.warn("flask", e)
        return
    marks.request_started(a, "flask", name, task_id)


def _flask_finish(a, entry):
    return lambda: marks.request_finished(a, "flask", entry[0], entry[1])


def on_flask_finished(sender=None, response=None, **extra):
    """The response is ready but not sent: the task ends when the server closes it."""
    a = marks.agent()
    if a is None:
        return
    try:
        request = _flask_request()
        entry = request.environ.get(_ENVIRON_KEY) if request is not None else None
        if entry is not None and callable(getattr(response, "call_on_close", None)):
            response.call_on_close(_flask_finish(a, entry))
            request.environ[_ENVIRON_KEY] = None
    except Exception as e:
        marks.warn("flask", e)


def on_flask_teardown(sender=None, **extra):
    """A request that raised past Flask's handlers has no response to close: it ends here."""
    a = marks.agent()
    if a is None:
        return
    try:
        request = _flask_request()
        entry = request.environ.pop(_ENVIRON_KEY, None) if request is not None else None
    except Exception as e:
        marks.warn("flask", e)
        return
    if entry is not None:
        marks.request_finished(a, "flask", entry[0], entry[1])


def connect_flask(signals_module):
    if not getattr(signals_module, "signals_available", True):
        sys.stderr.write("taskmem: Flask requests are not marked as tasks: blinker is not installed\n")
        return
    signals_module.request_started.connect(on_flask_started, weak=False)
    signals_module.request_finished.connect(on_flask_finished, weak=False)
    signals_module.request_tearing_down.connect(on_flask_teardown, weak=False)
    a = marks.agent()
    if a is not None:
        a.tasks.prepare_tracing()


# -- Django --------------------------------------------------------------------------------------
def _django_route(path):
    """The pattern Django's default URLconf matches for ``path`` (``users/<int:pk>/``), or None."""
    try:
        from django.urls import Resolver404, resolve  # type: ignore[import]
    except Exception:
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    except Exception:
        return None
    route = getattr(match, "route", None)
    return route if isinstance(route, str) else None


def _django_path(environ):
    try:
        from django.core.handlers.wsgi import get_path_info  # type: ignore[import]
        return get_path_info(environ) or "/"
    except Exception:
        path = environ.get("PATH_INFO")
        return path if isinstance(path, str) and path else "/"


def on_django_started(sender=None, environ=None, **kwargs):
    a = marks.agent()
    if a is None or not isinstance(environ, dict):
        return
    stale = getattr(_django_open, "task", None)
    if stale is not None:
        # The last response of this thread was never closed: end its task rather than keep it open.
        _django_open.task = None
        marks.request_finished(a, "django", stale[0], stale[1])
    try:
        path = _django_path(environ)
        from .naming import request_task_name  # loaded once Django is (it imports re)
        name = request_task_name(environ.get("REQUEST_METHOD"), _django_route(path), path)
        task_id = marks.next_id()
    except Exception as e:
        marks.warn("django", e)
        return
    _django_open.task = (name, task_id)
    marks.request_started(a, "django", name, task_id)


def on_django_finished(sender=None, **kwargs):
    entry = getattr(_django_open, "task", None)
    if entry is None:
        return
    _django_open.task = None
    a = marks.agent()
    if a is not None:
        marks.request_finished(a, "django", entry[0], entry[1])


def connect_django(signals_module):
    signals_module.request_started.connect(on_django_started, weak=False, dispatch_uid="taskmem.started")
    signals_module.request_finished.connect(on_django_finished, weak=False, dispatch_uid="taskmem.finished")
    a = marks.agent()
    if a is not None:
        a.tasks.prepare_tracing()


def install(sources):
    from .imports import when_imported
    if "flask" in sources:
        when_imported("flask.signals", connect_flask)
    if "django" in sources:
        when_imported("django.core.signals", connect_django)

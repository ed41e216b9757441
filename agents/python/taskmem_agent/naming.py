"""Task names for HTTP requests: method and route, as the Node side names them.

Mirrors ``collapsePath`` / ``requestTaskName`` in src/launch/httpTasks.ts (same id rules, same
``:id``, same 120-character cap); test/fixtures/http-task-names.json holds the cases both check.
Pure: no framework is imported here.
"""
import re

# Path segments that are ids, not routes: numbers, UUIDs, long hex, and long mixed tokens.
_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}"
    r"|(?=[^/]*\d)[A-Za-z0-9_-]{20,})$", re.IGNORECASE | re.ASCII)
# Longest task name: a path with hundreds of segments is still one route.
MAX_NAME = 120


def collapse_path(url):
    """``/users/42/orders?x=1`` -> ``/users/:id/orders``."""
    path = re.split(r"[?#]", url, maxsplit=1)[0] or "/"
    return "/".join(":id" if _ID_SEGMENT.match(s) else s for s in path.split("/")) or "/"


def request_task_name(method, route, path):
    """``GET /users/<int:id>``: the framework's route when it matched one, else the collapsed path."""
    verb = method.upper() if isinstance(method, str) and method else "HTTP"
    if isinstance(route, str):
        where = route if route.startswith("/") else "/" + route  # Django's routes have no leading /
    else:
        where = collapse_path(path if isinstance(path, str) else "/")
    name = f"{verb} {where}"
    return name if len(name) <= MAX_NAME else name[:MAX_NAME - 1] + "\u2026"

"""Task marks from the framework hooks (rq_hook, web_hooks): the live agent, under one lock.

Request threads of a threaded server start and end tasks at the same time; the agent's
bookkeeping (the one traced task, the one pending settle) was written for one task at a time, so
the hooks take turns on it.  Only the bookkeeping is serialized, not the requests.  Celery's
signals come from one thread per process and call the agent directly.
"""
import itertools
import os
import sys
import threading
import time

_pkg = sys.modules[__name__.rpartition(".")[0]]  # taskmem_agent: its _agent is the live agent
_ids = itertools.count(1)
_warned: set = set()

SOURCES = ("celery", "rq", "flask", "django")


def agent():
    a = _pkg._agent
    return None if a is None or a.dead else a


def next_id():
    return next(_ids)  # atomic under the GIL


def warn(source, e):
    if source not in _warned:
        _warned.add(source)
        sys.stderr.write(f"taskmem: {source} hook failed: {type(e).__name__}: {e}\n")


# How long a request waits at its start for a traced one to end; then it goes ahead and the traced
# request is reported unmeasured (a view that calls its own server must not deadlock).
GATE_S = 1.0
# After a drain that timed out (a request that stays in flight: a stream, a long poll), no request
# waits for one again for this long; meanwhile requests are not traced.
DRAIN_BACKOFF_S = 10.0


class RequestGate:
    """Requests of a threaded server, traced one at a time and alone.

    tracemalloc sees every thread: a request traced while others run would count what they keep
    (another view's leak) and what they hold at that moment.  So a request chosen for tracing
    first waits for the requests in flight to end (new ones wait for it meanwhile), runs alone,
    and lets the waiting ones go when it ends; those waits last at most GATE_S.  A request that
    arrived while it ran was read and set up by the server before it reached this gate, inside
    the traced window: that traced request is reported unmeasured (counted, no figure), as is one
    during which a thread started (a connection accepted by a thread-per-connection server, whose
    request had not reached the gate yet) and one that another went ahead of after GATE_S.
    Untraced requests overlap freely."""

    def __init__(self):
        self.cond = threading.Condition(threading.Lock())
        self.in_flight = 0
        self.alone = None  # the id of the request traced alone, until it is settled
        self.overlapped = False
        self.waited = 0  # requests that waited for a traced one
        self.discarded = 0  # traced requests reported unmeasured: another request overlapped them
        self.no_drain_until = 0.0
        self.threads = None  # the threads alive when the traced request started


def request_started(a, source, name, task_id):
    gate = a.tasks.gate
    try:
        with gate.cond:
            if gate.alone is not None:
                gate.waited += 1
                if gate.alone in a.tasks.active:
                    # It arrived while the traced one ran: what the server allocated for it
                    # before this hook (its environ, its request) would count as kept there.
                    gate.overlapped = True
                if not _wait(gate, lambda: gate.alone is None):
                    gate.overlapped = True
            a.tasks.task_sources.add(source)
            a.tasks.task_started(name, task_id, lambda: _drain(gate, task_id))
            if gate.alone == task_id and not a.tasks.active.get(task_id, (0, 0, False))[2]:
                gate.alone = None  # not traced after all (the others did not end in time)
                gate.cond.notify_all()
            gate.in_flight += 1
    except Exception as e:
        warn(source, e)


def _wait(gate, done):
    """Wait on the gate (its lock held) until ``done()``, at most GATE_S -> done()."""
    deadline = time.monotonic() + GATE_S
    while not done():
        left = deadline - time.monotonic()
        if left <= 0.0:
            return False
        gate.cond.wait(left)
    return True


def _drain(gate, task_id):
    """A request chosen for tracing: new requests wait, and it waits for those in flight to end."""
    if gate.alone is not None or time.monotonic() < gate.no_drain_until:
        return False  # went ahead after waiting for a traced one, or drains time out: not alone
    gate.alone = task_id
    gate.overlapped = False
    if _wait(gate, lambda: gate.in_flight == 0):
        gate.threads = set(threading.enumerate())
        return True
    gate.no_drain_until = time.monotonic() + DRAIN_BACKOFF_S
    return False


def request_finished(a, source, name, task_id):
    gate = a.tasks.gate
    try:
        with gate.cond:
            gate.in_flight = max(0, gate.in_flight - 1)
            if gate.in_flight == 0 and gate.alone is not None and gate.alone not in a.tasks.active:
                gate.cond.notify_all()  # a request chosen for tracing waits for this (_drain)
            if gate.alone == task_id and gate.threads is not None:
                # A thread that started meanwhile (a server's thread per connection) served a
                # request that had not reached the gate yet: its buffers were allocated in here.
                if any(t not in gate.threads for t in threading.enumerate()):
                    gate.overlapped = True
                gate.threads = None
            discard = gate.alone == task_id and gate.overlapped
            gate.discarded += discard
            a.tasks.task_finished(name, task_id, discard)
            if gate.alone == task_id:
                gate.alone = None
                gate.overlapped = False
                gate.cond.notify_all()
    except Exception as e:
        warn(source, e)


def started(a, source, name, task_id):
    try:
        with a.tasks.gate.cond:
            a.tasks.task_sources.add(source)
            a.tasks.task_started(name, task_id)
    except Exception as e:
        warn(source, e)


def finished(a, source, name, task_id):
    try:
        with a.tasks.gate.cond:
            a.tasks.task_finished(name, task_id)
    except Exception as e:
        warn(source, e)


def enabled_sources(raw=None):
    """The detectors TASKMEM_AUTO_TASKS leaves on: unset or ``all`` = every one, ``0`` / ``off`` /
    ``none`` = none, else a comma-separated list of ``celery``, ``rq``, ``flask``, ``django``."""
    if raw is None:
        raw = os.environ.get("TASKMEM_AUTO_TASKS", "")
    value = raw.strip().lower()
    if value in ("", "1", "all", "on", "true", "yes"):
        return SOURCES
    if value in ("0", "off", "none", "false", "no"):
        return ()
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        sys.stderr.write(f"taskmem: TASKMEM_AUTO_TASKS: ignored {', '.join(unknown)} (known: {', '.join(SOURCES)})\n")
    return tuple(n for n in SOURCES if n in names)

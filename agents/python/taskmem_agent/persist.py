"""Whether what a traced task kept is still alive some tasks later (a persistence probe).

tracemalloc counts memory per allocation site, not per object: when a traced task is settled, the
next request's in-flight objects sit at the same sites as the task's own (a threaded server's
response path: Flask keeps ~450 B a request that way), so a few hundred bytes kept per run cannot
be told from a leak of that size by the figures alone.  So, now and then, for a task name whose
traced runs keep a little, the agent takes the objects that are alive at the kept sites when the
task is settled, holds them, and some tasks later looks whether anything but the probe still
references them: a list or cache that grows does, a finished request's leftovers do not.

Only plain data is held (str, bytes, numbers, and tuples, lists, dicts and sets of those): holding
an object delays its finalizer, and a file or socket must close when the program lets go of it.
"""
import gc
import sys
import time
import tracemalloc
from itertools import compress

from . import profile as _profile

# A probe is read once this many tasks have finished after it, and this long after it.
PROBE_MIN_TASKS = 8
PROBE_MIN_S = 0.5
# At most this many objects are held.
PROBE_MAX_OBJECTS = 512
# No probe on a heap with more objects than this: the walk takes ~1.5 ms per thousand objects under
# tracing (50 ms on Flask's dev server, ~30,000) and holds the process that long.
PROBE_MAX_TRACKED = 200_000
# Levels of untracked dicts and tuples (containers of atoms only) followed from the tracked objects.
PROBE_UNTRACKED_DEPTH = 4

_ATOMS = (str, bytes, int, float, complex, bool, type(None))
_CONTAINERS = (tuple, list, dict, set, frozenset)
_UNTRACKED = (tuple, dict)


def _holdable(obj):
    t = type(obj)
    if t in _ATOMS:
        return True
    if t in _CONTAINERS:
        return all(type(r) in _ATOMS for r in gc.get_referents(obj))
    return False


class Probe:
    """Objects alive at a settled task's kept sites, held until they are read (``alive``)."""

    def __init__(self, name, objects, tasks_finished, unreferenced=0):
        """``unreferenced``: bytes kept at sites where the heap references nothing (read as freed)."""
        self.name = name
        self.objects = objects
        self.sizes = [sys.getsizeof(o) for o in objects]
        self.unreferenced = unreferenced
        self.tasks_at = tasks_finished
        self.t = time.perf_counter()

    def due(self, tasks_finished):
        return tasks_finished - self.tasks_at >= PROBE_MIN_TASKS and time.perf_counter() - self.t >= PROBE_MIN_S

    def read(self):
        """-> (alive bytes, probed bytes), and lets go of the objects.  An object is alive when
        something besides the probe and the other probed objects references it, or an alive
        probed object does."""
        objs, self.objects = self.objects, []
        n = len(objs)
        index = {id(o): i for i, o in enumerate(objs)}
        internal = [0] * n
        for o in objs:
            for r in gc.get_referents(o):
                j = index.get(id(r))
                if j is not None:
                    internal[j] += 1
        o = r = None
        alive = []
        for i in range(n):
            o = objs[i]
            # 3: the list, ``o`` and getrefcount's argument
            if sys.getrefcount(o) - 3 - internal[i] > 0:
                alive.append(i)
        o = None
        seen = set(alive)
        stack = list(alive)
        while stack:
            for r in gc.get_referents(objs[stack.pop()]):
                j = index.get(id(r))
                if j is not None and j not in seen:
                    seen.add(j)
                    stack.append(j)
        r = None
        del objs
        return sum(self.sizes[i] for i in seen), sum(self.sizes) + self.unreferenced


def _twice(objects, traceback_of):
    """-> (objects, their tracebacks) for compress()."""
    return objects, map(traceback_of, objects)


def probe_kept(name, table, tasks_finished):
    """Call with tracing on: a Probe of the plain-data objects alive now that were allocated while
    tracing at a site of ``table`` (a settled task's {stack: bytes}), or None when there are none.
    Visits every object the collector tracks and what they reference (tens of milliseconds on a
    large heap: a traced task's cost)."""
    sites = {stack for stack, size in table.items() if size > 0}
    if not sites:
        return None
    traceback_of = tracemalloc.get_object_traceback
    # The loops over every object run in C (map, compress): only traced objects reach Python code.
    tracked = gc.get_objects()
    if len(tracked) > PROBE_MAX_TRACKED:
        return None
    candidates = list(compress(tracked, map(traceback_of, tracked)))
    # The collector lists only the containers it tracks; it stops tracking a dict or tuple that holds
    # only atoms (a module's cache of str -> str), so what those hold is reached level by level
    # from what the tracked ones reference. Missing it would read a leak as freed.
    level = gc.get_referents(*tracked)
    del tracked
    for _ in range(PROBE_UNTRACKED_DEPTH):
        candidates += compress(*_twice(level, traceback_of))
        untracked = [o for o in level if type(o) in _UNTRACKED and not gc.is_tracked(o)]
        if not untracked:
            break
        level = gc.get_referents(*untracked)
    level = untracked = None  # type: ignore[assignment]
    found: dict = {}
    seen_at_sites = 0
    for obj in candidates:
        if len(found) >= PROBE_MAX_OBJECTS:
            break
        tb = traceback_of(obj)
        if id(obj) in found or tb is None:
            continue
        if _profile.clean_stack(tuple((f.filename, f.lineno) for f in tb)) not in sites:
            continue
        seen_at_sites += 1
        if _holdable(obj):
            found[id(obj)] = obj
    obj = None
    del candidates
    if not seen_at_sites:
        # Nothing the collector tracks references what the task kept: only running code does (a
        # finished request's thread still returning its response), and it goes when that code does.
        return Probe(name, [], tasks_finished, unreferenced=sum(table[stack] for stack in sites))
    return Probe(name, list(found.values()), tasks_finished) if found else None

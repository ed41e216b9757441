"""The heap side of ``Taskmem.whyRetained`` (why.py): which objects traced runs kept (allocated by user
code while tracemalloc traced, still alive) and every reference into them, in one pass over the heap;
and how objects are named (types, attributes, an lru_cache's dict).
"""
import functools
import gc
import sys
import time
import tracemalloc
import types

from . import profile as _profile

OLD, USER, LIB, AGENT = 0, 1, 2, 3


def is_a(obj, kinds):
    """``isinstance`` by the real type: ``isinstance`` asks a proxy's ``__class__`` (a lazy object would
    evaluate itself, a context proxy raise outside its context)."""
    return issubclass(type(obj), kinds)


def attr(obj, name):
    """``getattr(obj, name, None)`` that a descriptor or proxy cannot break the walk with."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


_LRU = type(functools.lru_cache(maxsize=None)(len))  # functools._lru_cache_wrapper


class Bounds:
    """Objects visited and time.  The time budget is shared out by ``until``: each step of the walk
    stops at its share, so that the later steps still answer from what the earlier ones saw."""

    def __init__(self, max_objects, time_budget_ms):
        self.max_objects = max_objects
        self.start = time.perf_counter()
        self.budget_ms = time_budget_ms
        self.deadline = self.start + time_budget_ms / 1000.0
        self.visited = 0
        self.truncated = None  # the first reason a step stopped early
        self.stopped = False  # the current step must stop

    def until(self, share):
        """Start a step that may run until ``share`` of the budget has gone (not past maxObjects)."""
        self.deadline = self.start + share * self.budget_ms / 1000.0
        self.stopped = self.visited > self.max_objects

    def _stop(self, reason):
        self.stopped = True
        if self.truncated is None:
            self.truncated = reason

    def visit(self, n=1):
        """-> False once a bound is reached (and says which)."""
        if self.stopped:
            return False
        self.visited += n
        if self.visited > self.max_objects:
            self._stop(f"maxObjects: stopped after visiting {self.max_objects} objects")
        elif time.perf_counter() > self.deadline:
            self._stop(f"timeBudgetMs: stopped after {self.budget_ms} ms")
        return not self.stopped

    def in_time(self):
        if not self.stopped and time.perf_counter() > self.deadline:
            self._stop(f"timeBudgetMs: stopped after {self.budget_ms} ms")
        return not self.stopped


# The C function under tracemalloc.get_object_traceback: a tuple or None, without building a
# Traceback; the public function when it is not there.
_raw_traceback = getattr(tracemalloc, "_get_object_traceback", tracemalloc.get_object_traceback)
_user_files: dict = {}


def allocation_stack(obj):
    """The cleaned allocation stack of a traced object (oldest frame first), or None."""
    raw = _raw_traceback(obj)
    return _origin(raw)[1] if raw is not None else None


def is_user_file(filename):
    u = _user_files.get(filename)
    if u is None:
        u = _profile.classify(filename) == "user" and "-packages" not in filename
        _user_files[filename] = u
    return u


_origins: dict = {}


def _origin(raw):
    """Raw traceback (most recent frame first, or a Traceback) -> (USER | LIB | AGENT, cleaned stack)."""
    got = _origins.get(raw)
    if got is None:
        frames = tuple(reversed(raw)) if type(raw) is tuple else tuple((f.filename, f.lineno) for f in raw)
        stack = _profile.clean_stack(frames)
        if stack is None:
            got = (AGENT, None)
        else:
            got = (USER if any(is_user_file(f) for f, _ in stack) else LIB), stack
        if len(_origins) < 100_000:
            _origins[raw] = got
    return got


class Edges:
    def __init__(self):
        self.parents: list = []
        self.children: list = []
        self.parent_ids: list = []
        self.child_ids: list = []

    def add(self, p, c, ip, ic):
        self.parents.append(p)
        self.children.append(c)
        self.parent_ids.append(ip)
        self.child_ids.append(ic)

    def __iter__(self):
        return zip(self.parents, self.children, self.parent_ids, self.child_ids)


class Heap:
    """Step 1: the kept objects and the references into them."""

    def __init__(self, bounds):
        self.bounds = bounds
        self.status: dict = {}  # id -> USER / LIB / AGENT, for traced objects only
        self.objs: dict = {}  # id -> traced object (USER or LIB)
        # References into traced objects (the parent not the agent's): four lists side by side, not a
        # tuple per reference, so that passes over gc.get_objects() do not meet them.
        self.edges = Edges()
        self.hint: dict = {}  # id(untracked container) -> a parent (gc.get_referrers cannot see it)

    def state(self, obj, raw=None):
        io = id(obj)
        st = self.status.get(io)
        if st is None:
            if raw is None:
                raw = _raw_traceback(obj)
                if raw is None:
                    return OLD
            st = _origin(raw)[0]
            self.status[io] = st
            if st != AGENT:
                self.objs[io] = obj
        return st

    def scan(self):
        """Under tracemalloc every allocation of ours is traced too (20 times the cost), even the int
        that ``id()`` returns or a counter above 256: the loop allocates nothing for an old object."""
        bounds = self.bounds
        frame_type = types.FrameType
        referents = gc.get_referents
        is_tracked = gc.is_tracked
        state = self.state
        known = self.status.get
        traced = _raw_traceback
        # The edge lists' appends, bound once: a method call per reference costs more.
        e_parents, e_children = self.edges.parents.append, self.edges.children.append
        e_parent_ids, e_child_ids = self.edges.parent_ids.append, self.edges.child_ids.append
        extra: list = []
        seen_untracked: set = set()
        todo = gc.get_objects()
        for queue in (todo, extra):
            k = 0  # objects since the last bounds check (a small int: cached, not allocated)
            for c in queue:  # ``extra`` grows while it is read
                k += 1
                if k == 256:
                    k = 0
                    if not bounds.visit(256):
                        return
                raw = traced(c)
                if type(c) is frame_type or (raw is not None and state(c, raw) == AGENT):
                    continue
                ic = None
                refs = referents(c)
                if type(c) is dict:
                    refs.extend(c)  # a dict with only str keys does not show them to the gc
                for r in refs:
                    tr = type(r)
                    if (tr is dict or tr is tuple) and not is_tracked(r):
                        ir = id(r)
                        if ir not in seen_untracked:
                            seen_untracked.add(ir)
                            extra.append(r)
                            self.hint[ir] = c
                    raw = traced(r)
                    if raw is None:
                        continue
                    ir = id(r)
                    st = known(ir)
                    if st is None:
                        st = state(r, raw)
                    if st == USER or st == LIB:
                        if ic is None:
                            ic = id(c)
                        e_parents(c)
                        e_children(r)
                        e_parent_ids(ic)
                        e_child_ids(ir)
            if not bounds.visit(k):
                return
            del queue[:]


def _kept_set(heap):
    """The objects to explain: allocated by user code or by the libraries it called (a dict that
    ``json.loads`` made, whose traceback of a few frames never reaches user code); why.py drops the
    groups that are the libraries' own business (``_user_group``)."""
    return {k for k, st in heap.status.items() if st == USER or st == LIB}


_FREELIST = (list, tuple, dict)
_MANAGED_DICT = 1 << 4  # Py_TPFLAGS_MANAGED_DICT


def unverifiable(obj):
    """Objects that may be new although tracemalloc has no traceback for them: lists, tuples and
    dicts mostly reuse a block from their type's free list, which tracemalloc does not see allocated
    again; and before 3.12 ``get_object_traceback`` misses instances whose dict is managed (it looks
    for the block at the object less the GC header, not less the pre-header)."""
    t = type(obj)
    return t in _FREELIST or (sys.version_info < (3, 12) and bool(t.__flags__ & _MANAGED_DICT))


def _holders(heap, kept):
    """id -> (holder, {ids of its kept referents}) for every object outside ``kept`` that refers to kept ones."""
    holders: dict = {}
    for p, c, ip, ic in heap.edges:  # zip reuses its tuple: nothing allocated per reference
        if ic in kept and ip not in kept:
            holders.setdefault(ip, (p, set()))[1].add(ic)
    return holders


def _lru_cache_dict(w):
    attrs = attr(w, "__dict__")
    for r in gc.get_referents(w):
        if type(r) is dict and r is not attrs:
            return r
    return None


def _attributes(obj):
    """(name, value) of an instance's attributes (``vars`` makes a managed dict real: harmless)."""
    out = []
    try:
        out.extend(vars(obj).items())
    except Exception:  # no __dict__, or a proxy's that raises
        pass
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()) if is_a(getattr(cls, "__slots__", ()), (tuple, list)) else ():
            try:
                out.append((name, getattr(obj, name)))
            except Exception:
                pass
    return out


def type_name(obj):
    if is_a(obj, types.ModuleType):
        return f"module {obj.__name__}"
    if is_a(obj, type):
        return f"class {obj.__qualname__}"
    if is_a(obj, types.FunctionType):
        return f"function {obj.__qualname__}"
    return type(obj).__name__

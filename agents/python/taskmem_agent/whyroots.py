"""From holders up to roots for ``Taskmem.whyRetained`` (why.py): who refers to a holder (batched
``gc.get_referrers``, or one pass over the heap for many), which untraced holders are new by the shape
of what holds them, and the path from a root (module, class, closure, default argument, lru_cache) to
an entry, as ``RetainerStep`` dicts.
"""
import gc
import sys
import types

from .whyheap import (_FREELIST, _LRU, AGENT, OLD, _attributes, _holders, _lru_cache_dict, attr, is_a, type_name,
                      unverifiable)

MAX_DEPTH = 24
# gc.get_referrers compares each reference in the heap with every argument, in C: measured with 625k
# objects, 16 ms for one argument and ~0.5 ms more per argument. A pass in Python (``_fetch_by_pass``)
# costs ~10 us an object under tracemalloc: it pays only for many thousands of objects at once.
_CHUNK = 256
_PASS_OVER = 16384
_SEQUENCES = (list, tuple)


def heap_old(heap, obj):
    return heap.state(obj) == OLD


class Roots:
    """Step 3: from the holders up to a root, breadth first over ``gc.get_referrers``."""

    def __init__(self, heap, kept, bounds):
        self.heap = heap
        self.kept = kept
        self.bounds = bounds
        self.module_dicts = {id(vars(m)): m for m in list(sys.modules.values())
                             if is_a(m, types.ModuleType) and hasattr(m, "__dict__")}
        self.parents: dict = {}  # id -> [parent]
        self.fetched: set = set()
        self.new: dict = {}  # id -> is_new() of untraced holders

    def is_root(self, x):
        return (id(x) in self.module_dicts or is_a(x, (type, types.ModuleType, types.FunctionType, _LRU)))

    def _ok(self, p):
        return not is_a(p, types.FrameType) and self.heap.state(p) != AGENT

    def fetch(self, objs):
        """Fill ``parents`` for ``objs`` (those not fetched yet) -> False when a bound stopped it."""
        todo = [o for o in objs if id(o) not in self.fetched]
        if len(todo) > _PASS_OVER:
            return self._fetch_by_pass(todo)
        for i in range(0, len(todo), _CHUNK):
            if not self.bounds.visit(_CHUNK) or not self.bounds.in_time():
                return False
            chunk = todo[i:i + _CHUNK]
            ids = {id(o) for o in chunk}
            self.fetched.update(ids)
            found = [p for p in gc.get_referrers(*chunk) if self._ok(p)]
            for o in chunk:
                h = self.heap.hint.get(id(o))
                if h is not None and self._ok(h):
                    found.append(h)
            for p in found:
                for r in gc.get_referents(p):
                    if id(r) in ids:
                        ps = self.parents.setdefault(id(r), [])
                        if not any(q is p for q in ps):
                            ps.append(p)
            del chunk, found
        return True

    def _fetch_by_pass(self, todo):
        """``fetch`` for many objects: one pass over the heap costs less than a ``gc.get_referrers``
        per few objects, which compares every reference in the heap with each of its arguments."""
        ids = {id(o) for o in todo}
        self.fetched.update(ids)
        frame_type = types.FrameType
        heap, edges = self.heap, self.heap.edges
        own = {id(x) for x in (heap.status, heap.objs, heap.hint, edges.parents, edges.children,
                               edges.parent_ids, edges.child_ids, self.parents, self.fetched, self.new,
                               self.kept, ids, todo)}
        for p in gc.get_objects():
            if not self.bounds.visit():
                return False
            if type(p) is frame_type or id(p) in own:  # our own tables refer to everything
                continue
            refs = gc.get_referents(p)
            if type(p) is dict:
                refs.extend(p)
            if ids.isdisjoint(map(id, refs)):  # the common case, without a bytecode per reference
                continue
            for r in refs:
                if id(r) in ids and self._ok(p):
                    ps = self.parents.setdefault(id(r), [])
                    if not any(q is p for q in ps):
                        ps.append(p)
        for o in todo:
            h = self.heap.hint.get(id(o))
            if h is not None and self._ok(h):
                ps = self.parents.setdefault(id(o), [])
                if not any(q is h for q in ps):
                    ps.append(h)
        return True

    def walk(self, holders):
        seen = {id(h) for h in holders}
        frontier = [h for h in holders if not self.is_root(h)]
        depth = 0
        while frontier and depth < MAX_DEPTH:
            if not self.fetch(frontier):
                return
            nxt = []
            for o in frontier:
                for p in self.parents.get(id(o), ()):
                    if id(p) not in seen and id(p) not in self.kept:
                        seen.add(id(p))
                        if not self.is_root(p):
                            nxt.append(p)
            frontier = nxt
            depth += 1

    def is_new(self, u, depth=0):
        """Is the untraced ``u`` new by what holds it (see ``absorb``)?"""
        known = self.new.get(id(u))
        if known is not None:
            return known
        self.new[id(u)] = False  # a cycle back to ``u`` does not make it new
        if depth > 8 or not self.fetch([u]):
            return False
        ps = self.parents.get(id(u), ())
        fresh = bool(ps)
        for p in ps:
            if id(p) in self.kept or not self.named(p, u):
                continue
            if not (unverifiable(p) and not is_a(p, _FREELIST) and heap_old(self.heap, p)
                    and self.is_new(p, depth + 1)):
                fresh = False
                break
        self.new[id(u)] = fresh
        return fresh

    def named(self, p, child):
        """Does ``p`` hold ``child`` under a name (a variable, an attribute, a default argument)?"""
        if is_a(p, (types.FunctionType, types.CellType, types.ModuleType, type)) or id(p) in self.module_dicts:
            return True
        if is_a(p, _LRU):  # its cache dict; not a key or result
            return child is _lru_cache_dict(p)
        if is_a(p, (dict, tuple)):
            self.fetch([p])
            return any(is_a(q, type) or attr(q, "__dict__") is p
                       or (is_a(q, types.FunctionType) and (q.__defaults__ is p or q.__closure__ is p))
                       for q in self.parents.get(id(p), ()))
        if is_a(p, (list, set, frozenset)) or type(p).__name__ == "deque":
            return False
        return True  # an instance refers to its attributes (asking their names would make its dict)

    def chain(self, holder):
        """Root first, ``holder`` last; None when no root was reached (frames only, or a bound)."""
        if self.is_root(holder):
            return [holder]
        prev = {id(holder): None}
        level = [holder]
        while level:
            nxt = []
            for x in level:
                for p in self.parents.get(id(x), ()):
                    if id(p) in prev or id(p) in self.kept:
                        continue
                    prev[id(p)] = x
                    if self.is_root(p):
                        out = [p]
                        while out[-1] is not holder:
                            out.append(prev[id(out[-1])])
                        return out
                    nxt.append(p)
            level = nxt
        return None


def _key_of(d, value):
    for k, v in list(d.items()):
        if v is value:
            return k
    return None


def _module_label(m):
    f = getattr(m, "__file__", None)
    return f"module {f.rsplit('/', 1)[-1] if f else m.__name__}"


def describe(chain, entry, module_dicts):
    """-> (path steps, root: (kind, object, name)) for one entry under ``chain`` (root first)."""
    nodes = chain[1:] + [entry.rep]
    root = chain[0]
    steps = []
    i = 0  # nodes[i] is the next node to name

    def step(edge, kind, obj):
        steps.append({"edge": edge, "kind": kind, "holder": type_name(obj)})

    def last():  # the entry is named by the holder that found it
        return i == len(nodes) - 1

    if is_a(root, types.ModuleType) and nodes and nodes[0] is vars(root):
        root, nodes = vars(root), nodes[1:]
    if id(root) in module_dicts:
        m = module_dicts[id(root)]
        name = entry.edge if last() else _key_of(root, nodes[0])
        info = ("module", m, name)
        steps.append({"edge": "", "kind": "variable", "holder": _module_label(m)})
        step(str(name), "variable", nodes[0])
        i = 1
    elif is_a(root, type):
        if nodes and is_a(nodes[0], dict) and not last():
            i = 1
        name = entry.edge if last() else _key_of(nodes[0], nodes[1]) if i == 1 else None
        info = ("class", root, name)
        steps.append({"edge": "", "kind": "variable", "holder": type_name(root)})
        step(str(name), "property", nodes[i])
        i += 1
    elif is_a(root, types.FunctionType):
        n1 = nodes[0]
        if n1 is root.__closure__ and len(nodes) > 2:
            k = next((k for k, c in enumerate(n1) if c is nodes[1]), 0)
            name = root.__code__.co_freevars[k]
            outer = root.__qualname__.split(".<locals>")[0] if ".<locals>" in root.__qualname__ else root.__name__
            steps.append({"edge": "", "kind": "variable", "holder": f"function {outer} (closure)"})
            info = ("closure", root, name)
            step(name, "variable", nodes[2])
            i = 3
        elif n1 is root.__defaults__ and len(nodes) > 1:
            code = root.__code__
            params = code.co_varnames[:code.co_argcount]
            k = next((k for k, d in enumerate(n1) if d is nodes[1]), 0)
            name = params[len(params) - len(n1) + k]
            steps.append({"edge": "", "kind": "variable", "holder": f"function {root.__qualname__} (default argument)"})
            info = ("default", root, name)
            step(name, "internal", nodes[1])
            i = 2
        elif n1 is root.__kwdefaults__ and len(nodes) > 1:
            name = _key_of(n1, nodes[1])
            steps.append({"edge": "", "kind": "variable", "holder": f"function {root.__qualname__} (default argument)"})
            info = ("default", root, name)
            step(str(name), "internal", nodes[1])
            i = 2
        else:
            steps.append({"edge": "", "kind": "variable", "holder": type_name(root)})
            if n1 is attr(root, "__dict__") and len(nodes) > 1:
                name = _key_of(n1, nodes[1])
                step(str(name), "property", nodes[1])
                info, i = ("attr", root, name), 2
            else:
                step("(internal)", "internal", n1)
                info, i = ("function", root, None), 1
    elif is_a(root, _LRU):
        wrapped = getattr(root, "__wrapped__", root)
        steps.append({"edge": "", "kind": "variable",
                      "holder": f"lru_cache {getattr(wrapped, '__qualname__', type_name(root))}"})
        info = ("lru", root, None)
        if last():  # a bounded cache: the wrapper holds its entries itself, through its dict's links
            steps.append({"edge": "cache", "kind": "internal", "holder": "dict"})
        else:
            step("cache", "internal", nodes[0])
            i = 1
    else:
        return None
    while i < len(nodes):
        a, b = nodes[i - 1], nodes[i]
        if last():
            steps.append({"edge": str(entry.edge), "kind": entry.kind, "holder": type_name(b)})
        elif is_a(b, dict) and b is attr(a, "__dict__") and i + 1 < len(nodes):
            i += 1  # an instance's attribute dict: named by the attribute
            step(str(_key_of(b, nodes[i])), "property", nodes[i])
        elif is_a(a, dict):
            step("{entry}", "entry", b)
        elif is_a(a, _SEQUENCES) or type(a).__name__ == "deque":
            step("[]", "element", b)
        elif is_a(a, (set, frozenset)):
            step("{entry}", "entry", b)
        elif is_a(a, types.CellType):
            step("cell_contents", "variable", b)
        else:
            name = next((n for n, v in _attributes(a) if v is b), None)
            step(name or "(internal)", "property" if name else "internal", b)
        i += 1
    # Attributes after the root's variable (``app.cache`` in ``app.cache[k] = v``): the line searched
    # for stores into that chain of names.
    attrs = []
    for st in steps[2:-1]:
        if st["kind"] != "property":
            break
        attrs.append(st["edge"])
    return steps, info + (tuple(attrs),)


def absorb(heap, kept, roots):
    """Take an untraced holder for a kept object when it is new by the shape of what holds it
    (``unverifiable``): it sits in a slot (a list element, a dict entry, an lru_cache result) or
    under kept objects, not in a variable, a class attribute or a default, nor in an attribute of
    an object that is old.  Repeated: the holder's own holder may be new too (a ``Record`` in
    ``_log`` whose ``lines`` list holds kept strings).  -> the holders left (see ``_holders``)."""
    holders = _holders(heap, kept)
    cands = [h for h, _ in holders.values()
             if unverifiable(h) and heap.state(h) == OLD and id(h) not in roots.module_dicts]
    for _ in range(8):
        if not cands or not roots.fetch(cands):
            break
        # What is_new and named look at next, in as few passes over the heap as possible.
        roots.fetch([p for h in cands for p in roots.parents.get(id(h), ())
                     if id(p) not in kept and (is_a(p, (dict, tuple)) or unverifiable(p))])
        fresh = [h for h in cands if roots.is_new(h)]
        for h in fresh:
            kept.add(id(h))
            heap.objs[id(h)] = h
            holders.pop(id(h), None)
        cands = []
        for h in fresh:  # its holders hold a kept object now
            for p in roots.parents.get(id(h), ()):
                heap.edges.add(p, h, id(p), id(h))
                if id(p) in kept:
                    continue
                if id(p) not in holders:
                    holders[id(p)] = (p, set())
                    if unverifiable(p) and heap.state(p) == OLD and id(p) not in roots.module_dicts:
                        cands.append(p)
                holders[id(p)][1].add(id(h))
    return holders

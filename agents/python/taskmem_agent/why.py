"""Why is it kept (``Taskmem.whyRetained``, docs/PROTOCOL.md §4b): the chains of references from a
root (module global, class attribute, closure cell, default argument, lru_cache) to the objects that
traced runs allocated and that are still alive, grouped and ranked; the holding line is whyline.py.

Steps, bounded by ``maxObjects`` (objects visited) and each by its share of ``timeBudgetMs``:
1. one pass over the heap (``gc.get_objects()`` plus the untracked dicts and tuples found under it):
   the kept objects (a tracemalloc traceback that is not the agent's) and every reference into them
   (whyheap.py);
2. untraced holders that are new by what holds them (free-list lists, tuples and dicts; instances
   before 3.12) join the kept objects (whyroots.absorb);
3. entries: an object outside the kept set (the *holder*: ``_seen``, ``Registry.entries``) gains one
   per slot that holds kept objects (a dict key, a list element); the kept objects under a slot are
   its objects and bytes;
4. from each holder up to a root through ``gc.get_referrers``, breadth first (shortest chain), and
   the path named step by step (whyroots.py).
Frames are never followed (what running code holds is not kept), nor are the agent's own objects.
"""
import gc
import sys
import time
import tracemalloc
import types

from .whyheap import (_LRU, OLD, USER, Bounds, Heap, _attributes, _kept_set, _lru_cache_dict, _origins,
                      allocation_stack, is_a, is_user_file, unverifiable)
from .whyline import _trees, holding_line, root_file
from .whyroots import Roots, absorb, describe

MAX_GROUPS = 20


class Entry:
    __slots__ = ("holder", "edge", "kind", "rep", "tops", "counts", "objects", "bytes")

    def __init__(self, holder, edge, kind, rep, tops, counts=True):
        self.holder = holder
        self.edge = edge
        self.kind = kind
        self.rep = rep  # the object whose type ends the path (a dict entry's value, else its key)
        self.tops = tops
        self.counts = counts  # an lru_cache key beside its result is not an entry of its own
        self.objects = 0
        self.bytes = 0


def _partner(obj, heap, held=2):
    """The untraced other half of a kept dict entry or lru_cache entry (its key or value) that
    ``unverifiable`` says may be new, and that nothing else refers to: only its owner, the ``held``
    references of the caller (a list of items, a variable), ``obj`` and getrefcount's argument."""
    return unverifiable(obj) and heap.state(obj) == OLD and sys.getrefcount(obj) <= 3 + held


def entries_of(holder, kids, names, heap):
    """Step 2 for one holder: ``kids`` are the ids of its kept referents -> [Entry]."""
    out = []
    if is_a(holder, dict):
        kind = names(holder)
        try:
            items = list(holder.items())
        except RuntimeError:  # changed size under us (another thread)
            items = []
        for k, v in items:
            kk, vk = id(k) in kids, id(v) in kids
            if kk or vk:
                named = kind is not None and is_a(k, str)
                tops = [k] if kk else []
                if vk or _partner(v, heap):
                    tops.append(v)
                elif not kk:
                    continue
                if not kk and _partner(k, heap):
                    tops.insert(0, k)
                out.append(Entry(holder, k if named else "{entry}", kind if named else "entry", tops[-1], tops))
    elif is_a(holder, (list, tuple)) or type(holder).__name__ == "deque":
        out = [Entry(holder, "[]", "element", x, [x]) for x in list(holder) if id(x) in kids]
    elif is_a(holder, (set, frozenset)):
        out = [Entry(holder, "{entry}", "entry", x, [x]) for x in list(holder) if id(x) in kids]
    elif is_a(holder, _LRU):
        # A bounded cache refers to each entry's key and result itself, in pairs (its dict maps the
        # keys to links that gc cannot see into): one entry per pair, with its link.
        cache = _lru_cache_dict(holder)
        links = {id(k): v for k, v in cache.items()} if cache is not None else {}
        refs = gc.get_referents(holder)  # [.., key, result, .., key, result, ..]
        for i in range(len(refs) - 1):
            if id(refs[i]) not in links:
                continue
            k = refs[i]
            r = refs[i + 1]
            kk, rk = id(k) in kids, id(r) in kids
            if not (kk or rk):
                continue
            tops = []
            if kk or _partner(k, heap):
                tops.append(k)
            if rk or _partner(r, heap):
                tops.append(r)
            link = links[id(k)]
            if heap.state(link) != OLD:
                tops.append(link)
            out.append(Entry(holder, "{entry}", "entry", r if rk or any(t is r for t in tops) else k, tops))
    elif is_a(holder, types.CellType):
        out = [Entry(holder, "cell_contents", "variable", holder.cell_contents, [holder.cell_contents])]
    else:
        attrs = _attributes(holder)
        for r in gc.get_referents(holder):
            if id(r) in kids:
                name = next((n for n, v in attrs if v is r), None)
                out.append(Entry(holder, name or "(internal)", "property" if name else "internal", r, [r]))
    return out


def _user_root(info):
    f = root_file(info[0], info[1])
    return f is not None and is_user_file(f)


def assign(entries, heap, kept, bounds):
    """Each kept object to the first entry it hangs under (down through kept-to-kept references);
    size: ``sys.getsizeof``, the object's own bytes: tracemalloc knows a block's size only in a
    snapshot, where nothing ties a trace to an object."""
    kids: dict = {}
    for p, c, ip, ic in heap.edges:
        if ip in kept and ic in kept:
            kids.setdefault(ip, []).append((c, ic))
    owner: set = set()
    sizeof = sys.getsizeof
    for e in entries:
        if not bounds.in_time():
            break  # the entries left have no objects: they are not reported
        level = []
        for o in e.tops:
            io = id(o)
            if io not in owner:
                owner.add(io)
                level.append((o, io))
        objects = size = 0
        while level:
            nxt = []
            for o, io in level:
                objects += 1
                size += sizeof(o)
                for child in kids.get(io, ()):
                    if child[1] not in owner:
                        owner.add(child[1])
                        nxt.append(child)
            level = nxt
        e.objects, e.bytes = objects, size


def why_retained(runs, max_objects=2_000_000, time_budget_ms=5000):
    """The ``WhyRetained`` answer (src/core/why/model.ts) for what traced runs kept."""
    if not tracemalloc.is_tracing():
        raise RuntimeError("tracemalloc is not tracing")
    enabled = gc.isenabled()
    # The walk allocates many small containers: collections of a big heap would be most of its time.
    gc.disable()
    try:
        return _walk(runs, max_objects, time_budget_ms)
    finally:
        clear_caches()  # tracebacks seen and syntax trees: a long-lived worker should not keep them
        if enabled:
            gc.enable()


def clear_caches():
    _origins.clear()
    _trees.clear()


def _walk(runs, max_objects, time_budget_ms):
    t0 = time.perf_counter()
    bounds = Bounds(max_objects, time_budget_ms)
    heap = Heap(bounds)
    bounds.until(0.5)
    heap.scan()
    kept = _kept_set(heap)
    roots = Roots(heap, kept, bounds)
    bounds.until(0.65)
    holders = absorb(heap, kept, roots)
    bounds.until(0.8)

    def names(d):
        if id(d) in roots.module_dicts:
            return "variable"
        # Class dicts hold __module__; only then look for the class.
        if "__module__" in d and roots.fetch([d]) and any(is_a(p, type) for p in roots.parents.get(id(d), ())):
            return "property"
        return None

    entries = []
    # A bounded lru_cache's dict holds its keys and links: the wrapper's entries have them.
    lru_dicts = {id(_lru_cache_dict(h)) for h, _ in holders.values() if is_a(h, _LRU)}
    for holder, kids in holders.values():
        if not bounds.in_time():
            break
        if id(holder) not in lru_dicts:
            entries.extend(entries_of(holder, kids, names, heap))
    for e in entries:  # the untraced halves of entries (_partner) are kept too
        for o in e.tops:
            if id(o) not in kept:
                kept.add(id(o))
                heap.objs[id(o)] = o
    kept_bytes = sum(sys.getsizeof(heap.objs[k]) for k in kept)
    bounds.until(0.9)
    assign(entries, heap, kept, bounds)
    bounds.until(1.0)
    roots.walk(list({id(e.holder): e.holder for e in entries if e.objects}.values()))
    groups: dict = {}
    described: dict = {}
    for e in entries:
        # Entries of one holder share their path but for the last step's edge and type.
        memo = (id(e.holder), e.edge if e.kind in ("variable", "property") else "", type(e.rep))
        d = described.get(memo, False)
        if d is False:
            chain = roots.chain(e.holder)
            d = described[memo] = describe(chain, e, roots.module_dicts) if chain is not None else None
        if d is None or not e.objects:
            continue  # held only by running code, or a bound stopped the walk first
        steps, info = d
        key = tuple((s["edge"], s["kind"], s["holder"]) for s in steps)
        g = groups.get(key)
        if g is None:
            g = groups[key] = {"path": steps, "objects": 0, "bytes": 0, "entries": 0, "info": info, "stacks": []}
        g["objects"] += e.objects
        g["bytes"] += e.bytes
        g["entries"] += 1 if e.counts else 0
        g["user"] = g.get("user") or any(heap.status.get(id(o)) == USER for o in e.tops)
        if len(g["stacks"]) < 64:
            g["stacks"].extend(s for s in map(allocation_stack, e.tops) if s is not None)
    # Library objects under a library's root (a stdlib cache) are shown only when nothing else is.
    mine = [g for g in groups.values() if g.get("user") or _user_root(g["info"])]
    ranked = sorted(mine or groups.values(), key=lambda g: -g["bytes"])[:MAX_GROUPS]
    runs = max(1, runs)
    out = []
    for g in ranked:
        item = {"path": g["path"], "objects": g["objects"], "bytes": g["bytes"],
                "bytesPerRun": round(g["bytes"] / runs, 1), "entriesPerRun": round(g["entries"] / runs, 3)}
        line = holding_line(g["info"], g["stacks"])
        if line is not None:
            item["holdingLine"] = line
        out.append(item)
    result = {"runs": runs, "groups": out, "keptBytes": kept_bytes,
              "pauseMs": round((time.perf_counter() - t0) * 1000.0, 3)}
    if bounds.truncated is not None:
        result["truncated"] = bounds.truncated
    return result

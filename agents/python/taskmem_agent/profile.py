"""Pure pieces: which frames to keep, the enclosing function of a line, the DevTools profile tree.

A *stack* here is a tuple of ``(filename, lineno)`` pairs, oldest frame first (tracemalloc's order
since Python 3.7), and a *stack table* is ``{stack: bytes}``.
"""
import ast
import os
import sysconfig

AGENT_DIR = os.path.dirname(os.path.abspath(__file__))


def _stdlib_dirs():
    dirs = set()
    for key in ("stdlib", "platstdlib"):
        try:
            p = sysconfig.get_paths().get(key)
        except Exception:
            p = None
        if p:
            dirs.add(os.path.normcase(os.path.abspath(p)) + os.sep)
    return tuple(sorted(dirs))


_STDLIB = _stdlib_dirs()
_TRACEMALLOC_FILE = None
try:
    import tracemalloc as _tm
    _TRACEMALLOC_FILE = os.path.abspath(_tm.__file__)
except Exception:
    pass

_class_cache: dict = {}


def classify(filename):
    """-> 'agent' | 'hidden' (import machinery, tracemalloc) | 'stdlib' | 'user'."""
    c = _class_cache.get(filename)
    if c is not None:
        return c
    if filename.startswith("<frozen importlib") or filename.startswith("<frozen zipimport"):
        c = "hidden"
    elif filename.startswith("<"):
        c = "stdlib" if filename.startswith("<frozen") else "user"
    else:
        norm = os.path.normcase(os.path.abspath(filename))
        if norm.startswith(os.path.normcase(AGENT_DIR) + os.sep):
            c = "agent"
        elif _TRACEMALLOC_FILE is not None and norm == os.path.normcase(_TRACEMALLOC_FILE):
            c = "hidden"
        elif norm.endswith(os.sep + "importlib" + os.sep + "_bootstrap.py") or \
                norm.endswith(os.sep + "importlib" + os.sep + "_bootstrap_external.py"):
            c = "hidden"
        elif any(norm.startswith(d) for d in _STDLIB) and \
                (os.sep + "site-packages" + os.sep) not in norm and (os.sep + "dist-packages" + os.sep) not in norm:
            c = "stdlib"
        else:
            c = "user"
    _class_cache[filename] = c
    return c


def clean_stack(stack, classify=classify):
    """Drop the agent's own allocations and hide agent / import-machinery frames.

    -> the cleaned stack (oldest first), or None when the allocation is the agent's own: the most
    recent frame that is neither standard library nor hidden belongs to the agent (for example the
    connection thread building a JSON reply through ``json``).
    """
    for filename, _ in reversed(stack):
        kind = classify(filename)
        if kind in ("stdlib", "hidden"):
            continue
        if kind == "agent":
            return None
        break
    out = tuple(f for f in stack if classify(f[0]) not in ("agent", "hidden"))
    return out or None


class FunctionIndex:
    """Enclosing ``def`` of a line, from ``ast``, cached per file."""

    def __init__(self):
        self._cache = {}

    def _spans(self, filename):
        spans = self._cache.get(filename)
        if spans is not None:
            return spans
        spans = []
        try:
            with open(filename, "rb") as f:
                source = f.read()
            tree = ast.parse(source, filename)
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                    end = getattr(node, "end_lineno", None) or node.lineno
                    name = "<lambda>" if isinstance(node, ast.Lambda) else node.name
                    spans.append((node.lineno, end, name))
            spans.sort(key=lambda s: (s[0], -s[1]))
            spans = tuple(spans)
        except Exception:
            spans = None
        self._cache[filename] = spans if spans is not None else False
        return spans if spans is not None else False

    def name(self, filename, lineno):
        spans = self._spans(filename)
        if spans is False:
            return "<unknown>"
        best = None
        for start, end, name in spans:
            if start > lineno:
                break
            if start <= lineno <= end:
                best = name  # later starts are nested deeper
        return best or "<module>"


_index = FunctionIndex()


def build_profile(table, function_name=None):
    """``{stack: bytes}`` -> DevTools ``SamplingHeapProfile`` ``{head, samples}``."""
    if function_name is None:
        function_name = _index.name
    counter = [1]

    def new_node(filename, lineno):
        if filename is None:
            frame = {"functionName": "(root)", "scriptId": "0", "url": "", "lineNumber": -1, "columnNumber": -1}
        else:
            frame = {"functionName": function_name(filename, lineno), "scriptId": filename, "url": filename,
                     "lineNumber": lineno - 1, "columnNumber": 0}
        node = {"callFrame": frame, "selfSize": 0, "id": counter[0], "children": []}
        counter[0] += 1
        return node

    head = new_node(None, 0)
    kids: dict = {}  # id(node) -> {(file, line): child}
    for stack, size in table.items():
        if size <= 0:
            continue
        node = head
        for frame in stack:
            m = kids.setdefault(node["id"], {})
            child = m.get(frame)
            if child is None:
                child = new_node(frame[0], frame[1])
                m[frame] = child
                node["children"].append(child)
            node = child
        node["selfSize"] += size
    samples = []

    def walk(node):
        if node["selfSize"] > 0:
            samples.append({"size": node["selfSize"], "nodeId": node["id"], "ordinal": 0})
        for c in node["children"]:
            walk(c)

    walk(head)
    return {"head": head, "samples": samples}


def table_from_snapshot(snapshot):
    """tracemalloc.Snapshot -> cleaned ``{stack: bytes}`` (one pass over traces grouped by traceback)."""
    table: dict = {}
    for stat in snapshot.statistics("traceback"):
        stack = tuple((f.filename, f.lineno) for f in stat.traceback)
        stack = clean_stack(stack)
        if stack is None:
            continue
        table[stack] = table.get(stack, 0) + stat.size
    return table


def merge_into(total, table):
    for stack, size in table.items():
        total[stack] = total.get(stack, 0) + size
    return total


def table_bytes(table):
    return sum(table.values())

"""The statement of user code that stores into a holder (``holdingLine`` of ``Taskmem.whyRetained``),
found on the module's syntax tree (``ast``), never guessed: no candidate, no line.

A holder is what why.py names at the root of a path: ``("module", module, "_seen", attrs)``,
``("class", cls, "entries", attrs)``, ``("default", function, "acc", attrs)``, ``("closure", inner
function, "items", attrs)``, ``("attr", function, "name", attrs)``, ``("lru", wrapper, None, ())``;
``attrs`` are the attribute names that follow on the path (``("app", ("cache",))`` for ``app.cache``).
"""
import ast
import os
import sys

# Calls that put something into a list, dict, set or deque.
MUTATORS = frozenset({"append", "add", "update", "setdefault", "extend", "insert", "appendleft", "extendleft",
                      "__setitem__", "push"})
_LRU_NAMES = frozenset({"lru_cache", "cache"})
_trees: dict = {}


def _tree(filename):
    if filename not in _trees:
        try:
            with open(filename, "rb") as f:
                _trees[filename] = ast.parse(f.read(), filename)
        except (OSError, SyntaxError, ValueError):
            _trees[filename] = None
    return _trees[filename]


def root_file(kind, obj):
    if kind == "module":
        f = getattr(obj, "__file__", None)
    elif kind == "class":
        f = getattr(sys.modules.get(obj.__module__), "__file__", None)
    else:
        code = getattr(getattr(obj, "__wrapped__", obj), "__code__", None)
        f = code.co_filename if code is not None else None
    return os.path.abspath(f) if f and not f.startswith("<") else None


def _is_name(node, name):
    return isinstance(node, ast.Name) and node.id == name


def _def_node(tree, name, firstlineno):
    """The ``def`` of a function whose code starts at ``firstlineno`` (its first decorator, if any)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            starts = [node.lineno] + [d.lineno for d in node.decorator_list]
            if firstlineno in starts:
                return node
    return None


def _enclosing_def(tree, name, lineno):
    """The innermost ``def name`` whose lines hold ``lineno`` (a closure's outer function)."""
    best = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name \
                and node.lineno <= lineno <= (node.end_lineno or node.lineno):
            if best is None or node.lineno > best.lineno:
                best = node
    return best


class _Search(ast.NodeVisitor):
    """Statements that store into what ``target(expr, classes)`` recognises; ``rebind`` names the
    variable whose plain assignment counts too (under ``global`` / ``nonlocal``)."""

    def __init__(self, target, rebind=None):
        self.target = target
        self.rebind = rebind
        self.classes: list = []
        self.defs: list = []
        self.found: list = []  # (line, operation, (start, end) of the enclosing def or None)

    def add(self, node, operation):
        span = (self.defs[-1].lineno, self.defs[-1].end_lineno) if self.defs else None
        if not any(f[0] == node.lineno and f[1] == operation for f in self.found):
            self.found.append((node.lineno, operation, span))

    def visit_ClassDef(self, node):
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def visit_FunctionDef(self, node):
        self.defs.append(node)
        self.generic_visit(node)
        self.defs.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node):
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in MUTATORS and self.target(f.value, self.classes):
            self.add(node, f"{ast.unparse(f.value)}.{f.attr}")
        self.generic_visit(node)

    def _store(self, node, targets, op):
        for t in targets:
            if isinstance(t, ast.Subscript) and self.target(t.value, self.classes):
                self.add(node, f"{ast.unparse(t)} {op}")
            elif op != "=" and self.target(t, self.classes):
                self.add(node, f"{ast.unparse(t)} {op}")
            elif self.rebind is not None and _is_name(t, self.rebind) and self.defs and any(
                    isinstance(s, (ast.Global, ast.Nonlocal)) and self.rebind in s.names
                    for s in ast.walk(self.defs[-1])):
                self.add(node, f"{self.rebind} =")

    def visit_Assign(self, node):
        self._store(node, node.targets, "=")
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self._store(node, [node.target], "=")
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._store(node, [node.target], "+=" if isinstance(node.op, ast.Add) else "|=")
        self.generic_visit(node)


def _class_target(cls_name, attr):
    def target(e, classes):
        if not (isinstance(e, ast.Attribute) and e.attr == attr):
            return False
        v = e.value
        if _is_name(v, cls_name):
            return True
        if cls_name not in classes:  # self.x / cls.x mean this class only inside its body
            return False
        return (_is_name(v, "self") or _is_name(v, "cls")
                or (isinstance(v, ast.Attribute) and v.attr == "__class__" and _is_name(v.value, "self"))
                or (isinstance(v, ast.Call) and _is_name(v.func, "type") and len(v.args) == 1
                    and _is_name(v.args[0], "self")))
    return target


def _chain(base, attrs):
    """A target for ``base`` followed by the attributes ``attrs`` (``app`` then ``.cache``)."""
    def target(e, classes):
        for a in reversed(attrs):
            if not (isinstance(e, ast.Attribute) and e.attr == a):
                return False
            e = e.value
        return base(e, classes)
    return target


def _lru_decorators(node):
    out = []
    for d in node.decorator_list:
        f = d.func if isinstance(d, ast.Call) else d
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        if name in _LRU_NAMES:
            out.append((d.lineno, f"@{ast.unparse(f)} {node.name}", (node.lineno, node.end_lineno)))
    return out


def candidates(info):
    """-> (file, [(line, operation, def span)]) for a holder, or (None, [])."""
    kind, obj, name, attrs = info
    filename = root_file(kind, obj)
    tree = _tree(filename) if filename else None
    if tree is None:
        return None, []
    if kind == "lru":
        fn = getattr(obj, "__wrapped__", None)
        code = getattr(fn, "__code__", None)
        node = _def_node(tree, code.co_name, code.co_firstlineno) if code is not None else None
        return filename, (_lru_decorators(node) if node is not None else [])
    if name is None or not isinstance(name, str):
        return filename, []
    scope: ast.AST = tree
    rebind = name if not attrs else None
    if kind == "module":
        search = _Search(_chain(lambda e, c: _is_name(e, name), attrs), rebind=rebind)
    elif kind == "class":
        search = _Search(_chain(_class_target(obj.__name__, name), attrs))
    elif kind == "attr":
        search = _Search(_chain(lambda e, c: isinstance(e, ast.Attribute) and e.attr == name
                                and _is_name(e.value, obj.__name__), attrs))
    elif kind in ("default", "closure"):
        code = obj.__code__
        if kind == "default":
            node = _def_node(tree, obj.__name__, code.co_firstlineno)
        else:
            qual = obj.__qualname__.split(".<locals>")
            node = _enclosing_def(tree, qual[-2].split(".")[-1], code.co_firstlineno) if len(qual) > 1 else None
        if node is None:
            return filename, []
        scope = node
        search = _Search(_chain(lambda e, c: _is_name(e, name), attrs), rebind=rebind if kind == "closure" else None)
    else:
        return filename, []
    search.visit(scope)
    return filename, sorted(search.found)


def holding_line(info, stacks):
    """``stacks``: allocation stacks of the group's objects (``(file, line)`` oldest first): among
    several candidates, prefer one in a function on them."""
    filename, found = candidates(info)
    if not found:
        return None
    pick = found[0]
    if len(found) > 1:
        lines = {ln for stack in stacks for f, ln in stack if os.path.abspath(f) == filename}
        pick = next((c for c in found if c[2] is not None and any(c[2][0] <= ln <= c[2][1] for ln in lines)), pick)
    return {"file": filename, "line": pick[0], "operation": pick[1],
            "confidence": "exact" if len(found) == 1 else "likely", "candidates": len(found)}

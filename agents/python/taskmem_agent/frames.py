"""What running code holds: the frames around a traced task (see Agent._settle)."""
import os
import sys
import tracemalloc


class _LazyProfile:
    """``profile`` pulls in ast and sysconfig: load it only once something is traced."""

    def __getattr__(self, name):
        from . import profile
        return getattr(profile, name)


profile = _LazyProfile()

AGENT_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def held_by_frames(frame, _getrefcount=sys.getrefcount):
    """{stack: bytes} of traced objects that only running code holds: local variables of ``frame``
    and its callers, and what tuples held that way hold, referenced from nowhere else.

    A worker's loop keeps the last task's result in a local until the next task's result replaces
    it (billiard's ``result = (True, prepare_result(fun(...)))`` holds Celery's repr of the return
    value): alive when the task is settled, gone one task later, so not kept.  An object that
    something else also references (a cache that holds the returned object too) is kept, and stays
    counted.  A frame's locals hold each value twice once ``f_locals`` is read (the variable and the
    frame's locals dict); references from a running expression (the value stack) are not seen, so
    such an object stays counted too."""
    refs: dict = {}  # id -> references found from frames and from held tuples
    objs = {}  # id -> object allocated while tracing, seen from a frame
    frames = []
    while frame is not None:
        if not frame.f_code.co_filename.startswith(AGENT_DIR):
            frames.append(frame)
        frame = frame.f_back
    for f in frames:
        for v in f.f_locals.values():
            # Tuples are followed whether or not they were traced (most come from a free list).
            if type(v) is tuple or tracemalloc.get_object_traceback(v) is not None:
                refs[id(v)] = refs.get(id(v), 0) + 2
                objs[id(v)] = v
    del frames[:]  # no references of ours left
    v = f = None  # type: ignore[assignment]
    held: dict = {}
    level = list(objs)
    while level:
        nxt = []
        for key in level:
            obj = objs[key]
            # + 3: objs' reference, ``obj``, getrefcount's argument
            if _getrefcount(obj) != refs[key] + 3:
                continue
            tb = tracemalloc.get_object_traceback(obj)
            stack = profile.clean_stack(tuple((fr.filename, fr.lineno) for fr in tb)) if tb else None
            if stack is not None:
                held[stack] = held.get(stack, 0) + sys.getsizeof(obj)
            if type(obj) is tuple:
                for item in obj:
                    if type(item) is tuple or tracemalloc.get_object_traceback(item) is not None:
                        if id(item) not in objs:
                            objs[id(item)] = item
                            nxt.append(id(item))
                        refs[id(item)] = refs.get(id(item), 0) + 1
                item = None
            obj = None
        level = nxt
    return held


def in_flight_stacks(frame, nframe):
    """The allocation stacks (as ``profile.table_from_snapshot`` keys them, ``nframe`` frames deep)
    of what the calls running now allocated at the lines they are running: ``frame`` and its
    callers.  At a task's end those are the call that reports it, in flight: a dispatcher's keyword
    dicts and argument tuples for the signal that called the hook, referenced from its value stack
    where ``held_by_frames`` cannot see them.  They are freed when the call returns, but their
    blocks can come back from CPython's free lists for the next task's call before the task is
    settled, still carrying these tracebacks (Celery: +104 B or +232 B on some runs of a clean
    task).  A task's own allocations have the task's frames, which have returned, innermost."""
    raw = []
    while frame is not None:
        raw.append((frame.f_code.co_filename, frame.f_lineno))
        frame = frame.f_back
    raw.reverse()  # oldest first, as tracebacks are
    stacks = set()
    for end in range(len(raw)):
        stack = profile.clean_stack(tuple(raw[max(0, end + 1 - nframe):end + 1]))
        if stack is not None:
            stacks.add(stack)
    return stacks


def caller_code(frame):
    """The code of the first frame outside this agent and the signal dispatch that called it (a
    ``send``, or a comprehension in it): the caller that ran the task (Celery's tracer), or None.
    Code objects only: a frame kept alive would keep its locals alive."""
    while frame is not None:
        code = frame.f_code
        # Comprehensions too: Django's Signal.send calls receivers from a list comprehension.
        if (not code.co_filename.startswith(AGENT_DIR) and code.co_name not in ("send", "send_robust")
                and not code.co_name.startswith("<")):
            return code
        frame = frame.f_back
    return None

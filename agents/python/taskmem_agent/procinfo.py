"""What the process is and how much it uses: RSS, the command line, Celery's recycling flags, glibc's
malloc_trim, gc counters.  No state of the agent's here."""
import gc
import os
import sys
import time
import types  # noqa: F401  (type comments)

_PAGESIZE = 4096
try:
    _PAGESIZE = os.sysconf("SC_PAGE_SIZE")
except (AttributeError, ValueError, OSError):
    pass


def gc_counts():
    return [g.get("collections", 0) for g in gc.get_stats()]


def older_collections():
    """Collections of generations 1 and 2 so far."""
    stats = gc.get_stats()
    return (stats[1].get("collections", 0), stats[2].get("collections", 0))


# Attempts at a collection that another one in progress turned away (see collect).
COLLECT_ATTEMPTS = 3


def collect(generation=2):
    """gc.collect(generation), asked again when it did not run: CPython returns at once, collecting
    nothing, while another collection is under way (one that runs Python code, a finalizer or a gc
    callback, can let the GIL go mid-way).  Measured in Celery children: turned away 8 times in 12
    sessions, with only the main thread known to ``threading``; asked again a moment later, it ran.
    What a skipped collection would have freed read as kept by the task.  -> whether it ran."""
    for attempt in range(COLLECT_ATTEMPTS):
        before = gc.get_stats()[generation].get("collections", 0)
        gc.collect(generation)
        if gc.get_stats()[generation].get("collections", 0) != before:
            return True
        time.sleep(0.001)  # lets the other thread finish its collection
    return False


_libc_trim: list = []  # [function or None], resolved once


def resolve_malloc_trim():
    """Looks malloc_trim up once, before tracing starts: importing ctypes allocates ~1 MB that a
    traced run would otherwise keep."""
    if not _libc_trim:
        fn = None
        try:
            import ctypes
            import ctypes.util
            fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            fn.argtypes = [ctypes.c_size_t]
            fn.restype = ctypes.c_int
        except (OSError, AttributeError, ImportError):
            fn = None
        _libc_trim.append(fn)


def malloc_trim():
    """glibc's malloc_trim(0) through ctypes: True when it ran. Elsewhere (musl, macOS) False."""
    resolve_malloc_trim()
    fn = _libc_trim[0]
    if fn is None:
        return False
    fn(0)
    return True


_statm: list = [None, None]  # [pid, fd]: /proc/self resolves at open time, so reopen after a fork


def read_rss():
    """-> (bytes, source).  Current RSS from /proc/self/statm; else the peak from getrusage."""
    try:
        pid = os.getpid()
        if _statm[0] != pid:
            # A stale descriptor from the parent is closed by statm_after_fork(); never close a
            # number here, it may belong to someone else by now.
            _statm[1] = os.open("/proc/self/statm", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            _statm[0] = pid
        return int(os.pread(_statm[1], 128, 0).split()[1]) * _PAGESIZE, "statm"
    except (OSError, ValueError, IndexError, AttributeError):
        _statm[0] = None
    try:
        import resource
        m = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (m if sys.platform == "darwin" else m * 1024), "maxrss"
    except Exception:
        return 0, "none"


def statm_after_fork():
    """Right after fork, in the child: drop the parent's /proc/<ppid>/statm descriptor."""
    if _statm[1] is not None:
        try:
            os.close(_statm[1])
        except OSError:
            pass
    _statm[0] = _statm[1] = None


def process_argv():
    """The real command line (``sys.argv`` is incomplete while ``site`` runs)."""
    argv = getattr(sys, "orig_argv", None)
    if argv:
        return list(argv)
    try:
        with open("/proc/self/cmdline", "rb") as f:
            parts = f.read().split(b"\0")
        if parts and parts[-1] == b"":
            parts.pop()
        if parts:
            return [os.fsdecode(p) for p in parts]
    except OSError:
        pass
    return [sys.executable] + list(getattr(sys, "argv", []) or [])


def looks_like_celery_worker(argv):
    has_celery = any(os.path.basename(a).startswith("celery") or a == "celery" for a in argv)
    return has_celery and "worker" in argv


def parse_recycling(argv):
    out: dict = {"maxTasksPerChild": None, "maxMemoryPerChild": None}
    names = {"--max-tasks-per-child": "maxTasksPerChild", "--maxtasksperchild": "maxTasksPerChild",
             "--max-memory-per-child": "maxMemoryPerChild", "--maxmemperchild": "maxMemoryPerChild"}
    for i, a in enumerate(argv):
        key, value = a, None
        if "=" in a:
            key, value = a.split("=", 1)
        if key in names:
            if value is None and i + 1 < len(argv):
                value = argv[i + 1]
            if value is None:
                continue
            try:
                out[names[key]] = int(value)
            except ValueError:
                pass
    return out


def in_subprocess_preexec():
    """True when os.fork hooks run inside subprocess's fork+exec (a ``preexec_fn`` child)."""
    f: types.FrameType | None = sys._getframe(1)
    while f is not None:
        if f.f_code.co_name == "_execute_child" and f.f_code.co_filename.endswith("subprocess.py"):
            return True
        f = f.f_back
    return False

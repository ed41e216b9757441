"""Task Memory Profiler: injected by putting this directory first on PYTHONPATH.

1. Runs the ``sitecustomize`` this file shadows (Debian ships one), exactly once.
2. When TASKMEM_IPC_DIR and TASKMEM_TOKEN are set, installs the agent (see docs/PROTOCOL.md).
Never raises: an agent failure prints one ``taskmem: agent disabled: <reason>`` line.
"""


def _taskmem_run_shadowed():
    import os
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    rest = []
    seen = False
    for entry in sys.path:
        try:
            same = os.path.abspath(entry or os.curdir) == here
        except Exception:
            same = False
        if same:
            seen = True
            continue
        if seen:
            rest.append(entry)
    if not seen:
        return
    try:
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec("sitecustomize", rest)
        if spec is None or spec.loader is None:
            return
        import importlib.util
        module = importlib.util.module_from_spec(spec)
        # Run it under its own name but in its own namespace; ours stays in sys.modules.
        spec.loader.exec_module(module)
        sys.modules.setdefault("_taskmem_shadowed_sitecustomize", module)
    except Exception as e:
        # What site.py itself does with a failing sitecustomize.
        sys.stderr.write(f"Error in sitecustomize; set PYTHONVERBOSE for traceback:\n{type(e).__name__}: {e}\n")


def _taskmem_install():
    import os
    if not os.environ.get("TASKMEM_IPC_DIR") or not os.environ.get("TASKMEM_TOKEN"):
        return
    try:
        import sys
        from taskmem_agent.procinfo import process_argv
        argv = process_argv()
        # The harness installs the agent itself (with isHarness: true).
        for i, a in enumerate(argv[:-1]):
            if a == "-m" and argv[i + 1] == "taskmem_agent.harness":
                return
        import taskmem_agent
        taskmem_agent.install()
    except BaseException as e:  # noqa: never let the agent break the program
        if isinstance(e, KeyboardInterrupt):
            raise
        import sys
        sys.stderr.write(f"taskmem: agent disabled: {type(e).__name__}: {e}\n")


_taskmem_run_shadowed()
_taskmem_install()
del _taskmem_run_shadowed, _taskmem_install

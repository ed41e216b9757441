"""What the session configured (``Taskmem.configure``): kept across a fork, unlike counters and traces."""
import copy
import os

DEFAULT_BUDGET = 0.1  # worker mode: traced time <= 10 % of wall time (see sampling.py)


class ConfigError(ValueError):
    """A parameter out of range: the method answers -32602 and nothing changes."""


class Config:
    __slots__ = ("sample_every", "budget", "nframe", "gc_per_task", "malloc_trim")

    def __init__(self, is_harness=False, environ=os.environ):
        # sample_every None = budget mode (the worker default); K = one task in K per name
        self.sample_every: int | None = 1 if is_harness else None
        self.budget = DEFAULT_BUDGET
        env_k = environ.get("TASKMEM_SAMPLE_EVERY")
        if env_k and not is_harness:
            try:
                self.sample_every = max(0, int(env_k))
            except ValueError:
                pass
        self.nframe = 3
        self.gc_per_task = False
        # Opt-in (it changes the process): malloc_trim(0) after the session's full GCs, to measure
        # how much RSS is allocator high water.
        self.malloc_trim = False

    def copy(self):
        return copy.copy(self)

    def apply(self, params):
        """Validates every parameter first, then changes them together."""
        if "sampleEvery" in params and "budget" in params:
            raise ConfigError("give sampleEvery (one in K) or budget (a time fraction), not both")
        new = self.copy()
        if "budget" in params:
            b = params["budget"]
            if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 < b <= 1:
                raise ConfigError("budget must be a fraction of wall time, 0 < budget <= 1")
            new.budget = float(b)
            new.sample_every = None
        if "sampleEvery" in params:
            k = params["sampleEvery"]
            if not isinstance(k, int) or isinstance(k, bool) or k < 0:
                raise ConfigError("sampleEvery must be an integer >= 0 (0 = never)")
            new.sample_every = k
        if "nframe" in params:
            n = params["nframe"]
            if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 100:
                raise ConfigError("nframe must be an integer from 1 to 100")
            new.nframe = n
        if "gcPerTask" in params:
            new.gc_per_task = bool(params["gcPerTask"])
        if "mallocTrim" in params:
            new.malloc_trim = bool(params["mallocTrim"])
        for name in self.__slots__:
            setattr(self, name, getattr(new, name))

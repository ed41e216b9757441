"""Which worker task to trace: by a time budget (the default) or one in K per task name.

Budget mode keeps *traced time* -- a sampled task's whole run under tracemalloc plus its
``gc.collect()`` and snapshot -- under a fraction of wall time (default 10 %).  Credit accrues at
``budget`` seconds per second of wall time from the first task on, capped at ``budget * CAP_S``
(so an idle worker does not save up for a burst); a traced task spends what it cost.  A task is
traced only when the credit covers what it is expected to cost (at most the cap, so even a very
long task gets its turn): its name's last traced run, or, for a name not traced yet, its last
untraced run times the slowdown under tracemalloc (TRACE_SLOWDOWN until a traced run shows the
real one) plus the gc.collect() and snapshot of the last traced task.  Credit starts at zero;
the process's first trace may go ahead on no credit when it is expected to cost at most
``budget * START_S`` (a cheap task is traced at once, so a short run still shows sites; an
expensive one waits for its credit), and is paid back from the credit that follows.  So over any
run, traced time <= budget * wall time + one trace.

Fairness: names take turns in rounds.  A name is *due* while it has not been traced in the current
round; the round ends once every known name was traced, or when several tasks in a row (more than
the number of names) were not due while credit was available: the names still due are not running,
and need not hold the others back.  A due name that is waiting for credit reserves it for a while
(cheaper names do not spend it first).  The first run of each name is never traced (warm-up:
imports, caches), as with one in K where the n-th run is traced when n % K == 0.
"""

# An allocation-heavy task under tracemalloc with 3 frames runs ~15x slower (1 frame: ~9x); the
# first estimate is pessimistic so that the first traced run does not overshoot the budget.
TRACE_SLOWDOWN = 15.0
START_S = 0.2  # the first trace may go ahead on no credit if it costs at most budget * START_S
CAP_S = 2.0  # credit cap, in seconds of wall time
RESERVE_S = 2 * CAP_S  # how long a due name waiting for credit holds it


class BudgetSampler(object):
    __slots__ = ("budget", "credit", "t", "round", "eligible", "in_round", "skips", "names",
                 "reserved_until", "traced_s", "t0", "overhead", "slowdown")

    def __init__(self, budget=0.1):
        self.budget = budget
        self.credit = 0.0
        self.t = None  # last refill; None until the first task
        self.t0 = None
        self.round = 1
        self.eligible = 0  # names past their warm-up run
        self.in_round = 0  # eligible names traced in this round
        self.skips = 0
        # name -> [runs, round last traced, cost of its last traced run, its last untraced duration]
        self.names = {}
        self.reserved_until = 0.0
        self.traced_s = 0.0
        self.overhead = 0.0  # gc.collect() + snapshot of the last traced task
        self.slowdown = TRACE_SLOWDOWN  # traced / untraced duration of the last traced task

    def start(self, name, now):
        """A task of ``name`` starts at ``now`` (seconds, monotonic) -> trace it?"""
        st = self.names.get(name)
        if st is None:
            st = self.names[name] = [0, 0, None, None]
        st[0] += 1
        if st[0] == 2:
            self.eligible += 1
        t = self.t
        if t is None:
            self.t = self.t0 = now
            return False
        budget = self.budget
        cap = budget * CAP_S
        c = self.credit + (now - t) * budget
        if c > cap:
            c = cap
        self.credit = c
        self.t = now
        first = self.traced_s == 0.0
        if (c <= 0.0 and not first) or st[0] < 2:
            return False
        if st[1] >= self.round:  # traced in this round already
            if now < self.reserved_until:
                return False
            self.skips += 1
            if self.skips <= self.eligible:
                return False
            self._new_round()
        need = st[2]
        if need is None:
            need = st[3] * self.slowdown + self.overhead if st[3] is not None else 0.0
        if c < (need if need < cap else cap) and not (first and need <= budget * START_S):
            self.reserved_until = now + RESERVE_S
            return False
        st[1] = self.round
        self.skips = 0
        self.reserved_until = 0.0
        self.in_round += 1
        if self.in_round >= self.eligible:
            self._new_round()
        return True

    def _new_round(self):
        self.round += 1
        self.in_round = 0
        self.skips = 0

    def untraced(self, name, duration):
        """An untraced run of ``name`` took ``duration`` seconds."""
        st = self.names.get(name)
        if st is not None:
            st[3] = duration

    def traced(self, name, cost, task_s=None):
        """A traced run of ``name`` cost ``cost`` seconds, ``task_s`` of them in the task itself and
        the rest in gc.collect() and the snapshot."""
        self.credit -= cost
        self.traced_s += cost
        if task_s is not None and cost >= task_s:
            self.overhead = cost - task_s
        st = self.names.get(name)
        if st is not None:
            if task_s is not None and st[3]:
                self.slowdown = min(50.0, max(1.0, task_s / st[3]))
            st[2] = cost

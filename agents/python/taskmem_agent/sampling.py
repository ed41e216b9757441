"""Which worker task to trace: by a time budget (the default) or one in K per task name.

Budget mode keeps *traced time* -- a sampled task's whole run under tracemalloc plus its
``gc.collect()`` and snapshot -- under a fraction of wall time (default 10 %).  Credit accrues at
``budget`` seconds per second of wall time from the first task on, capped at ``budget * CAP_S``
(so an idle worker does not save up for a burst); a traced task spends what it cost.  A task's
*expected cost* is its name's last traced run, or, for a name not traced yet, its last untraced run
times the slowdown under tracemalloc (TRACE_SLOWDOWN until a traced run shows the real one) plus the
gc.collect() and snapshot of the last traced task.

Start-up allowance: a verdict needs several traced runs of every task name, and a short burst (a few
hundred tasks in a few seconds) earns credit for one or two.  So each name's first START_RUNS
traced runs may go ahead on borrowed credit: the credit may go below zero, and later credit pays
the debt back before any other trace.  Borrowing is bounded so that the budget still holds over
any run of HORIZON_S seconds or more: a trace may borrow only while the traced time stays within
``budget * HORIZON_S`` (credit - expected cost >= -budget * (HORIZON_S - elapsed)), and only if it is
expected to cost at most the cap (a long task waits for credit, as below).  So traced time
<= budget * max(wall time, HORIZON_S) + one trace (the last trace's expected cost may be short
of what it cost), and from HORIZON_S on, <= budget * wall time + one trace.

Steady state: once every name past its warm-up run has SETTLED_RUNS traced runs, credit accrues at
STEADY_SHARE of the budget (2.5 % of wall time at the default 10 %): the verdicts have what they
need, and on a long run the tracing was most of the overhead (the untraced path costs ~5 %).  A new
name, or one still short of SETTLED_RUNS, brings the full rate back.  The cap and the start-up
allowance stay as they are.

After its allowance (or when borrowing is not allowed), a task is traced only when the credit covers
its expected cost (at most the cap, so even a very long task gets its turn), and names take turns in
rounds.  A name is *due* while it has not been traced in the current round; the round ends once
every known name was traced, or when several tasks in a row (more than the number of names) were
not due while credit was available: the names still due are not running, and need not hold the
others back.  A due name that is waiting for credit reserves it for a while (cheaper names do not
spend it first).  The first run of each name is never traced (warm-up: imports, caches), as with one
in K where the n-th run is traced when n % K == 0.
"""

# An allocation-heavy task under tracemalloc with 3 frames runs ~15x slower (1 frame: ~9x); the
# first estimate is pessimistic so that the first traced run does not overshoot the budget.
TRACE_SLOWDOWN = 15.0
# Traced runs per name that may borrow credit.  The kept-bytes series of a name needs a handful of
# points for a slope, its residuals and two halves to compare; 8 gives each half 4 points.  Each
# prefork child has its own sampler, so -c 2 gives up to 16 per name.
START_RUNS = 8
# Borrowing keeps traced time <= budget * HORIZON_S (3 s at 10 %): half the 60 s over which the
# overhead goal is measured, so a run that long is within its budget whenever names appear.
HORIZON_S = 30.0
# Traced runs per name after which the budget drops to its steady share: a name's verdict takes the
# later half of its traced runs, and 32 of them give its median and trend what a minute of tracing
# gave before; more runs add little to a per-task figure that tracemalloc measures exactly.
SETTLED_RUNS = 64
STEADY_SHARE = 0.25
CAP_S = 2.0  # credit cap, in seconds of wall time; also the most one borrowed trace may cost
RESERVE_S = 2 * CAP_S  # how long a due name waiting for credit holds it

# Fields of a name's state list.
RUNS, ROUND, COST, LAST_S, TRACED = range(5)


class BudgetSampler:
    __slots__ = ("budget", "credit", "t", "round", "eligible", "in_round", "skips", "names",
                 "reserved_until", "traced_s", "t0", "overhead", "slowdown", "borrowed", "unsettled")

    def __init__(self, budget=0.1):
        self.budget = budget
        self.credit = 0.0
        self.t = None  # last refill; None until the first task
        self.t0 = None
        self.round = 1
        self.eligible = 0  # names past their warm-up run
        self.in_round = 0  # eligible names traced in this round
        self.skips = 0
        # name -> [runs, round last traced, cost of its last traced run, its last untraced duration,
        #          traced runs]
        self.names = {}
        self.reserved_until = 0.0
        self.traced_s = 0.0
        self.borrowed = 0  # traces that went ahead on the start-up allowance
        self.unsettled = 0  # eligible names with fewer than SETTLED_RUNS traced runs
        self.overhead = 0.0  # gc.collect() + snapshot of the last traced task
        self.slowdown = TRACE_SLOWDOWN  # traced / untraced duration of the last traced task

    def start(self, name, now):
        """A task of ``name`` starts at ``now`` (seconds, monotonic) -> trace it?"""
        st = self.names.get(name)
        if st is None:
            st = self.names[name] = [0, 0, None, None, 0]
        st[RUNS] += 1
        if st[RUNS] == 2:
            self.eligible += 1
            self.unsettled += 1
        t = self.t
        if t is None:
            self.t = self.t0 = now
            return False
        budget = self.budget
        cap = budget * CAP_S
        c = self.credit + (now - t) * (budget if self.unsettled else budget * STEADY_SHARE)
        if c > cap:
            c = cap
        self.credit = c
        self.t = now
        if st[RUNS] < 2:
            return False
        need = st[COST]
        if need is None:
            need = st[LAST_S] * self.slowdown + self.overhead if st[LAST_S] is not None else 0.0
        if st[TRACED] < START_RUNS and need <= cap:
            left = HORIZON_S - (now - self.t0)
            if left > 0.0 and c - need >= -budget * left:
                self.borrowed += 1
                return self._trace(st)
        if c <= 0.0:
            return False
        if st[ROUND] >= self.round:  # traced in this round already
            if now < self.reserved_until:
                return False
            self.skips += 1
            if self.skips <= self.eligible:
                return False
            self._new_round()
        if c < (need if need < cap else cap):
            self.reserved_until = now + RESERVE_S
            return False
        return self._trace(st)

    def _trace(self, st):
        st[TRACED] += 1
        if st[TRACED] == SETTLED_RUNS:
            self.unsettled -= 1
        if st[ROUND] < self.round:
            st[ROUND] = self.round
            self.in_round += 1
        self.skips = 0
        self.reserved_until = 0.0
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
            st[LAST_S] = duration

    def spent(self, cost):
        """Tracing time that is not a traced run's (a persistence probe): debited from the credit
        without changing what a name's traced run is expected to cost."""
        self.credit -= cost
        self.traced_s += cost

    def traced(self, name, cost, task_s=None):
        """A traced run of ``name`` cost ``cost`` seconds, ``task_s`` of them in the task itself and
        the rest in gc.collect() and the snapshot."""
        self.credit -= cost
        self.traced_s += cost
        if task_s is not None and cost >= task_s:
            self.overhead = cost - task_s
        st = self.names.get(name)
        if st is not None:
            if task_s is not None and st[LAST_S]:
                self.slowdown = min(50.0, max(1.0, task_s / st[LAST_S]))
            st[COST] = cost

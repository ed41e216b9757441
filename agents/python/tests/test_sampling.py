"""Budget sampling (taskmem_agent/sampling.py) with a fake clock."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taskmem_agent.sampling import CAP_S, HORIZON_S, SETTLED_RUNS, STEADY_SHARE, START_RUNS, BudgetSampler  # noqa: E402


def simulate(names_cycle, n, dur, traced_factor=10.0, fixed=0.005, budget=0.1, gap=0.0, sampler=None):
    """Runs n tasks round-robin over names_cycle; dur(name) -> seconds, ``gap`` seconds between tasks
    (the worker's own per-task work, outside the task).  -> (sampler, traced per name, wall)."""
    s = sampler or BudgetSampler(budget)
    now = 0.0
    counts = {}  # type: dict
    for i in range(n):
        name = names_cycle[i % len(names_cycle)]
        d = dur(name)
        if s.start(name, now):
            cost = d * traced_factor + fixed
            now += cost
            s.traced(name, cost, d * traced_factor)
            counts[name] = counts.get(name, 0) + 1
        else:
            now += d
            s.untraced(name, d)
        now += gap
    return s, counts, now


def celery_child(n, names=("shop.record_order", "shop.price_cart", "shop.price_cart"), gc_s=0.03):
    """One prefork child's share of a burst: ~16 ms of Celery work per task outside the task, tasks of
    tens of microseconds, and a traced run dominated by gc.collect() + snapshot (``gc_s``)."""
    return simulate(list(names), n, lambda name: 0.00005, traced_factor=15.0, fixed=gc_s, gap=0.016)


class BudgetSamplerTest(unittest.TestCase):
    def test_traced_time_stays_within_budget(self):
        # Runs of 60 s and more (the overhead goal's length): within the budget, start-up included.
        for d in (0.0003, 0.005, 0.05):
            s, counts, wall = simulate(["a", "b", "c"], int(60 / d), lambda n: d)
            self.assertGreaterEqual(wall, 60.0)
            one_trace = max(d * 10.0 + 0.005, 0.0)
            self.assertLessEqual(s.traced_s, 0.1 * wall + one_trace + 1e-9, (d, s.traced_s, wall))
            # At least the steady share; the full budget while names were short of SETTLED_RUNS.
            self.assertGreater(s.traced_s, 0.8 * STEADY_SHARE * 0.1 * wall, (d, s.traced_s, wall))

    def test_once_every_name_has_its_runs_the_budget_drops_to_its_steady_share(self):
        s = BudgetSampler(0.1)
        now = 0.0
        d = 0.001
        settled_at: float | None = None
        traced_at_settle = 0.0
        while now < 300.0:
            for name in ("a", "b"):
                if s.start(name, now):
                    cost = d * 10.0 + 0.005
                    now += cost
                    s.traced(name, cost, d * 10.0)
                else:
                    now += d
                    s.untraced(name, d)
            if settled_at is None and s.unsettled == 0 and s.eligible == 2:
                settled_at, traced_at_settle = now, s.traced_s
        self.assertIsNotNone(settled_at)
        assert settled_at is not None  # for mypy
        self.assertLess(settled_at, 60.0)
        # After the settle: the steady share of the budget (2.5 %), one trace of slack.
        later = s.traced_s - traced_at_settle
        bound = STEADY_SHARE * 0.1 * (now - settled_at) + 0.1 * CAP_S + 0.02
        self.assertLessEqual(later, bound, (later, now, settled_at))
        self.assertGreater(later, 0.8 * STEADY_SHARE * 0.1 * (now - settled_at), (later, now, settled_at))
        # A name that appears now brings the full rate back until it has its runs.
        before = s.traced_s
        t0 = now
        traced_new = 0
        while traced_new < SETTLED_RUNS:
            for name in ("a", "b", "c"):
                if s.start(name, now):
                    cost = d * 10.0 + 0.005
                    now += cost
                    s.traced(name, cost, d * 10.0)
                    traced_new += name == "c"
                else:
                    now += d
                    s.untraced(name, d)
        self.assertGreater(s.traced_s - before, 0.07 * (now - t0), (s.traced_s - before, now - t0))
        self.assertEqual(s.unsettled, 0)

    def test_a_short_burst_traces_every_name_enough_for_a_verdict(self):
        # 150 tasks in ~2.4 s (one child of a -c 2 worker given 300): today's credit alone pays for
        # one or two traces; the start-up allowance gives each name START_RUNS.
        s, counts, wall = celery_child(150)
        self.assertLess(wall, 5.0)
        self.assertEqual(counts.get("shop.record_order"), START_RUNS, counts)
        self.assertEqual(counts.get("shop.price_cart"), START_RUNS, counts)
        self.assertEqual(s.borrowed, 2 * START_RUNS)

    def test_the_start_up_allowance_is_paid_back_before_other_traces(self):
        s, counts, wall = celery_child(150)
        debt = -s.credit
        self.assertGreater(debt, 0.0)
        traced_before = s.traced_s
        now = wall
        # No trace until the credit accrued since has paid the debt back.
        while s.credit <= 0.0:
            now += 0.016
            self.assertFalse(s.start("shop.price_cart", now))
            s.untraced("shop.price_cart", 0.00005)
        self.assertEqual(s.traced_s, traced_before)
        self.assertGreaterEqual(now - wall, debt / s.budget - 0.02)

    def test_many_names_borrow_at_most_the_horizon_budget(self):
        # 200 names, each traced run ~0.1 s: their allowances together would be 160 s of tracing;
        # borrowing stops at budget * HORIZON_S, and from HORIZON_S on the budget holds.
        names = ["t%d" % i for i in range(200)]
        s = BudgetSampler(0.1)
        now = 0.0
        worst = 0.0
        for i in range(40000):
            name = names[i % len(names)]
            if s.start(name, now):
                s.traced(name, 0.1, 0.07)
                now += 0.1
            else:
                s.untraced(name, 0.002)
                now += 0.002
            worst = max(worst, s.traced_s - 0.1 * max(now, HORIZON_S))
            if now >= HORIZON_S:
                self.assertLessEqual(s.traced_s, 0.1 * now + 0.1 + 1e-9, (i, s.traced_s, now))
        self.assertLessEqual(worst, 0.1 + 1e-9)
        self.assertGreater(s.borrowed, 20)
        self.assertLess(s.borrowed, 200 * START_RUNS)

    def test_a_name_that_appears_after_the_horizon_waits_for_credit(self):
        s, counts, wall = simulate(["a"], int((HORIZON_S + 5) / 0.01), lambda n: 0.01)
        self.assertGreater(wall, HORIZON_S)
        now = wall
        s.start("late", now)  # warm-up
        s.untraced("late", 0.01)
        s.credit = 0.0  # just spent by "a"
        self.assertFalse(s.start("late", now + 0.01))

    def test_a_long_task_does_not_borrow(self):
        # Expected to cost more than the cap: it waits for credit even in its start-up allowance.
        s = BudgetSampler(0.1)
        s.start("slow", 0.0)
        s.untraced("slow", 0.1 * CAP_S)  # x15 under tracing: far above the cap
        self.assertFalse(s.start("slow", 0.01))
        self.assertEqual(s.borrowed, 0)

    def test_every_name_gets_turns_even_when_cheap_names_dominate(self):
        # "heavy" runs once in 20 tasks and costs 50x the others: it must still be traced regularly.
        cycle = ["light"] * 19 + ["heavy"]
        s, counts, wall = simulate(cycle, 40000, lambda n: 0.02 if n == "heavy" else 0.0004)
        self.assertGreaterEqual(counts.get("heavy", 0), 5, counts)
        self.assertGreaterEqual(counts.get("light", 0), 5, counts)
        self.assertLessEqual(s.traced_s, 0.1 * wall + 0.02 + 1e-9)

    def test_an_absent_name_does_not_block_the_others(self):
        s = BudgetSampler(0.1)
        now = 0.0
        s.start("once", now)
        s.start("once", now)  # eligible, then never seen again
        traced = 0
        for i in range(20000):
            now += 0.001
            if s.start("often", now):
                traced += 1
                s.traced("often", 0.005, 0.004)
                now += 0.005
            else:
                s.untraced("often", 0.001)
        self.assertGreater(traced, 100)

    def test_first_run_is_never_traced_and_a_cheap_task_is_traced_soon(self):
        s = BudgetSampler(0.1)
        self.assertFalse(s.start("a", 0.0))
        s.untraced("a", 0.001)
        self.assertTrue(s.start("a", 0.001))

    def test_an_expensive_first_trace_waits_for_credit(self):
        s = BudgetSampler(0.1)
        s.start("big", 0.0)
        s.untraced("big", 0.05)  # ~0.75 s expected under tracing: more than the start credit
        self.assertFalse(s.start("big", 0.05))
        now, traced_at = 0.05, None
        while traced_at is None:
            now += 0.05
            if s.start("big", now):
                traced_at = now
            else:
                s.untraced("big", 0.05)
        self.assertGreater(traced_at, 1.5)


if __name__ == "__main__":
    unittest.main()

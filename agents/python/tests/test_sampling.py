"""Budget sampling (taskmem_agent/sampling.py) with a fake clock."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taskmem_agent.sampling import BudgetSampler  # noqa: E402


def simulate(names_cycle, n, dur, traced_factor=10.0, fixed=0.005, budget=0.1):
    """Runs n tasks round-robin over names_cycle; dur(name) -> seconds.  -> (sampler, traced per name, wall)."""
    s = BudgetSampler(budget)
    now = 0.0
    counts = {}
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
    return s, counts, now


class BudgetSamplerTest(unittest.TestCase):
    def test_traced_time_stays_within_budget(self):
        for d in (0.0003, 0.005, 0.05):
            s, counts, wall = simulate(["a", "b", "c"], int(60 / d / 3) if d > 0.001 else 100000, lambda n: d)
            self.assertLessEqual(s.traced_s, 0.1 * wall + 0.1 * 0.2 + 1e-9, (d, s.traced_s, wall))
            self.assertGreater(s.traced_s, 0.07 * wall, (d, s.traced_s, wall))

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

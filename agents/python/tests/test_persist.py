"""Persistence probes (taskmem_agent/persist.py): what a traced task kept and something still
references some tasks later, against what only lingered until the next task replaced it."""
import os
import sys
import time
import tracemalloc
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_settle import new_agent  # noqa: E402
from taskmem_agent.persist import Probe  # noqa: E402

_kept = []
_last: list = [None]
_cache: dict = {}  # str -> str only: a dict the collector does not track


def small_leak(n):
    _kept.append(("kept %d" % n).ljust(300, "."))


def last_one(n):
    _last[0] = ("last %d" % n).ljust(300, ".")  # replaced by the next task: not kept


def cache_leak(n):
    _cache["key %d" % n] = ("value %d" % n).ljust(200, ".")


def run(fn, runs=200):
    a = new_agent()

    def loop():
        for n in range(runs):
            a.task_started(fn.__name__, n)
            fn(n)
            a.task_finished(fn.__name__, n)
            time.sleep(0.01)

    loop()
    a.settle_at_exit()
    return [probe for m, p in a.events if m == "Taskmem.taskFinished" for probe in p.get("persistence", [])]


class PersistTest(unittest.TestCase):
    def tearDown(self):
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def test_what_a_leak_keeps_is_still_referenced(self):
        probes = run(small_leak)
        self.assertGreaterEqual(len(probes), 2, probes)
        size = sys.getsizeof(_kept[-1])
        for probe in probes:
            self.assertEqual(probe["aliveBytes"], probe["probedBytes"], probes)
            self.assertGreaterEqual(probe["probedBytes"], size, probes)

    def test_what_a_dict_of_atoms_keeps_is_still_referenced_though_the_collector_does_not_track_it(self):
        probes = run(cache_leak)
        self.assertGreaterEqual(len(probes), 2, probes)
        for probe in probes:
            self.assertGreater(probe["aliveBytes"], 0, probes)
            self.assertEqual(probe["aliveBytes"], probe["probedBytes"], probes)

    def test_what_the_next_task_replaces_is_not(self):
        probes = run(last_one)
        self.assertGreaterEqual(len(probes), 2, probes)
        for probe in probes:
            self.assertEqual(probe["aliveBytes"], 0, probes)
            self.assertGreater(probe["probedBytes"], 0, probes)

    def test_objects_that_reference_each_other_are_alive_only_if_something_else_holds_one(self):
        inner = "".join(["x"] * 100)  # built at run time: a constant would be the code object's too
        outer = [inner]
        held_elsewhere = [outer]
        probe = Probe("t", [outer, inner], 0)
        probe.tasks_at = -100
        alive, probed = probe.read()
        self.assertEqual((alive, probed), (sys.getsizeof(outer) + sys.getsizeof(inner),) * 2)
        held_elsewhere.clear()
        probe = Probe("t", [outer, inner], 0)
        del outer, inner
        alive, probed = probe.read()
        self.assertEqual(alive, 0)
        self.assertGreater(probed, 0)


if __name__ == "__main__":
    unittest.main()

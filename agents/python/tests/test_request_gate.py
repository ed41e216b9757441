"""The request gate (marks.py) on a real agent and real threads: a request chosen for tracing runs
alone, and one that another arrived during is reported without a figure."""
import os
import sys
import tempfile
import threading
import time
import tracemalloc
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taskmem_agent import marks  # noqa: E402
from taskmem_agent.agent import Agent  # noqa: E402


def new_agent(sample_every):
    a = Agent(tempfile.mkdtemp(), "token", 0)  # a private (0700) directory, as the session makes
    a.attached = True
    a.tasks.sampling_on = True
    a.config.sample_every = sample_every
    events = []  # type: list
    a.events = events  # type: ignore[attr-defined]
    a.tasks.emit = lambda method, params: events.append((method, dict(params)))
    return a


def until(condition, what):
    """Waits for another thread to get somewhere (generously: this is not a timing assertion)."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("never happened: " + what)
        time.sleep(0.001)


def in_thread(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


def finished(a, task_id):
    return [p for m, p in a.events if m == "Taskmem.taskFinished" and p["id"] == task_id]


class RequestGateTest(unittest.TestCase):
    def setUp(self):
        self.saved = marks.GATE_S
        marks.GATE_S = 60.0  # no timeouts here: every wait ends because the other request ended

    def tearDown(self):
        marks.GATE_S = self.saved
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def test_a_traced_request_waits_for_those_in_flight_and_runs_alone(self):
        a = new_agent(sample_every=2)  # the 2nd request of a name is traced
        marks.request_started(a, "flask", "GET /a", 1)  # untraced, in flight
        chosen = in_thread(marks.request_started, a, "flask", "GET /a", 2)
        until(lambda: a.tasks.gate.alone == 2, "request 2 chosen for tracing")
        self.assertNotIn(2, a.tasks.active)  # still waiting: request 1 is in flight
        self.assertFalse(tracemalloc.is_tracing())
        marks.request_finished(a, "flask", "GET /a", 1)
        chosen.join(30)
        self.assertTrue(a.tasks.active[2][2])  # traced, alone
        self.assertTrue(tracemalloc.is_tracing())
        marks.request_finished(a, "flask", "GET /a", 2)
        a.flush_at_exit()  # settles it (the writer's poll in a live agent)
        self.assertEqual(finished(a, 2)[0]["sampled"], True)
        self.assertIsNone(a.tasks.gate.alone)
        self.assertEqual((a.tasks.gate.discarded, a.tasks.gate.in_flight), (0, 0))

    def test_a_request_that_arrives_during_a_traced_one_waits_and_that_one_gets_no_figure(self):
        a = new_agent(sample_every=1)  # every request would be traced
        marks.request_started(a, "django", "GET /b", 1)  # nothing in flight: traced at once
        self.assertTrue(a.tasks.active[1][2])
        late = in_thread(marks.request_started, a, "django", "GET /b", 2)
        until(lambda: a.tasks.gate.waited == 1 and a.tasks.gate.overlapped, "request 2 waiting at the gate")
        self.assertNotIn(2, a.tasks.active)
        marks.request_finished(a, "django", "GET /b", 1)
        late.join(30)
        self.assertEqual(a.tasks.gate.discarded, 1)
        # Counted, with no figure (an untraced task's event goes straight to the connection: none here).
        self.assertEqual((a.tasks.tasks_finished, a.tasks.sampled_tasks, finished(a, 1)), (1, 0, []))
        self.assertTrue(a.tasks.active[2][2])  # the gate opened with nothing in flight: 2 runs alone, traced
        marks.request_finished(a, "django", "GET /b", 2)
        a.flush_at_exit()
        self.assertEqual(finished(a, 2)[0]["sampled"], True)
        self.assertEqual((a.tasks.sampled_tasks, a.tasks.gate.discarded, a.tasks.gate.in_flight), (1, 1, 0))


if __name__ == "__main__":
    unittest.main()

"""Settling a traced worker task (taskmem_agent/tasks.py): what the code that ran the task still
holds when the task ends is not what the task kept."""
import gc
import os
import sys
import threading
import time
import tracemalloc
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taskmem_agent.config import Config  # noqa: E402
from taskmem_agent.tasks import SETTLE_WAIT_S, TaskTracer  # noqa: E402
from taskmem_agent.frames import held_by_frames, in_flight_stacks  # noqa: E402
from taskmem_agent.profile import table_from_snapshot  # noqa: E402

_kept = []


def leaky(n):
    _kept.append("receipt %08d\n" % n * 100)  # ~1.4 KB kept per run
    return n * 1000003


def nested(n):
    # Short-lived lists: freed into CPython's list free list, not to the allocator.
    rows = [[n + i] for i in range(10)]
    return sum(row[0] for row in rows)


def clean(n):
    rows = ["%d" % (n + i) for i in range(200)]
    return len(rows) * 1000003  # a fresh int, returned


class FakeSignal:
    """Like Celery: the tracer sends postrun through a dispatcher's ``send``, and keeps the return
    value and its repr in its locals until it returns; the pool loop keeps the repr until the next
    task's result replaces it."""

    def __init__(self, agent):
        self.agent = agent

    def send(self, name, task_id):
        kwargs = {"task_id": task_id, "name": name}  # alive while the receiver runs
        self.agent.task_finished(kwargs["name"], kwargs["task_id"])


def trace_task(agent, signal, name, fn, n):
    agent.task_started(name, n)
    retval = fn(n)
    rstr = "%r" % (retval,)
    signal.send(name, n)
    return (0, rstr)


def pool_loop(agent, fn, runs):
    signal = FakeSignal(agent)
    result = None
    for n in range(runs):
        result = (True, trace_task(agent, signal, fn.__name__, fn, n))
        time.sleep(0.001)
    return result is not None


def new_agent():
    """A worker's task tracer with a session attached, tracing every task; its events in ``.events``."""
    config = Config(False)
    config.sample_every = 1  # trace every task
    events = []  # type: list
    a = TaskTracer(config, "worker", lambda method, params: events.append((method, dict(params))), lambda: True)
    a.events = events  # type: ignore[attr-defined]
    return a


def kept_per_run(a, name):
    return [p["retainedBytes"] for m, p in a.events
            if m == "Taskmem.taskFinished" and p["name"] == name and p["sampled"]]


class SettleTest(unittest.TestCase):
    def tearDown(self):
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def run_worker(self, fn, runs=12):
        a = new_agent()
        pool_loop(a, fn, runs)
        # The last one: by the connection's writer thread, once it is SETTLE_WAIT_S old.
        a.writer_poll(None)
        self.assertIsNotNone(a.pending)
        time.sleep(SETTLE_WAIT_S)
        a.writer_poll(None)
        self.assertIsNone(a.pending)
        self.assertFalse(tracemalloc.is_tracing())
        return kept_per_run(a, fn.__name__)

    def test_a_clean_task_keeps_nothing_although_its_callers_still_hold_its_result(self):
        kept = self.run_worker(clean)
        self.assertEqual(len(kept), 12)
        # The first run may meet one-time allocations; after it, nothing at all.
        self.assertEqual(kept[1:], [0] * 11, kept)

    def test_what_a_clean_task_freed_into_the_free_lists_is_not_kept(self):
        # Python's own full collections (here: one before each task) empty the free lists; the
        # task's temporary lists then fill them and stay allocated to tracemalloc (560 B a run
        # before the settle emptied them again).
        a = new_agent()
        signal = FakeSignal(a)
        for n in range(12):
            gc.collect()
            trace_task(a, signal, "nested", nested, n)
            time.sleep(SETTLE_WAIT_S)
            a.writer_poll(None)  # settled by the writer thread: no task follows
        self.assertIsNone(a.pending)
        kept = kept_per_run(a, "nested")
        self.assertEqual(len(kept), 12)
        self.assertEqual(kept[1:], [0] * 11, kept)

    def test_a_traced_task_that_ends_after_the_session_left_is_settled_at_once(self):
        attached = [True]
        config = Config(False)
        config.sample_every = 1
        a = TaskTracer(config, "worker", lambda method, params: None, lambda: attached[0])
        a.task_started("clean", 1)
        self.assertTrue(tracemalloc.is_tracing())
        attached[0] = False  # the session detaches while the task runs
        clean(1)
        a.task_finished("clean", 1)
        self.assertIsNone(a.pending)
        self.assertFalse(tracemalloc.is_tracing())

    def test_what_the_running_calls_allocated_at_their_lines_is_in_flight(self):
        kept = []

        def hook(argument):
            snap = tracemalloc.take_snapshot()
            return table_from_snapshot(snap), in_flight_stacks(sys._getframe(), 3)

        def dispatch():
            kept.append("receipt %d" % 7 * 20)  # kept, at a line that has finished
            # The argument is alive on this line's value stack while the hook runs.
            return hook("task %d" % 1 * 20)

        tracemalloc.start(3)
        try:
            table, in_flight = dispatch()
        finally:
            tracemalloc.stop()
        line = dispatch.__code__.co_firstlineno
        by_line = {stack[-1][1] - line: stack for stack in table if stack[-1][0] == __file__}
        self.assertIn(3, by_line)  # the argument, at the return line
        self.assertIn(by_line[3], in_flight)
        self.assertIn(1, by_line)  # the receipt
        self.assertNotIn(by_line[1], in_flight)

    def test_a_task_that_starts_while_the_writer_settles_the_last_one_is_still_traced(self):
        a = new_agent()
        signal = FakeSignal(a)
        trace_task(a, signal, "clean", clean, 0)
        time.sleep(SETTLE_WAIT_S)
        # The writer thread is settling: the report taken, tracing not yet stopped.
        a.pending_lock.acquire()
        a.pending = None
        done = threading.Event()

        def writer_ends_its_settle():
            time.sleep(0.05)
            tracemalloc.stop()
            a.pending_lock.release()
            done.set()

        threading.Thread(target=writer_ends_its_settle).start()
        trace_task(a, signal, "clean", clean, 1)
        self.assertTrue(done.wait(5))
        started = [p["id"] for m, p in a.events if m == "Taskmem.taskStarted"]
        self.assertEqual(started, [0, 1])

    def test_a_leaky_task_keeps_what_it_appends(self):
        kept = self.run_worker(leaky)
        self.assertEqual(len(kept), 12)
        size = sys.getsizeof("receipt %08d\n" % 1 * 100)
        for k in kept[1:]:
            self.assertGreaterEqual(k, size)
            self.assertLess(k, size + 200)

    def test_an_id_built_inside_the_traced_window_is_not_kept_by_the_task(self):
        # A loop that marks its tasks by hand and builds the id again for the end mark
        # (task_postrun.send(task_id="t%d" % i)): the pending report must not keep that string alive.
        a = new_agent()

        def hand_marked_loop():
            for n in range(12):
                a.task_started("clean", "t%d" % n)
                clean(n)
                a.task_finished("clean", "t%d" % n)
                time.sleep(0.001)

        hand_marked_loop()
        time.sleep(SETTLE_WAIT_S)
        a.writer_poll(None)
        kept = kept_per_run(a, "clean")
        self.assertEqual(len(kept), 12)
        self.assertEqual(kept[1:], [0] * 11, kept)
        # The report still carries the id, as the program gave it.
        ids = [p["id"] for m, p in a.events if m == "Taskmem.taskFinished"]
        self.assertEqual(ids, ["t%d" % n for n in range(12)])

    def test_an_object_held_by_a_frame_and_a_cache_counts_as_kept(self):
        cache = []

        def holder():
            tracemalloc.start(3)
            value = "x%d" % 12345 * 50
            cache.append(value)
            transient = "y%d" % 54321 * 50
            held = held_by_frames(sys._getframe())
            tracemalloc.stop()
            return held, transient

        held, transient = holder()
        self.assertEqual(sum(held.values()), sys.getsizeof(transient), held)


if __name__ == "__main__":
    unittest.main()

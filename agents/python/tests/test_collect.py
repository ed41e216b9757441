"""procinfo.collect: a collection that another one in progress turned away is asked again."""
import gc
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taskmem_agent import procinfo  # noqa: E402


def full_collections():
    return gc.get_stats()[2]["collections"]


class CollectionHeld:
    """A full collection on another thread, held inside a gc callback (Python code, which lets the
    GIL go) until ``release`` is set: while it lasts, gc.collect() on this thread does nothing."""

    def __init__(self):
        self.inside = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _callback(self, phase, info):
        if phase == "start" and threading.current_thread() is self.thread:
            self.inside.set()
            self.release.wait(10)

    def _run(self):
        gc.collect()

    def __enter__(self):
        gc.callbacks.append(self._callback)
        self.thread.start()
        assert self.inside.wait(10)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(10)
        gc.callbacks.remove(self._callback)


class CollectTest(unittest.TestCase):
    def test_a_collection_runs(self):
        before = full_collections()
        self.assertTrue(procinfo.collect())
        self.assertEqual(full_collections(), before + 1)

    def test_gc_collect_does_nothing_while_another_thread_collects(self):
        # The fault this guards against, shown on the interpreter itself.
        with CollectionHeld():
            before = full_collections()
            self.assertEqual(gc.collect(), 0)
            self.assertEqual(full_collections(), before)

    def test_asked_again_once_the_other_collection_ends(self):
        sleep = procinfo.time.sleep
        waits = []
        with CollectionHeld() as held:
            def other_collection_ends(seconds):
                waits.append(seconds)
                held.release.set()
                held.thread.join(10)

            procinfo.time.sleep = other_collection_ends
            try:
                before = full_collections()
                self.assertTrue(procinfo.collect())
            finally:
                procinfo.time.sleep = sleep
        self.assertEqual(len(waits), 1)
        # The other thread's collection and ours.
        self.assertEqual(full_collections(), before + 2)

    def test_gives_up_when_the_other_collection_does_not_end(self):
        with CollectionHeld():
            self.assertFalse(procinfo.collect())


if __name__ == "__main__":
    unittest.main()

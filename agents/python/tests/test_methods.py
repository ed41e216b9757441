"""The method table (taskmem_agent/methods.py): what the session asks, answered under honest names."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taskmem_agent.agent import Agent  # noqa: E402
from taskmem_agent.methods import dispatch  # noqa: E402


class Conn:
    """Collects the frames the agent answers."""

    def __init__(self):
        self.sent = []  # type: list

    def send_text(self, text):
        self.sent.append(json.loads(text))


def call(agent, method, params=None):
    conn = Conn()
    dispatch(agent, conn, json.dumps({"id": 7, "method": method, "params": params or {}}))
    assert len(conn.sent) == 1, conn.sent
    return conn.sent[0]


class MethodTableTest(unittest.TestCase):
    def setUp(self):
        self.agent = Agent(tempfile.mkdtemp(), "token", 0)
        self.agent.tasks.mode = "worker"

    def test_taskmem_sampling_profile_carries_the_task_counts(self):
        self.agent.tasks.sampled_tasks = 2
        self.agent.tasks.tasks_finished = 9
        reply = call(self.agent, "Taskmem.getSamplingProfile")["result"]
        self.assertEqual(sorted(reply), ["profile", "sampledTasks", "totalTasks"])
        self.assertEqual((reply["sampledTasks"], reply["totalTasks"]), (2, 9))
        self.assertEqual(reply["profile"]["head"]["callFrame"]["functionName"], "(root)")

    def test_heap_profiler_sampling_profile_has_the_devtools_shape_only(self):
        self.agent.tasks.sampled_tasks = 2
        for method in ("HeapProfiler.getSamplingProfile", "HeapProfiler.stopSampling"):
            reply = call(self.agent, method)["result"]
            self.assertEqual(list(reply), ["profile"], method)

    def test_stats_name_traced_memory_and_rss_apart(self):
        stats = call(self.agent, "Taskmem.getStats")["result"]
        self.assertGreater(stats["rss"], 1_000_000)
        self.assertEqual((stats["tracing"], stats["tracedCurrent"], stats["tracedPeak"]), (False, 0, 0))

    def test_heap_usage_is_not_answered(self):
        # Python has no V8 heap: traced memory and RSS travel under their own names in getStats.
        reply = call(self.agent, "Runtime.getHeapUsage")
        self.assertEqual(reply["error"]["code"], -32601)


if __name__ == "__main__":
    unittest.main()

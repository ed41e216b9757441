"""Why is it kept (taskmem_agent/why.py, Taskmem.whyRetained): fixture tasks in tests/fixtures/why run
under real tracemalloc, then the walk over the real heap names the root, the path and the line."""
import gc
import importlib
import json
import os
import sys
import tempfile
import tracemalloc
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "fixtures", "why"))

from taskmem_agent.agent import Agent  # noqa: E402
from taskmem_agent.harness import Harness  # noqa: E402
from taskmem_agent.methods import dispatch  # noqa: E402
from taskmem_agent.why import why_retained  # noqa: E402

RUNS = 50


def line_of(module, text):
    """The 1-based line of the fixture's source that holds ``text`` (there must be one)."""
    with open(module.__file__) as f:
        hits = [i + 1 for i, line in enumerate(f.read().splitlines()) if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]


class Conn:
    def __init__(self):
        self.sent: list = []

    def send_text(self, text):
        self.sent.append(json.loads(text))

    def flush(self, timeout=None):
        return True


def call(agent, params):
    conn = Conn()
    dispatch(agent, conn, json.dumps({"id": 3, "method": "Taskmem.whyRetained", "params": params}))
    return conn.sent


class WhyRetainedTest(unittest.TestCase):
    def tearDown(self):
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def run_task(self, name, runs=RUNS, **bounds):
        """Fresh module state, one warm-up run untraced (as the harness does), ``runs`` traced runs,
        a collection, the walk."""
        m = importlib.reload(importlib.import_module(name))
        if hasattr(m, "warm"):
            m.warm()
        m.handle(0)
        tracemalloc.start(3)
        for n in range(1, runs + 1):
            m.handle(n)
        gc.collect()
        return m, why_retained(runs, **bounds)

    def check_top(self, m, result, holders, edges, kinds, statement, operation):
        self.assertTrue(result["groups"], result)
        g = result["groups"][0]
        self.assertEqual([s["holder"] for s in g["path"]], holders)
        self.assertEqual([s["edge"] for s in g["path"]], edges)
        self.assertEqual([s["kind"] for s in g["path"]], kinds)
        self.assertTrue(0.9 <= g["entriesPerRun"] <= 1.1, g["entriesPerRun"])
        self.assertGreater(g["bytes"], 0)
        self.assertAlmostEqual(g["bytesPerRun"], g["bytes"] / RUNS, delta=0.1)
        self.assertGreaterEqual(result["keptBytes"], sum(x["bytes"] for x in result["groups"]) * 0.99)
        line = g["holdingLine"]
        self.assertEqual(line["file"], os.path.abspath(m.__file__))
        self.assertEqual(line["line"], line_of(m, statement))
        self.assertEqual(line["operation"], operation)
        self.assertEqual((line["confidence"], line["candidates"]), ("exact", 1))
        self.assertNotIn("truncated", result)
        return g

    def test_module_dict(self):
        m, r = self.run_task("dict_cache")
        self.check_top(m, r, ["module dict_cache.py", "dict", "list"], ["", "_seen", "{entry}"],
                       ["variable", "variable", "entry"], "_seen[key] = ", "_seen[key] =")

    def test_list_append_on_a_global(self):
        m, r = self.run_task("global_list")
        g = self.check_top(m, r, ["module global_list.py", "list", "Record"], ["", "_log", "[]"],
                           ["variable", "variable", "element"], "_log.append(", "_log.append")
        # Each Record, its list of lines and the lines hang under the entry.
        self.assertGreaterEqual(g["objects"], RUNS * 20)

    def test_class_attribute(self):
        m, r = self.run_task("class_attr")
        self.check_top(m, r, ["class Registry", "list", "dict"], ["", "entries", "[]"],
                       ["variable", "property", "element"], "self.entries.append(", "self.entries.append")

    def test_lru_cache_on_a_method(self):
        m, r = self.run_task("lru_method")
        g = self.check_top(m, r, ["lru_cache PriceService.price", "dict", "list"], ["", "cache", "{entry}"],
                           ["variable", "internal", "entry"], "@functools.lru_cache", "@functools.lru_cache price")
        # The cache keeps the instances it was called on (in its keys) with their rates.
        self.assertGreaterEqual(g["objects"], RUNS * 30)

    def test_unbounded_lru_cache_on_a_function(self):
        m, r = self.run_task("lru_unbounded")
        self.check_top(m, r, ["lru_cache parse", "dict", "list"], ["", "cache", "{entry}"],
                       ["variable", "internal", "entry"], "@functools.cache", "@functools.cache parse")

    def test_mutable_default_argument(self):
        m, r = self.run_task("default_arg")
        self.check_top(m, r, ["function collect (default argument)", "list", "str"], ["", "acc", "[]"],
                       ["variable", "internal", "element"], "acc.append(", "acc.append")

    def test_closure_cell(self):
        m, r = self.run_task("closure_cell")
        self.check_top(m, r, ["function make_tracker (closure)", "list", "tuple"], ["", "items", "[]"],
                       ["variable", "variable", "element"], "items.append(", "items.append")

    def test_clean_task_has_no_group(self):
        m, r = self.run_task("clean")
        self.assertEqual(r["groups"], [])
        self.assertEqual(m._rate.cache_info().currsize, 8)  # the cache was full and stayed so
        self.assertNotIn("truncated", r)

    def test_several_stores_prefer_the_one_on_the_allocation_stack(self):
        m, r = self.run_task("two_writers")
        line = r["groups"][0]["holdingLine"]
        self.assertEqual((line["confidence"], line["candidates"]), ("likely", 2))
        self.assertEqual(line["line"], line_of(m, "_index[n + 100_000] = "))

    def test_no_statement_by_the_holders_name_gives_no_line(self):
        m, r = self.run_task("alias")
        g = r["groups"][0]
        self.assertEqual([s["edge"] for s in g["path"]][:2], ["", "_log"])
        self.assertNotIn("holdingLine", g)

    def test_a_proxy_on_the_path_is_not_asked_anything(self):
        m, r = self.run_task("proxy")
        self.assertEqual(m.ContextProxy.asked, 0)
        # The holder is an attribute of a module global: the line is found by that chain of names.
        self.check_top(m, r, ["module proxy.py", "ContextProxy", "list", "str"], ["", "request", "log", "[]"],
                       ["variable", "variable", "property", "element"], "request.log.append(", "request.log.append")

    def test_library_allocations_when_that_is_all_there_is(self):
        m, r = self.run_task("libonly")
        self.check_top(m, r, ["module libonly.py", "list", "dict"], ["", "_parsed", "[]"],
                       ["variable", "variable", "element"], "_parsed.append(", "_parsed.append")

    def test_bounds_say_what_stopped_the_walk(self):
        _, r = self.run_task("dict_cache", max_objects=100)
        self.assertTrue(r["truncated"].startswith("maxObjects"), r["truncated"])
        tracemalloc.stop()
        _, r = self.run_task("global_list", time_budget_ms=1)
        self.assertTrue(r["truncated"].startswith("timeBudgetMs"), r["truncated"])

    def test_answer_has_the_whyretained_shape(self):
        _, r = self.run_task("global_list")
        json.dumps(r)
        self.assertLessEqual(set(r), {"runs", "groups", "keptBytes", "pauseMs", "truncated"})
        self.assertEqual(r["runs"], RUNS)
        self.assertGreater(r["pauseMs"], 0)
        for g in r["groups"]:
            self.assertLessEqual(set(g), {"path", "objects", "bytes", "bytesPerRun", "entriesPerRun", "holdingLine"})
            for s in g["path"]:
                self.assertEqual(set(s), {"edge", "kind", "holder"})
                self.assertIn(s["kind"], ("variable", "property", "element", "entry", "listener", "internal"))
            self.assertEqual(g["path"][0]["edge"], "")
            if "holdingLine" in g:
                self.assertEqual(set(g["holdingLine"]), {"file", "line", "operation", "confidence", "candidates"})


class WhyRetainedMethodTest(unittest.TestCase):
    def tearDown(self):
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        for agent in self.agents:
            agent.server.stop()

    def setUp(self):
        self.agents: list = []

    def new_agent(self, **kw):
        agent = Agent(tempfile.mkdtemp(), "token", 0, **kw)
        self.agents.append(agent)
        return agent

    def test_answers_on_the_reader_thread_outside_the_harness(self):
        agent = self.new_agent()
        m = importlib.reload(importlib.import_module("default_arg"))
        reply = call(agent, {"runs": 3})
        self.assertEqual(reply[0]["error"]["code"], -32000)  # not tracing: said, not an empty answer
        tracemalloc.start(3)
        for n in range(3):
            m.handle(n)
        reply = call(agent, {"runs": 3, "maxObjects": 5_000_000, "timeBudgetMs": 60_000})
        result = reply[0]["result"]
        self.assertEqual(result["runs"], 3)
        self.assertTrue(any(g["path"][0]["holder"] == "function collect (default argument)" for g in result["groups"]))

    def test_bad_params_are_refused(self):
        agent = self.new_agent()
        for params in ({}, {"runs": 0}, {"runs": "5"}, {"runs": 5, "maxObjects": 1.5}, {"runs": 5, "timeBudgetMs": 0}):
            self.assertEqual(call(agent, params)[0]["error"]["code"], -32602, params)

    def test_the_harness_runs_it_on_the_main_thread(self):
        agent = self.new_agent(is_harness=True)
        self.assertEqual(call(agent, {"runs": 4}), [])  # answered by the main thread, later
        kind, method, params, _ = agent.main_queue.get()
        self.assertEqual((kind, method, params), ("call", "Taskmem.whyRetained", {"runs": 4}))

    def test_the_harness_answers_between_runs(self):
        agent = self.new_agent(is_harness=True)
        conn = Conn()
        fixture = os.path.join(HERE, "fixtures", "why", "default_arg.py")
        requests = [("Taskmem.loadHarness", {"file": fixture, "exportName": "handle", "args": [7]}),
                    ("Taskmem.runTask", {"index": 0, "measure": False})]
        requests += [("Taskmem.runTask", {"index": i, "measure": True}) for i in range(1, 21)]
        requests += [("Taskmem.whyRetained", {"runs": 20}), ("Taskmem.exit", {})]
        for i, (method, params) in enumerate(requests):
            agent.main_queue.put(("call", method, params, (i, conn)))
        self.assertEqual(Harness(agent).loop(), 0)
        why = conn.sent[-2]["result"]
        top = why["groups"][0]
        self.assertEqual(top["path"][0]["holder"], "function collect (default argument)")
        self.assertTrue(0.9 <= top["entriesPerRun"] <= 1.1, top["entriesPerRun"])
        self.assertEqual(top["holdingLine"]["file"], fixture)


if __name__ == "__main__":
    unittest.main()

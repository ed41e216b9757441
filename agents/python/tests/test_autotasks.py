"""Tasks without code changes: task names for requests, which detectors are on, the import hook."""
import contextlib
import io
import json
import os
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from taskmem_agent import imports, marks  # noqa: E402
from taskmem_agent.naming import MAX_NAME, collapse_path, request_task_name  # noqa: E402

# The cases src/launch/httpTasks.ts is checked against too (test/unit/httpTaskNames.test.ts).
CASES = os.path.join(HERE, "..", "..", "..", "test", "fixtures", "http-task-names.json")


class CollapsePathTest(unittest.TestCase):
    def test_same_cases_as_the_node_side(self):
        with open(CASES, encoding="utf-8") as f:
            cases = json.load(f)["collapse"]
        self.assertGreater(len(cases), 10)
        for url, expected in cases:
            self.assertEqual(collapse_path(url), expected, url)


class RequestTaskNameTest(unittest.TestCase):
    def test_flask_rule(self):
        self.assertEqual(request_task_name("GET", "/users/<int:id>", "/users/7"), "GET /users/<int:id>")

    def test_django_route_gets_a_leading_slash(self):
        self.assertEqual(request_task_name("post", "login/<int:user_id>/", "/login/7/"), "POST /login/<int:user_id>/")
        self.assertEqual(request_task_name("GET", "", "/"), "GET /")

    def test_no_route_falls_back_to_the_collapsed_path(self):
        self.assertEqual(request_task_name("GET", None, "/orders/42/items?x=1"), "GET /orders/:id/items")

    def test_odd_inputs(self):
        self.assertEqual(request_task_name(None, None, None), "HTTP /")
        self.assertEqual(request_task_name("", None, ""), "HTTP /")

    def test_long_names_are_cut(self):
        name = request_task_name("GET", None, "/" + "a/" * 500)
        self.assertEqual(len(name), MAX_NAME)
        self.assertTrue(name.endswith("\u2026"))


class EnabledSourcesTest(unittest.TestCase):
    def quiet(self, raw):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            return marks.enabled_sources(raw), err.getvalue()

    def test_default_is_every_detector(self):
        self.assertEqual(self.quiet("")[0], ("celery", "rq", "flask", "django"))
        self.assertEqual(self.quiet("all")[0], ("celery", "rq", "flask", "django"))

    def test_off(self):
        for raw in ("0", "off", "none", " OFF "):
            self.assertEqual(self.quiet(raw)[0], (), raw)

    def test_a_list_keeps_those_only(self):
        self.assertEqual(self.quiet("celery,rq")[0], ("celery", "rq"))
        self.assertEqual(self.quiet(" Django , flask ")[0], ("flask", "django"))

    def test_unknown_names_are_said(self):
        sources, err = self.quiet("rq,bullmq")
        self.assertEqual(sources, ("rq",))
        self.assertIn("bullmq", err)


class WhenImportedTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        sys.path.insert(0, self.dir)

    def tearDown(self):
        sys.path.remove(self.dir)
        for name in ("tm_probe_a", "tm_probe_b"):
            sys.modules.pop(name, None)

    def write(self, name, body):
        with open(os.path.join(self.dir, name + ".py"), "w") as f:
            f.write(textwrap.dedent(body))

    def test_runs_once_the_module_has_executed_and_stays_transparent(self):
        self.write("tm_probe_a", "VALUE = 41\n")
        seen = []
        imports.when_imported("tm_probe_a", lambda m: seen.append(m.VALUE))
        self.assertEqual(seen, [])
        import tm_probe_a  # type: ignore[import]
        self.assertEqual(seen, [41])
        # The real loader, not our wrapper, is what the module reports.
        self.assertNotIsInstance(tm_probe_a.__spec__.loader, imports._WrappedLoader)
        self.assertNotIsInstance(tm_probe_a.__loader__, imports._WrappedLoader)

    def test_an_imported_module_runs_at_once_and_a_failing_hook_never_breaks_the_import(self):
        self.write("tm_probe_b", "VALUE = 1\n")
        import tm_probe_b  # type: ignore[import]  # noqa: F401
        seen = []
        imports.when_imported("tm_probe_b", lambda m: seen.append(m.VALUE))
        self.assertEqual(seen, [1])
        sys.modules.pop("tm_probe_b")

        def boom(module):
            raise RuntimeError("hook bug")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            imports.when_imported("tm_probe_b", boom)
            import tm_probe_b as again  # type: ignore[import]
        self.assertEqual(again.VALUE, 1)
        self.assertIn("hook bug", err.getvalue())


if __name__ == "__main__":
    unittest.main()

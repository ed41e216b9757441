"""Unit tests for the agent's pure pieces: python3 -m unittest discover -s agents/python/tests"""
import os
import struct
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taskmem_agent import channel, jsonio, profile  # noqa: E402
from taskmem_agent.procinfo import looks_like_celery_worker, parse_recycling  # noqa: E402


def reader_for(data, chunk=None):
    buf = [bytes(data)]

    def recv_into(view):
        if not buf or not buf[0]:
            return 0
        d = buf[0]
        n = min(len(view), len(d), chunk or len(d))
        view[:n] = d[:n]
        buf[0] = d[n:]
        return n
    return channel.FrameReader(recv_into)


class FrameTests(unittest.TestCase):
    def test_frames_of_any_length_round_trip_in_small_reads(self):
        for n in (0, 5, 125, 65536, 200000):
            text = "é" * n
            self.assertEqual(reader_for(channel.encode_frame(text), chunk=1000).read_text(), text, n)

    def test_back_to_back_frames(self):
        r = reader_for(channel.encode_frame("a") + channel.encode_frame('{"id":1}'), chunk=3)
        self.assertEqual((r.read_text(), r.read_text()), ("a", '{"id":1}'))

    def test_oversize_is_refused_by_its_declared_length(self):
        r = reader_for(channel.encode_frame("y" * 100))
        r.max_message = 50
        with self.assertRaises(channel.FrameError):
            r.read_text()
        # The declared length alone is enough: no need to receive 4 GiB first.
        with self.assertRaises(channel.FrameError):
            reader_for(struct.pack(">I", 0xFFFFFFFF)).read_text()

    def test_not_utf8(self):
        with self.assertRaises(channel.FrameError):
            reader_for(struct.pack(">I", 3) + b"\xff\xfe\xc3").read_text()

    def test_eof_inside_a_frame(self):
        with self.assertRaises(EOFError):
            reader_for(struct.pack(">I", 10) + b"abc").read_text()

    def test_hello_needs_the_exact_token(self):
        self.assertTrue(channel.hello_accepted('{"token":"s3cret"}', "s3cret"))
        for text in ('{"token":"s3cre"}', '{"token":"s3cretX"}', '{"token":1}', '"s3cret"', "{}", "[", "null",
                     '{"token":"é"}'):
            self.assertFalse(channel.hello_accepted(text, "s3cret"), text)

    def test_private_dir_check(self):
        with tempfile.TemporaryDirectory() as d:
            channel.check_private_dir(d)  # mkdtemp makes 0700
            os.chmod(d, 0o755)
            with self.assertRaises(RuntimeError):
                channel.check_private_dir(d)


class ProfileTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.file = os.path.join(self.dir, "mod.py")
        with open(self.file, "w") as f:
            f.write(textwrap.dedent("""\
                X = [1]                      # 1


                class C:                     # 4
                    def method(self):        # 5
                        def inner():         # 6
                            return [2]       # 7
                        return inner()       # 8


                async def coro():            # 11
                    f = lambda: [3]          # 12
                    return f()               # 13
                """))

    def test_enclosing_def(self):
        idx = profile.FunctionIndex()
        self.assertEqual(idx.name(self.file, 1), "<module>")
        self.assertEqual(idx.name(self.file, 5), "method")
        self.assertEqual(idx.name(self.file, 7), "inner")
        self.assertEqual(idx.name(self.file, 8), "method")
        self.assertEqual(idx.name(self.file, 12), "<lambda>")
        self.assertEqual(idx.name(self.file, 13), "coro")
        self.assertEqual(idx.name("/no/such/file.py", 3), "<unknown>")

    def test_clean_stack_drops_agent_allocations_and_hides_frames(self):
        agent = os.path.join(profile.AGENT_DIR, "harness.py")
        user = self.file
        stdlib = os.path.join(profile._STDLIB[0], "json", "decoder.py")
        frozen = "<frozen importlib._bootstrap>"
        # The user's allocation called from the harness: agent frame hidden, user frames kept.
        self.assertEqual(profile.clean_stack(((agent, 10), (user, 8), (user, 7))), ((user, 8), (user, 7)))
        # The agent's own allocation through the standard library: dropped.
        self.assertIsNone(profile.clean_stack(((agent, 10), (stdlib, 5))))
        self.assertIsNone(profile.clean_stack(((user, 1), (agent, 10))))
        # Import machinery frames disappear.
        self.assertEqual(profile.clean_stack(((frozen, 1), (user, 1))), ((user, 1),))
        self.assertEqual(profile.classify(stdlib), "stdlib")
        self.assertEqual(profile.classify(user), "user")

    def test_build_profile_tree(self):
        table = {((self.file, 8), (self.file, 7)): 100, ((self.file, 8),): 5, ((self.file, 13), (self.file, 12)): 40,
                 ((self.file, 1),): 0}
        prof = profile.build_profile(table)
        head = prof["head"]
        self.assertEqual(head["callFrame"]["functionName"], "(root)")
        kids = {c["callFrame"]["lineNumber"]: c for c in head["children"]}
        self.assertEqual(sorted(kids), [7, 12])  # 0-based; zero-size stacks are left out
        m = kids[7]
        self.assertEqual(m["callFrame"]["functionName"], "method")
        self.assertEqual(m["callFrame"]["url"], self.file)
        self.assertEqual(m["callFrame"]["scriptId"], self.file)
        self.assertEqual(m["selfSize"], 5)
        self.assertEqual(m["children"][0]["selfSize"], 100)
        self.assertEqual(m["children"][0]["callFrame"]["functionName"], "inner")
        sizes = sorted(s["size"] for s in prof["samples"])
        self.assertEqual(sizes, [5, 40, 100])
        self.assertTrue(all(s["ordinal"] == 0 for s in prof["samples"]))
        ids = set()

        def walk(n):
            ids.add(n["id"])
            for c in n["children"]:
                walk(c)
        walk(head)
        self.assertEqual(len(ids), 5)

    def test_merge(self):
        t = {("a",): 1}
        profile.merge_into(t, {("a",): 2, ("b",): 3})
        self.assertEqual(t, {("a",): 3, ("b",): 3})
        self.assertEqual(profile.table_bytes(t), 6)


class MiscTests(unittest.TestCase):
    def test_json_roundtrip_and_errors(self):
        obj = {"id": 1, "result": {"a": [1, 2.5, None, True, False, "é\"\n"], "b": (1, 2)}}
        self.assertEqual(jsonio.loads(jsonio.dumps(obj)),
                         {"id": 1, "result": {"a": [1, 2.5, None, True, False, "é\"\n"], "b": [1, 2]}})
        self.assertEqual(jsonio.dumps(float("nan")), "null")
        for bad in ("{x", "[1] 2", "", "   "):
            with self.assertRaises(ValueError):
                jsonio.loads(bad)

    def test_recycling_flags(self):
        self.assertEqual(parse_recycling(["celery", "worker", "--max-tasks-per-child", "50",
                                          "--max-memory-per-child=12000"]),
                         {"maxTasksPerChild": 50, "maxMemoryPerChild": 12000})
        self.assertEqual(parse_recycling(["celery", "worker"]), {"maxTasksPerChild": None, "maxMemoryPerChild": None})

    def test_worker_detection(self):
        self.assertTrue(looks_like_celery_worker(["/usr/bin/python3", "-m", "celery", "-A", "app", "worker"]))
        self.assertTrue(looks_like_celery_worker(["/venv/bin/celery", "-A", "app", "worker", "-P", "solo"]))
        self.assertFalse(looks_like_celery_worker(["python", "producer.py"]))


if __name__ == "__main__":
    unittest.main()

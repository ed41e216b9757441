"""The agent's endpoint over a real Unix socket: the token, bad frames, one client at a time."""
import json
import os
import socket
import stat
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from taskmem_agent import channel  # noqa: E402

TOKEN = "0123456789abcdef0123456789abcdef"


def read_frame(sock):
    """-> the next frame's text, or None when the agent closed the connection."""
    head = b""
    while len(head) < 4:
        got = sock.recv(4 - len(head))
        if not got:
            return None
        head += got
    (n,) = struct.unpack(">I", head)
    body = b""
    while len(body) < n:
        got = sock.recv(n - len(body))
        if not got:
            return None
        body += got
    return body.decode("utf-8")


class ChannelServerTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.messages = []
        self.server = channel.ChannelServer(self.dir.name, TOKEN, self.on_message)
        self.server.start()

    def tearDown(self):
        self.server.stop()
        self.dir.cleanup()

    def on_message(self, conn, text):
        self.messages.append(text)
        conn.send_text(json.dumps({"echo": text}))

    def connect(self, hello=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.server.path)
        if hello is not None:
            s.sendall(channel.encode_frame(hello))
        return s

    def test_socket_is_private_and_in_the_session_directory(self):
        self.assertEqual(os.path.dirname(self.server.path), self.dir.name)
        mode = os.stat(self.server.path).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(mode & 0o077, 0)

    def test_the_right_token_gets_a_hello_then_answers(self):
        with self.connect(json.dumps({"token": TOKEN})) as s:
            self.assertEqual(json.loads(read_frame(s))["hello"], "taskmem")
            s.sendall(channel.encode_frame('{"id":1}'))
            self.assertEqual(json.loads(read_frame(s)), {"echo": '{"id":1}'})

    def test_a_wrong_or_missing_token_is_closed_without_a_word(self):
        for hello in ('{"token":"nope"}', "{}", "not json", '{"id":1,"method":"Runtime.enable"}'):
            with self.connect(hello) as s:
                self.assertIsNone(read_frame(s), hello)
        self.assertEqual(self.messages, [])

    def test_bad_frames_close_the_connection_and_the_next_client_is_served(self):
        bad = [struct.pack(">I", 0xFFFFFFFF), struct.pack(">I", 3) + b"\xff\xfe\xc3"]
        for frame in bad:
            with self.connect(json.dumps({"token": TOKEN})) as s:
                read_frame(s)
                s.sendall(frame)
                self.assertIsNone(read_frame(s))
        # An oversize hello is refused by its declared length.
        with self.connect() as s:
            s.sendall(struct.pack(">I", channel.MAX_HELLO + 1))
            self.assertIsNone(read_frame(s))
        with self.connect(json.dumps({"token": TOKEN})) as s:
            self.assertIsNotNone(read_frame(s))
            s.sendall(channel.encode_frame("ok"))
            self.assertEqual(json.loads(read_frame(s)), {"echo": "ok"})

    def test_the_socket_file_can_go_while_the_client_stays(self):
        with self.connect(json.dumps({"token": TOKEN})) as s:
            read_frame(s)
            self.server.remove_socket_file()
            self.assertFalse(os.path.exists(self.server.path))
            s.sendall(channel.encode_frame("still here"))
            self.assertEqual(json.loads(read_frame(s)), {"echo": "still here"})

    def test_a_second_client_is_refused_while_one_is_attached(self):
        with self.connect(json.dumps({"token": TOKEN})) as first:
            read_frame(first)
            with self.connect(json.dumps({"token": TOKEN})) as second:
                self.assertIn("another client", read_frame(second))
                self.assertIsNone(read_frame(second))


if __name__ == "__main__":
    unittest.main()

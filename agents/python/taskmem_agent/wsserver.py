"""A small WebSocket server (RFC 6455 subset) for one inspector client at a time.

Standard library only.  It serves one URL path on 127.0.0.1 and refuses everything a browser
could be tricked into sending (DNS rebinding): a ``Host`` that is not ``127.0.0.1:PORT`` or
``localhost:PORT``, any ``Origin`` header, any other path.

Threads: one accept thread; per connection one reader thread (handshake + frames) and one writer
thread.  Outgoing messages go through a lock-free ``deque`` so that any thread (and a gc callback)
may queue a message without taking a lock that the same thread might already hold.
"""
import base64
import collections
import hashlib
import socket
import struct
import threading

try:
    import _thread
    _allocate_lock = _thread.allocate_lock
except ImportError:  # pragma: no cover
    _allocate_lock = threading.Lock  # type: ignore[assignment]  # the same lock, by another name

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 16 * 1024 * 1024
MAX_HEADER = 16 * 1024

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Signal(object):
    """An auto-reset event made of one raw lock.

    ``threading.Event.wait`` allocates a waiter lock inside ``threading.py`` frames, which a
    tracemalloc snapshot would then credit to nobody in particular; ``lock.acquire`` is a C call.
    """

    def __init__(self):
        self._lock = _allocate_lock()
        self._lock.acquire()

    def set(self):
        try:
            self._lock.release()
        except RuntimeError:
            pass  # already set

    def wait(self, timeout):
        """-> True when set (and resets it), False on timeout."""
        return self._lock.acquire(True, timeout)


class ProtocolError(Exception):
    def __init__(self, code, reason):
        Exception.__init__(self, reason)
        self.code = code
        self.reason = reason


def accept_key(key):
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def unmask(data, mask):
    """XOR ``data`` with the 4-byte ``mask`` (fast path through big integers)."""
    n = len(data)
    if n == 0:
        return b""
    reps = (n + 3) // 4
    key = int.from_bytes((mask * reps)[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


def encode_frame(opcode, payload, fin=True, mask=None):
    """One frame.  Servers send unmasked frames; ``mask`` exists for tests of the parser."""
    head = bytearray()
    head.append((0x80 if fin else 0) | opcode)
    n = len(payload)
    mbit = 0x80 if mask is not None else 0
    if n < 126:
        head.append(mbit | n)
    elif n < 65536:
        head.append(mbit | 126)
        head += struct.pack("!H", n)
    else:
        head.append(mbit | 127)
        head += struct.pack("!Q", n)
    if mask is not None:
        head += mask
        payload = unmask(payload, mask)
    return bytes(head) + payload


def parse_http_request(raw):
    """``raw`` = bytes up to and including the blank line -> (method, path, headers(lowercase))."""
    text = raw.decode("latin-1")
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError("bad request line")
    headers = {}  # type: dict
    for line in lines[1:]:
        if not line:
            continue
        if ":" not in line:
            raise ValueError("bad header line")
        name, value = line.split(":", 1)
        name = name.strip().lower()
        value = value.strip()
        if name in headers:
            headers[name] = headers[name] + ", " + value
        else:
            headers[name] = value
    return parts[0], parts[1], headers


class FrameReader(object):
    """Reads whole messages from a blocking socket-like ``recv``; answers pings via ``on_control``."""

    def __init__(self, recv_into, max_message=MAX_MESSAGE):
        # recv_into a preallocated buffer: a thread blocked in recv(65536) would otherwise hold a
        # fresh 64 KiB bytes object that tracemalloc counts as live memory.
        self._recv_into = recv_into
        self._chunk = bytearray(65536)
        self._view = memoryview(self._chunk)
        self._buf = bytearray()
        self.max_message = max_message

    def _read_exact(self, n):
        while len(self._buf) < n:
            got = self._recv_into(self._view)
            if not got:
                raise EOFError("connection closed")
            self._buf += self._view[:got]
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def read_frame(self):
        b0, b1 = self._read_exact(2)
        fin = bool(b0 & 0x80)
        if b0 & 0x70:
            raise ProtocolError(1002, "reserved bits set")
        opcode = b0 & 0x0F
        masked = bool(b1 & 0x80)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        if not masked:
            raise ProtocolError(1002, "client frames must be masked")
        if opcode >= 0x8:
            if not fin or n > 125:
                raise ProtocolError(1002, "bad control frame")
        elif opcode not in (OP_CONT, OP_TEXT, OP_BINARY):
            raise ProtocolError(1002, "unknown opcode %d" % opcode)
        if n > self.max_message:
            raise ProtocolError(1009, "message too big")
        mask = self._read_exact(4)
        payload = unmask(self._read_exact(n), mask) if n else b""
        return fin, opcode, payload

    def read_message(self, on_control):
        """-> (opcode, payload) of the next data message; control frames go to ``on_control``."""
        parts = []
        size = 0
        first_op = None
        while True:
            fin, opcode, payload = self.read_frame()
            if opcode >= 0x8:
                on_control(opcode, payload)
                continue
            if opcode == OP_CONT:
                if first_op is None:
                    raise ProtocolError(1002, "continuation without a start")
            else:
                if first_op is not None:
                    raise ProtocolError(1002, "new message inside a fragmented one")
                first_op = opcode
            size += len(payload)
            if size > self.max_message:
                raise ProtocolError(1009, "message too big")
            parts.append(payload)
            if fin:
                return first_op, b"".join(parts)


class Connection(object):
    POLL_S = 0.05
    BATCH_BYTES = 1 << 20

    def __init__(self, server, sock):
        self.server = server
        self.sock = sock
        self.out = collections.deque()  # type: collections.deque
        self._wake = Signal()
        self.closed = False
        self._close_sent = False
        self._in_send = False
        self._writer = None

    # -- sending (any thread) ------------------------------------------------------------------
    def send_text(self, text, wake=True):
        """Queue a text message.  ``wake=False`` (events on a task's path) lets the writer pick it
        up at its next poll (<= 50 ms) instead of waking it now: waking a thread per event makes
        it compete for the GIL with the task that emitted it."""
        if self.closed:
            return
        self.out.append(text)  # framed by the writer thread
        if wake:
            self._wake.set()

    def queue_text_nowake(self, text):
        """For gc callbacks: no lock at all; the writer picks it up at its next poll."""
        if not self.closed:
            self.out.append(text)

    def _send_raw(self, data):
        self.out.append(data)
        self._wake.set()

    def _writer_loop(self):
        try:
            while True:
                self._wake.wait(self.POLL_S)
                poll = self.server.on_writer_poll
                if poll is not None:
                    poll(self)
                out = self.out
                while out:
                    # Everything queued since the last poll in one write: text messages (str) are
                    # framed here, off the task's path; control frames come framed (bytes).
                    self._in_send = True
                    parts = []
                    size = 0
                    close = False
                    while out and size < self.BATCH_BYTES:
                        data = out.popleft()
                        if type(data) is str:
                            data = encode_frame(OP_TEXT, data.encode("utf-8"))
                        elif data[:1] == b"\x88":
                            close = True
                        parts.append(data)
                        size += len(data)
                    self.sock.sendall(parts[0] if len(parts) == 1 else b"".join(parts))
                    del parts
                    self._in_send = False
                    if close:  # our close frame went out
                        self._close_sent = True
                if self.closed and not self.out:
                    return
        except (OSError, ValueError):
            self.closed = True

    def flush(self, timeout=2.0):
        """Wait until everything queued went out (before the program may exit)."""
        import time
        deadline = time.time() + timeout
        while (self.out or self._in_send) and not self.closed and time.time() < deadline:
            self._wake.set()
            time.sleep(0.005)

    def close(self, code=1000, reason=""):
        if self.closed:
            return
        self._send_raw(encode_frame(OP_CLOSE, struct.pack("!H", code) + reason.encode("utf-8")[:120]))
        self.closed = True
        self._wake.set()

    # -- reading (its own thread) --------------------------------------------------------------
    def serve(self):
        self._writer = threading.Thread(target=self._writer_loop, name="taskmem-ws-writer", daemon=True)
        self._writer.start()
        reader = FrameReader(self.sock.recv_into, self.server.max_message)

        def on_control(opcode, payload):
            if opcode == OP_PING:
                self._send_raw(encode_frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                code = 1000
                if len(payload) >= 2:
                    code = struct.unpack("!H", payload[:2])[0]
                    if code in (1005, 1006, 1015) or code < 1000 or 1011 < code < 3000:
                        code = 1002
                self.close(code)
                raise EOFError("closed by client")

        try:
            while not self.closed:
                opcode, payload = reader.read_message(on_control)
                if opcode != OP_TEXT:
                    raise ProtocolError(1003, "only text messages are supported")
                try:
                    text = payload.decode("utf-8")
                except UnicodeDecodeError:
                    raise ProtocolError(1007, "invalid UTF-8")
                self.server.on_message(self, text)
        except ProtocolError as e:
            self.close(e.code, e.reason)
        except (EOFError, OSError, ValueError):
            pass
        finally:
            self.closed = True
            self._wake.set()
            if self._writer is not None:
                self._writer.join(2.0)
            try:
                self.sock.close()
            except OSError:
                pass
            self.server._connection_ended(self)


class WebSocketServer(object):
    """``on_message(conn, text)`` runs on the connection's reader thread."""

    def __init__(self, path, on_message, on_connect=None, on_disconnect=None, max_message=MAX_MESSAGE):
        self.path = path
        self.on_message = on_message
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.on_writer_poll = None
        self.max_message = max_message
        self.current = None
        self._lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        self._thread = None

    @property
    def url(self):
        return "ws://127.0.0.1:%d%s" % (self.port, self.path)

    def start(self):
        self._thread = threading.Thread(target=self._accept_loop, name="taskmem-ws-accept", daemon=True)
        self._thread.start()

    def _accept_loop(self):
        while not self.stopped:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            t = threading.Thread(target=self._handle, args=(sock,), name="taskmem-ws-conn", daemon=True)
            t.start()

    def _reply(self, sock, status, body=""):
        data = body.encode("utf-8")
        head = "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
            status, len(data))
        try:
            sock.sendall(head.encode("latin-1") + data)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _handle(self, sock):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(10.0)
            raw = b""
            while b"\r\n\r\n" not in raw:
                chunk = sock.recv(4096)
                if not chunk:
                    sock.close()
                    return
                raw += chunk
                if len(raw) > MAX_HEADER:
                    return self._reply(sock, "431 Request Header Fields Too Large")
            head, _, rest = raw.partition(b"\r\n\r\n")
            try:
                method, path, headers = parse_http_request(head + b"\r\n")
            except ValueError:
                return self._reply(sock, "400 Bad Request", "bad request\n")
            allowed = ("127.0.0.1:%d" % self.port, "localhost:%d" % self.port)
            if headers.get("host", "").lower() not in allowed:
                return self._reply(sock, "403 Forbidden", "forbidden host\n")
            if "origin" in headers:
                return self._reply(sock, "403 Forbidden", "requests with an Origin are refused\n")
            if path != self.path:
                return self._reply(sock, "404 Not Found", "not found\n")
            if method != "GET" or "websocket" not in headers.get("upgrade", "").lower() \
                    or "sec-websocket-key" not in headers:
                return self._reply(sock, "400 Bad Request", "expected a WebSocket upgrade\n")
            if headers.get("sec-websocket-version", "13") != "13":
                return self._reply(sock, "426 Upgrade Required\r\nSec-WebSocket-Version: 13", "")
            with self._lock:
                if self.current is not None and not self.current.closed:
                    busy = True
                else:
                    busy = False
                    conn = Connection(self, sock)
                    self.current = conn
            if busy:
                return self._reply(sock, "409 Conflict", "another client is attached\n")
            sock.sendall((
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                "Sec-WebSocket-Accept: %s\r\n\r\n" % accept_key(headers["sec-websocket-key"])
            ).encode("latin-1"))
            sock.settimeout(None)
            if rest:
                # Frames pipelined behind the handshake (rare): feed them first.
                pending = [rest]
                real_recv_into = sock.recv_into

                class _Sock(object):
                    def __init__(self, s):
                        self._s = s

                    def recv_into(self, view):
                        if pending:
                            data = pending.pop()
                            if len(data) > len(view):
                                pending.append(data[len(view):])
                                data = data[:len(view)]
                            view[:len(data)] = data
                            return len(data)
                        return real_recv_into(view)

                    def __getattr__(self, name):
                        return getattr(self._s, name)
                conn.sock = _Sock(sock)
            if self.on_connect is not None:
                self.on_connect(conn)
            conn.serve()
        except (OSError, ValueError):
            try:
                sock.close()
            except OSError:
                pass

    def _connection_ended(self, conn):
        with self._lock:
            if self.current is conn:
                self.current = None
        if self.on_disconnect is not None:
            self.on_disconnect(conn)

    def send_event_text(self, text):
        conn = self.current
        if conn is not None:
            conn.send_text(text)

    def stop(self):
        self.stopped = True
        try:
            self.listener.close()
        except OSError:
            pass
        conn = self.current
        if conn is not None:
            conn.close(1001, "going away")

    def abandon_after_fork(self):
        """In a forked child: close the inherited descriptors without touching the parent's peer.

        ``close()`` only drops this process's reference; no FIN goes out while the parent holds
        the descriptor too, and ``shutdown()`` (which would hurt the parent) is never called.
        """
        self.stopped = True
        for s in (self.listener, getattr(self.current, "sock", None)):
            if s is None:
                continue
            try:
                s.close()
            except Exception:
                pass
        self.current = None

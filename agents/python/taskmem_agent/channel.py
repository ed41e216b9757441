"""The agent's endpoint: length-prefixed JSON frames over a Unix socket, one client at a time.

Standard library only.  The socket lives in the session's private 0700 directory
(``TASKMEM_IPC_DIR``), so only the session's user can reach it; the first frame must carry the
session's token (docs/PROTOCOL.md §2).  A frame is a 4-byte big-endian length and that many bytes
of UTF-8 JSON, as debugpy's and memray's live channels frame theirs: no HTTP, no masking, no Host
or Origin to police, since nothing but the session that launched us speaks to it.

Threads: one accept thread; per connection one reader thread and one writer thread.  Outgoing
messages go through a lock-free ``deque`` so that any thread (and a gc callback) may queue one
without taking a lock that the same thread might already hold.
"""
import collections
import hmac
import json
import os
import socket
import struct
import threading
import time

try:
    import _thread
    _allocate_lock = _thread.allocate_lock
except ImportError:  # pragma: no cover
    _allocate_lock = threading.Lock  # type: ignore[assignment]  # the same lock, by another name

MAX_MESSAGE = 16 * 1024 * 1024
MAX_HELLO = 4096
HELLO_TIMEOUT_S = 10.0
BUSY_WAIT_S = 1.0  # how long a second client waits for the first to be gone before it is refused
_HEAD = struct.Struct(">I")


class Signal:
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


class FrameError(Exception):
    """A frame that breaks the framing: the connection is closed."""


def encode_frame(text):
    data = text.encode("utf-8")
    return _HEAD.pack(len(data)) + data


def check_private_dir(path):
    """Refuse a directory that other users could enter: the socket's only fence is its directory."""
    st = os.stat(path)
    if st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise RuntimeError(f"TASKMEM_IPC_DIR {path!r} is not a private (0700) directory of this user")


class FrameReader:
    """Whole frames from a blocking ``recv_into``."""

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

    def read_text(self):
        """-> the next frame's text.  FrameError for an oversize frame or one that is not UTF-8."""
        (n,) = _HEAD.unpack(self._read_exact(4))
        if n > self.max_message:
            raise FrameError(f"frame of {n} bytes is over the {self.max_message}-byte limit")
        try:
            return self._read_exact(n).decode("utf-8")
        except UnicodeDecodeError:
            raise FrameError("frame is not UTF-8") from None


def hello_accepted(text, token):
    """The client's first frame must be ``{"token": <the session's token>}``."""
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):
        return False
    given = msg.get("token") if isinstance(msg, dict) else None
    return isinstance(given, str) and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


class Connection:
    POLL_S = 0.05
    BATCH_BYTES = 1 << 20

    def __init__(self, server, sock):
        self.server = server
        self.sock = sock
        self.out: collections.deque = collections.deque()
        self._wake = Signal()
        self.closed = False
        self._in_send = False
        self._writer = None

    # -- sending (any thread) ------------------------------------------------------------------
    def send_text(self, text, wake=True):
        """Queue a message.  ``wake=False`` (events on a task's path) lets the writer pick it up
        at its next poll (<= 50 ms) instead of waking it now: waking a thread per event makes it
        compete for the GIL with the task that emitted it."""
        if self.closed:
            return
        self.out.append(text)  # framed by the writer thread
        if wake:
            self._wake.set()

    def queue_text_nowake(self, text):
        """For gc callbacks: no lock at all; the writer picks it up at its next poll."""
        if not self.closed:
            self.out.append(text)

    def _writer_loop(self):
        try:
            while True:
                self._wake.wait(self.POLL_S)
                poll = self.server.on_writer_poll
                if poll is not None:
                    poll(self)
                out = self.out
                while out:
                    # Everything queued since the last poll in one write, framed here, off the task's path.
                    self._in_send = True
                    parts = []
                    size = 0
                    while out and size < self.BATCH_BYTES:
                        data = encode_frame(out.popleft())
                        parts.append(data)
                        size += len(data)
                    self.sock.sendall(parts[0] if len(parts) == 1 else b"".join(parts))
                    del parts
                    self._in_send = False
                if self.closed and not self.out:
                    return
        except (OSError, ValueError):
            self.closed = True

    def flush(self, timeout=2.0):
        """Wait until everything queued went out (before the program may exit)."""
        deadline = time.time() + timeout
        while (self.out or self._in_send) and not self.closed and time.time() < deadline:
            self._wake.set()
            time.sleep(0.005)

    def close(self):
        """Stop after what is queued went out; the reader sees the end when the socket closes."""
        if self.closed:
            return
        self.closed = True
        self._wake.set()
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    # -- reading (its own thread) --------------------------------------------------------------
    def serve(self, reader):
        self._writer = threading.Thread(target=self._writer_loop, name="taskmem-writer", daemon=True)
        self._writer.start()
        try:
            while not self.closed:
                self.server.on_message(self, reader.read_text())
        except (FrameError, EOFError, OSError, ValueError):
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


class ChannelServer:
    """``on_message(conn, text)`` runs on the connection's reader thread."""

    def __init__(self, ipc_dir, token, on_message, on_connect=None, on_disconnect=None, max_message=MAX_MESSAGE):
        check_private_dir(ipc_dir)
        self.token = token
        self.on_message = on_message
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.on_writer_poll = None
        self.max_message = max_message
        self.current = None
        self._lock = threading.Lock()
        self.path = os.path.join(ipc_dir, f"{os.getpid()}-{os.urandom(8).hex()}.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        os.chmod(self.path, 0o600)  # the directory already fences it; this says so twice
        self.listener.listen(8)
        self.stopped = False
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._accept_loop, name="taskmem-accept", daemon=True)
        self._thread.start()

    def _accept_loop(self):
        while not self.stopped:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(sock,), name="taskmem-conn", daemon=True).start()

    def _handle(self, sock):
        try:
            sock.settimeout(HELLO_TIMEOUT_S)
            reader = FrameReader(sock.recv_into, MAX_HELLO)
            try:
                accepted = hello_accepted(reader.read_text(), self.token)
            except (FrameError, EOFError):
                accepted = False
            if not accepted:
                sock.close()
                return
            # A client that just left may not be noticed yet (its reader is finishing): give it a moment.
            deadline = time.monotonic() + BUSY_WAIT_S
            while True:
                with self._lock:
                    busy = self.current is not None
                    if not busy:
                        conn = Connection(self, sock)
                        self.current = conn
                if not busy or time.monotonic() >= deadline:
                    break
                time.sleep(0.01)
            if busy:
                sock.sendall(encode_frame('{"error":{"code":-32001,"message":"another client is attached"}}'))
                sock.close()
                return
            sock.settimeout(None)
            reader.max_message = self.max_message
            conn.send_text(f'{{"hello":"taskmem","pid":{os.getpid()}}}')
            if self.on_connect is not None:
                self.on_connect(conn)
            conn.serve(reader)
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

    def remove_socket_file(self):
        """The connection stays; no new client can find us."""
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def stop(self):
        self.stopped = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.remove_socket_file()
        conn = self.current
        if conn is not None:
            conn.close()

    def abandon_after_fork(self):
        """In a forked child: close the inherited descriptors without touching the parent's peer
        or its socket file.  ``close()`` only drops this process's reference; ``shutdown()``
        (which would hurt the parent) is never called."""
        self.stopped = True
        for s in (self.listener, getattr(self.current, "sock", None)):
            if s is None:
                continue
            try:
                s.close()
            except Exception:
                pass
        self.current = None

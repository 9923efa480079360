"""One keep-alive HTTP/1.1 connection of the load engine, plain or TLS, on gevent's cooperative sockets.

Written by hand (see ``gameday.load.engine``): a pre-encoded request goes out, one response comes back,
read by its Content-Length, as chunks (``Transfer-Encoding: chunked``) or to the end of the stream;
``Connection: close`` and a server that closes are honoured by reconnecting for the next request.
An ``https`` URL always gets TLS (SNI, verification as the service description says): plaintext is
never sent to it.

Timeouts: a ``swept`` connection (the engine's) runs without a timer per wait. gevent arms and cancels a timer
each time a socket with a timeout waits, and after sending, the first read of the answer used to fail
(EAGAIN) before waiting: together about a third of the engine's CPU per request at batch 1 (``make bench-load``).
Instead the exchange has a deadline, which the engine's watchdog checks a few times a second
(``expire_if_late``): a late exchange has its socket closed under it and is a timeout (``TimeoutError``), as
before, at most one sweep later than its deadline. Without ``swept``, each wait has the socket's own timeout.
"""

from __future__ import annotations

import socket
import ssl
import time

__all__ = ["Connection", "NO_ANSWER", "NOT_SENT", "NoAnswer", "blame", "HTTP", "REFUSED", "TIMEOUT", "LOCAL"]

NO_ANSWER = 0  # sent, but the outcome is unknown (timeout, reset): indeterminate
NOT_SENT = -1  # could not connect: nothing was sent
_BODY_KEEP = 1024  # of an answer's body, what a failure reason may quote (it shows 200 characters)

# Who a failed exchange points at (``blame``): the service answered an HTTP error; the service refused, reset or
# dropped the connection, or answered something that is not HTTP; no answer in time (the service's, unless the
# generator itself was too slow to read it); a failure on the generator's own side (no file descriptor, no
# local port, no route): never the service's.
HTTP, REFUSED, TIMEOUT, LOCAL = "http", "refused", "timeout", "local"


class NoAnswer(ConnectionError):
    """The service closed the connection without answering the request."""


def blame(status: int, error: BaseException | None) -> str:
    """HTTP, REFUSED, TIMEOUT or LOCAL for a failed exchange (``status``, and the exception when there is one)."""
    if status > 0:
        return HTTP
    if isinstance(error, TimeoutError):  # socket.timeout is TimeoutError
        return TIMEOUT
    if isinstance(error, (ConnectionError, ssl.SSLError, ValueError)):  # refused, reset, closed; a garbled answer
        return REFUSED
    return LOCAL


class Connection:
    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None, timeout_s: float, *,
                 swept: bool = False) -> None:
        self.host, self.port, self.tls, self.timeout_s, self.swept = host, port, tls, timeout_s, swept
        self.sock: socket.socket | None = None
        self.body = b""  # the last answer's body (its first kilobyte)
        self.error: BaseException | None = None  # why the last exchange got no status (NOT_SENT, NO_ANSWER)
        self.deadline = 0.0  # swept: when the exchange under way times out (monotonic; 0: none under way)
        self.expired = False

    def expire_if_late(self, now: float) -> None:
        """The watchdog's check (swept connections): an exchange past its deadline has its socket closed, which
        ends its wait with an error that ``exchange`` reports as a timeout."""
        if self.deadline and now > self.deadline and self.sock is not None:
            self.expired = True
            self.deadline = 0.0
            self.sock.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _connect(self) -> socket.socket | None:
        try:
            s = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                s = self.tls.wrap_socket(s, server_hostname=self.host)
            if self.swept:
                s.settimeout(None)  # no timer per wait: the watchdog keeps the deadline
            return s
        except (OSError, ssl.SSLError) as exc:
            self.error = exc
            return None

    def exchange(self, request: bytes) -> int:
        """Send one request, read one response: the HTTP status, NO_ANSWER or NOT_SENT (``error`` says why)."""
        self.error = None
        if self.sock is None:
            self.sock = self._connect()
            if self.sock is None:
                return NOT_SENT
        if self.swept:
            self.deadline, self.expired = time.monotonic() + self.timeout_s, False
        try:
            sent = self.sock.send(request)  # a request fits the socket buffer: gevent's sendall costs a timer more
            if sent < len(request):
                self.sock.sendall(request[sent:])
            if self.swept:
                _wait_readable(self.sock)
            status, keep, self.body = _read_response(self.sock)
        except (OSError, ValueError, ssl.SSLError) as exc:
            late = self.expired and not isinstance(exc, TimeoutError)
            status, keep, self.error = NO_ANSWER, False, TimeoutError("timed out") if late else exc
        self.deadline = 0.0
        if status == NO_ANSWER and self.error is None:
            self.error = NoAnswer("the service closed the connection without answering")
        if not keep:
            self.close()
        return status


def _wait_readable(sock: socket.socket) -> None:
    """Wait until the answer can be read, before reading it: right after a request, a read would fail (EAGAIN)
    and only then wait. gevent's own wait on the socket's read watcher (its socket API has no public way to
    wait without reading; gevent is pinned in constraints.txt); TLS data already decrypted needs no wait."""
    wait, watcher = getattr(sock, "_wait", None), getattr(sock, "_read_event", None)
    if wait is None or watcher is None or (isinstance(sock, ssl.SSLSocket) and sock.pending()):
        return
    wait(watcher)


# Complete responses already parsed, byte for byte (a service often answers the same bytes every time):
# the engine's hot path parses each distinct answer once. Bounded: cleared when full.
_KNOWN: dict[bytes, tuple[int, bool, bytes]] = {}
_KNOWN_MAX = 256


def _read_response(sock: socket.socket) -> tuple[int, bool, bytes]:
    """(status, whether the connection can carry the next request, the body's first kilobyte)."""
    buf = first = sock.recv(65536)
    known = _KNOWN.get(first)
    if known is not None:
        return known
    if not buf:
        return NO_ANSWER, False, b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return NO_ANSWER, False, b""
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    keep = b"\r\nconnection: close" not in lower and not head.startswith(b"HTTP/1.0")
    if b"\r\ntransfer-encoding: chunked" in lower:
        complete, text = _read_chunked(sock, body)
        return status, complete and keep, text
    i = lower.find(b"\r\ncontent-length:")
    if i < 0:
        if status in (204, 304) or 100 <= status < 200:
            return status, keep, b""
        while len(body) < _BODY_KEEP and (chunk := sock.recv(65536)):  # no length: the body ends with the stream
            body += chunk
        while sock.recv(65536):
            pass
        return status, False, body[:_BODY_KEEP]
    j = lower.find(b"\r\n", i + 2)
    length = int(lower[i + 17:j if j >= 0 else None])
    if buf is first and len(body) == length:  # the whole answer in one read: remember it
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        _KNOWN[first] = (status, keep, body[:_BODY_KEEP])
    kept = body[:_BODY_KEEP]
    got = len(body)
    while got < length:
        chunk = sock.recv(65536)
        if not chunk:
            return status, False, kept
        got += len(chunk)
        if len(kept) < _BODY_KEEP:
            kept += chunk[:_BODY_KEEP - len(kept)]
    return status, keep, kept


def _read_chunked(sock: socket.socket, data: bytes) -> tuple[bool, bytes]:
    """Consume a chunked body (and its trailers): (False if the stream ended early, the body's first kilobyte)."""
    kept = b""
    while True:
        while b"\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                return False, kept
            data += more
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            while not (data.startswith(b"\r\n") or b"\r\n\r\n" in data):
                more = sock.recv(65536)
                if not more:
                    return False, kept
                data += more
            return True, kept
        while len(data) < size + 2:
            more = sock.recv(65536)
            if not more:
                return False, kept
            data += more
        if len(kept) < _BODY_KEEP:
            kept += data[:min(size, _BODY_KEEP - len(kept))]
        data = data[size + 2:]

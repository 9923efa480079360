"""One keep-alive HTTP/1.1 connection of the load engine, plain or TLS, on gevent's cooperative sockets.

Written by hand (see ``gameday.load.engine``): a pre-encoded request goes out, one response comes back,
read by its Content-Length, as chunks (``Transfer-Encoding: chunked``) or to the end of the stream;
``Connection: close`` and a server that closes are honoured by reconnecting for the next request.
An ``https`` URL always gets TLS (SNI, verification as the service description says): plaintext is
never sent to it.
"""

from __future__ import annotations

import socket
import ssl

__all__ = ["Connection", "NO_ANSWER", "NOT_SENT"]

NO_ANSWER = 0  # sent, but the outcome is unknown (timeout, reset): indeterminate
NOT_SENT = -1  # could not connect: nothing was sent


class Connection:
    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None, timeout_s: float) -> None:
        self.host, self.port, self.tls, self.timeout_s = host, port, tls, timeout_s
        self.sock: socket.socket | None = None

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
            return s
        except (OSError, ssl.SSLError):
            return None

    def exchange(self, request: bytes) -> int:
        """Send one request, read one response: the HTTP status, NO_ANSWER or NOT_SENT."""
        if self.sock is None:
            self.sock = self._connect()
            if self.sock is None:
                return NOT_SENT
        try:
            sent = self.sock.send(request)  # a request fits the socket buffer: gevent's sendall costs a timer more
            if sent < len(request):
                self.sock.sendall(request[sent:])
            status, keep = _read_response(self.sock)
        except (OSError, ValueError, ssl.SSLError):
            status, keep = NO_ANSWER, False
        if not keep:
            self.close()
        return status


# Complete responses already parsed, byte for byte (a service often answers the same bytes every time):
# the engine's hot path parses each distinct answer once. Bounded: cleared when full.
_KNOWN: dict[bytes, tuple[int, bool]] = {}
_KNOWN_MAX = 256


def _read_response(sock: socket.socket) -> tuple[int, bool]:
    """(status, whether the connection can carry the next request)."""
    buf = first = sock.recv(65536)
    known = _KNOWN.get(first)
    if known is not None:
        return known
    if not buf:
        return NO_ANSWER, False
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return NO_ANSWER, False
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    keep = b"\r\nconnection: close" not in lower and not head.startswith(b"HTTP/1.0")
    if b"\r\ntransfer-encoding: chunked" in lower:
        return status, _read_chunked(sock, body) and keep
    i = lower.find(b"\r\ncontent-length:")
    if i < 0:
        if status in (204, 304) or 100 <= status < 200:
            return status, keep
        while sock.recv(65536):  # no length: the body ends with the stream
            pass
        return status, False
    j = lower.find(b"\r\n", i + 2)
    length = int(lower[i + 17:j if j >= 0 else None])
    if buf is first and len(body) == length:  # the whole answer in one read: remember it
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        _KNOWN[first] = (status, keep)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return status, False
        body += chunk
    return status, keep


def _read_chunked(sock: socket.socket, data: bytes) -> bool:
    """Consume a chunked body (and its trailers); False if the stream ended early."""
    while True:
        while b"\r\n" not in data:
            more = sock.recv(65536)
            if not more:
                return False
            data += more
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            while not (data.startswith(b"\r\n") or b"\r\n\r\n" in data):
                more = sock.recv(65536)
                if not more:
                    return False
                data += more
            return True
        while len(data) < size + 2:
            more = sock.recv(65536)
            if not more:
                return False
            data += more
        data = data[size + 2:]

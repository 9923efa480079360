"""HTTP/1.1 for the load engine: connecting (plain or TLS) and parsing one answer, however it is framed.

Written by hand (see ``gameday.load.engine``, ``gameday.load.reactor``): the engine sends pre-encoded requests
and needs of each answer only its status, whether the connection can carry the next request, and the first
kilobyte of its body (a failure reason quotes it). ``parse`` reads an answer from the bytes received so far:
framed by its Content-Length, as chunks (``Transfer-Encoding: chunked``) or by the end of the stream;
``Connection: close`` and HTTP/1.0 end the connection after it. An ``https`` URL always gets TLS (SNI,
verification as the service description says): plaintext is never sent to it.
"""

from __future__ import annotations

import socket
import ssl

__all__ = ["NO_ANSWER", "NOT_SENT", "NoAnswer", "blame", "connect", "parse", "known", "HTTP", "REFUSED", "TIMEOUT",
           "LOCAL"]

NO_ANSWER = 0  # sent, but the outcome is unknown (timeout, reset): indeterminate
NOT_SENT = -1  # could not connect: nothing was sent
_BODY_KEEP = 1024  # of an answer's body, what a failure reason may quote (it shows 200 characters)

# Who a failed exchange points at (``blame``): the service answered an HTTP error; the service refused, reset or
# dropped the connection, or answered something that is not HTTP; no answer in time (the service's, unless the
# generator itself was too slow to read it); a failure on the generator's own side (no file descriptor, no
# local port, no route): never the service's.
HTTP, REFUSED, TIMEOUT, LOCAL = "http", "refused", "timeout", "local"

Answer = tuple[int, bool, bytes]  # status, whether the connection can carry the next request, the body's first KB


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


def connect(host: str, port: int, tls: ssl.SSLContext | None, timeout_s: float) -> socket.socket:
    """A connected socket (TCP_NODELAY; TLS handshake done when ``tls``), on gevent's cooperative sockets in the
    engine's process. Raises OSError or ssl.SSLError: nothing was sent."""
    s = socket.create_connection((host, port), timeout=timeout_s)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return tls.wrap_socket(s, server_hostname=host) if tls is not None else s
    except BaseException:
        s.close()
        raise


# Complete answers already parsed, byte for byte (a service often answers the same bytes every time): the
# engine's hot path parses each distinct answer once. Bounded: cleared when full.
_KNOWN: dict[bytes, Answer] = {}
_KNOWN_MAX = 256


def known(data: bytes) -> Answer | None:
    """The answer ``data`` is, when exactly these bytes were a whole answer before (a dictionary look-up)."""
    return _KNOWN.get(data)


def parse(buf: bytes, eof: bool) -> Answer | None:
    """The answer at the start of ``buf``, or None while more bytes are needed; ``eof``: the stream ended after
    ``buf``. A stream that ends before the headers do is NO_ANSWER; one that ends inside the body gives the status
    with the connection unusable. Raises ValueError when the bytes are not HTTP."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return (NO_ANSWER, False, b"") if eof else None
    head, body = buf[:end], buf[end + 4:]
    status = int(head[9:12])
    lower = head.lower()
    keep = b"\r\nconnection: close" not in lower and not head.startswith(b"HTTP/1.0")
    if b"\r\ntransfer-encoding: chunked" in lower:
        done, text = _chunked(body)
        return None if done is None and not eof else (status, bool(done) and keep, text)
    i = lower.find(b"\r\ncontent-length:")
    if i < 0:
        if status in (204, 304) or 100 <= status < 200:
            return status, keep, b""
        return (status, False, body[:_BODY_KEEP]) if eof else None  # no length: the body ends with the stream
    j = lower.find(b"\r\n", i + 2)
    length = int(lower[i + 17:j if j >= 0 else None])
    if len(body) < length:
        return (status, False, body[:_BODY_KEEP]) if eof else None
    answer = status, keep, body[:_BODY_KEEP]
    if len(body) == length:  # remember it: the next identical answer is a look-up
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        _KNOWN[bytes(buf)] = answer
    return answer


def _chunked(data: bytes) -> tuple[bool | None, bytes]:
    """A chunked body (and its trailers): (True when complete, None while incomplete; the body's first KB)."""
    kept, at = b"", 0
    while True:
        eol = data.find(b"\r\n", at)
        if eol < 0:
            return None, kept
        size = int(data[at:eol].split(b";")[0], 16)
        at = eol + 2
        if size == 0:  # the trailers end with an empty line
            return (True if data.startswith(b"\r\n", at) or data.find(b"\r\n\r\n", at) >= 0 else None), kept
        if len(data) < at + size + 2:
            return None, kept
        if len(kept) < _BODY_KEEP:
            kept += data[at:at + min(size, _BODY_KEEP - len(kept))]
        at += size + 2

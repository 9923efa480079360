"""The load engine's connections on one event loop: the kernel's epoll, in one greenlet of the engine's process.

Why not a greenlet per connection on gevent's sockets (the engine before): each exchange then cost two switches
through gevent's hub (wait for the answer, wake up to read it) beside its system calls, about a third of the
engine's CPU per request at batch 1 (py-spy on ``make bench-load``). Here one greenlet polls all the engine's
connections and handles every answer that is ready at once, as wrk does; it gives way to gevent (its hub waiting
on the epoll descriptor) when nothing is ready, and at least every few milliseconds, so the engine's ticker and the
connecting greenlets run. Connecting (name resolution, TCP, the TLS handshake) stays on gevent, in a greenlet of
its own: it is rare and it may wait. Written by hand: no maintained library gives an HTTP/1.1 client loop on epoll
that lives inside gevent (asyncio's clients need their own loop; geventhttpclient's and Locust's are a greenlet per
connection).

An exchange has a deadline, set when its request goes out; the engine calls ``expire`` a few times a second, and a
late exchange is closed and reported as a timeout (``TimeoutError``), like a service that never answered.
"""

from __future__ import annotations

import select
import ssl
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent import monkey
from gevent.socket import wait as wait_on_watcher

from gameday.load.http import NO_ANSWER, NOT_SENT, NoAnswer, connect, known, parse

__all__ = ["Reactor", "Slot"]

_IN, _OUT = select.POLLIN, select.POLLOUT  # epoll's EPOLLIN / EPOLLOUT have the same values
_YIELD_S = 0.005  # while answers keep coming, the loop still gives way to gevent this often
_AGAIN = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)  # not now: wait for the socket


class Slot:
    """One keep-alive connection and the exchange under way on it (``item``: the engine's; None when idle).
    After an exchange, ``error`` says why it got no status and ``body`` keeps the answer's first kilobyte."""

    __slots__ = ("sock", "fd", "buf", "item", "deadline", "out", "error", "body")

    def __init__(self) -> None:
        self.sock: Any = None  # a socket in non-blocking mode (TLS: gevent's SSLSocket)
        self.fd = -1
        self.buf = b""  # the answer so far
        self.item: Any = None
        self.deadline = 0.0
        self.out = b""  # the part of the request the socket did not take yet
        self.error: BaseException | None = None
        self.body = b""


class _Poller:
    """epoll where there is one (Linux; gevent's monkey-patching hides it, so the original is taken); elsewhere
    poll(2), waited on with short gevent sleeps."""

    def __init__(self) -> None:
        try:
            self.ep: Any = monkey.get_original("select", "epoll")()
            self.scale, hub = 1.0, gevent.get_hub()
            self.watcher: Any = hub.loop.io(self.ep.fileno(), 1)
        except AttributeError:
            self.ep, self.scale, self.watcher = monkey.get_original("select", "poll")(), 1000.0, None

    def register(self, fd: int, mask: int) -> None:
        self.ep.register(fd, mask)

    def modify(self, fd: int, mask: int) -> None:
        self.ep.modify(fd, mask)

    def unregister(self, fd: int) -> None:
        try:
            self.ep.unregister(fd)
        except (OSError, KeyError, ValueError):
            pass

    def ready(self) -> list[tuple[int, int]]:
        return self.ep.poll(0)

    def wait(self, seconds: float) -> None:
        """Until something is ready or ``seconds`` passed, letting the other greenlets run."""
        if self.watcher is None:
            gevent.sleep(min(seconds, 0.001))
            return
        wait_on_watcher(self.watcher, seconds, False)  # False: the timeout ends the wait silently

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.close()
            self.ep.close()  # poll(2) has no descriptor to close


class Reactor:
    """The exchanges of one engine. ``start`` sends a request on a slot (connecting first when it has no
    connection); ``pump`` handles what is ready; ``done(slot, item, status)`` receives each outcome: the HTTP
    status, NO_ANSWER (sent, outcome unknown) or NOT_SENT (could not connect), ``slot.error`` saying why."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None, timeout_s: float,
                 done: Callable[[Slot, Any, int], None]) -> None:
        self.host, self.port, self.tls, self.timeout_s, self.done = host, port, tls, timeout_s, done
        self.poller = _Poller()
        self.by_fd: dict[int, Slot] = {}
        self.busy: set[Slot] = set()  # requests sent, answers awaited: their deadlines are checked
        self.connecting: set[gevent.Greenlet] = set()
        self.last_yield = time.monotonic()
        self._raw = monkey.get_original("socket", "socket")

    def start(self, slot: Slot, item: Any, request: bytes) -> None:
        slot.item, slot.error, slot.body = item, None, b""
        if slot.sock is not None:
            self._send(slot, request)
            return
        g = gevent.spawn(self._connect, slot, request)
        self.connecting.add(g)
        g.link(self.connecting.discard)

    def in_flight(self) -> int:
        return len(self.busy) + len(self.connecting)

    def pump(self, wait_s: float) -> None:
        """Handle every answer that is ready; when none is, wait for one (at most ``wait_s``, on gevent)."""
        now = time.monotonic()
        if now - self.last_yield > _YIELD_S:
            gevent.sleep(0)
            self.last_yield = now
        events = self.poller.ready()
        if not events:
            self.poller.wait(wait_s)
            self.last_yield = time.monotonic()
            events = self.poller.ready()
        for fd, ev in events:
            slot = self.by_fd.get(fd)
            if slot is not None:
                self._on_event(slot, ev)

    def expire(self, now: float) -> None:
        """End every exchange past its deadline as a timeout."""
        for slot in [s for s in self.busy if now > s.deadline]:
            self._fail(slot, TimeoutError("timed out"))

    def close(self) -> None:
        gevent.killall(list(self.connecting), block=False)
        for slot in list(self.by_fd.values()):
            self._close(slot)
        self.poller.close()

    # ---- one exchange ------------------------------------------------------------------------
    def _connect(self, slot: Slot, request: bytes) -> None:
        try:
            sock = connect(self.host, self.port, self.tls, self.timeout_s)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            slot.error = exc
            self._finish(slot, NOT_SENT, False, b"")
            return
        if self.tls is None:  # the kernel's socket itself: no gevent wrapper on the hot path
            sock = self._raw(sock.family, sock.type, sock.proto, fileno=sock.detach())
        sock.setblocking(False)
        slot.sock, slot.fd = sock, sock.fileno()
        self.by_fd[slot.fd] = slot
        self.poller.register(slot.fd, _IN)
        self._send(slot, request)

    def _send(self, slot: Slot, data: bytes) -> None:
        slot.deadline = time.monotonic() + self.timeout_s
        self.busy.add(slot)
        try:
            n = slot.sock.send(data)
        except _AGAIN:
            n = 0
        except OSError as exc:  # the service closed or reset the connection: what it did with the request is unknown
            self._fail(slot, exc)
            return
        if n < len(data):
            slot.out = data[n:]  # TLS: a retried write must be the same bytes
            self.poller.modify(slot.fd, _IN | _OUT)

    def _on_event(self, slot: Slot, ev: int) -> None:
        if slot.item is None:  # idle: the service closed it, or sent what nobody asked (TLS: a session ticket)
            try:
                slot.sock.recv(65536)
            except _AGAIN:
                return
            except OSError:
                pass
            self._close(slot)
            return
        if ev & _OUT and slot.out:
            try:
                n = slot.sock.send(slot.out)
            except _AGAIN:
                n = 0
            except OSError as exc:
                self._fail(slot, exc)
                return
            slot.out = slot.out[n:]
            if not slot.out:
                self.poller.modify(slot.fd, _IN)
            if not ev & ~_OUT:
                return
        self._read(slot)

    def _read(self, slot: Slot) -> None:
        sock = slot.sock
        try:
            data = sock.recv(65536)
            if self.tls is not None:
                while sock.pending():  # decrypted data epoll cannot see
                    data += sock.recv(65536)
        except _AGAIN:
            return
        except (OSError, ValueError) as exc:  # ValueError: gevent's TLS socket, closed under the read
            self._fail(slot, exc)
            return
        if not slot.buf:
            answer = known(data)
            if answer is not None:
                self._finish(slot, *answer)
                return
        slot.buf += data
        try:
            answer = parse(slot.buf, eof=not data)
        except ValueError as exc:  # not HTTP
            self._fail(slot, exc)
            return
        if answer is not None:
            if answer[0] == NO_ANSWER:
                slot.error = NoAnswer("the service closed the connection without answering")
            self._finish(slot, *answer)

    def _fail(self, slot: Slot, exc: BaseException) -> None:
        slot.error = exc
        self._finish(slot, NO_ANSWER, False, b"")

    def _finish(self, slot: Slot, status: int, keep: bool, body: bytes) -> None:
        item, slot.item = slot.item, None
        slot.body, slot.buf, slot.out, slot.deadline = body, b"", b"", 0.0
        self.busy.discard(slot)
        if not keep:
            self._close(slot)
        self.done(slot, item, status)

    def _close(self, slot: Slot) -> None:
        if slot.sock is None:
            return
        self.by_fd.pop(slot.fd, None)
        self.poller.unregister(slot.fd)
        try:
            slot.sock.close()
        finally:
            slot.sock, slot.fd = None, -1

"""The open-model load engine that runs inside a Locust process (gevent).

Requests are scheduled at their intended arrival times from a rate shape, whatever the answers do;
a fixed set of keep-alive connections serve the queue; latency is measured from the intended send
time (no coordinated omission) into HdrHistograms (1 us .. 1 h, 3 significant digits: better than
1 ms resolution up to a second). Late starts and dropped requests are counted.

The HTTP client is written by hand on gevent sockets, with each request pre-encoded: Locust's
HttpUser/FastHttpUser spend most of a core on per-request bookkeeping (~4.4k requests/s per core
here), and the gate must not saturate before the system it measures.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import gevent
import psutil
from gevent.queue import Queue

from gameday.load.shapes import RateShape
from gameday.load.window import SecondWindow, new_histogram

__all__ = ["Payloads", "Engine"]

_ID_WIDTH = 12
_LATE_S = 0.010


class Payloads:
    """A pool of pre-encoded requests; only the fixed-width event ids change per request."""

    def __init__(self, url: str, prefix: str, batch: int, pool: int = 16) -> None:
        u = urlparse(url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.prefix, self.batch = prefix, batch
        self._templates: list[list[bytes]] = []
        for k in range(pool):
            events = [('{"event_id":"%s-\x00","trip_id":"trip-%d-%d","kind":"update","ts":%d.5,'  # noqa: UP031 - bytes-like template
                       '"lat":%.4f,"lon":%.4f}') % (prefix, k, j, 1_700_000_000 + k, 40.0 + k / 100, -74.0 - j / 1000)
                      for j in range(batch)]
            body = '{"events":[' + ",".join(events) + "]}"
            length = len(body.encode()) + (_ID_WIDTH - 1) * batch
            head = (f"POST /v1/trips HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n")
            self._templates.append((head + body).encode().split(b"\x00"))

    def request(self, first: int) -> bytes:
        parts = self._templates[first // self.batch % len(self._templates)]
        out = [parts[0]]
        for j in range(self.batch):
            out.append(b"%012d" % (first + j))
            out.append(parts[j + 1])
        return b"".join(out)


class Engine:
    """One process's share of the load. ``emit`` receives a dict every second (the progress)."""

    def __init__(self, *, url: str, shape: RateShape, share: float, batch: int, connections: int,
                 timeout_s: float, run_id: str, worker: int, emit: Callable[[dict[str, Any]], None]) -> None:
        self.payloads = Payloads(url, f"{run_id}w{worker}", batch)
        self.shape, self.share, self.batch = shape, share, batch
        self.connections, self.timeout_s = connections, timeout_s
        self.emit = emit
        self.worker = worker
        self.queue: Queue = Queue()
        self.total = new_histogram()
        self.steady = new_histogram()
        self.window = SecondWindow()
        self.counts = {"sent": 0, "acked_events": 0, "errors": 0, "indeterminate": 0, "dropped": 0, "late": 0,
                       "steady_acked_events": 0, "steady_sent": 0}
        self.ranges: dict[str, list[tuple[int, int]]] = {"a": [], "f": [], "i": []}  # acked, failed, indeterminate
        self.max_lag_s = 0.0
        self.cpu: list[float] = []
        self.stopped = False
        self.t0 = 0.0
        self.max_queue = max(1000, connections * 50)

    def stop(self) -> None:
        self.stopped = True

    # ---- the schedule --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.t0 = time.monotonic()
        workers = [gevent.spawn(self._connection) for _ in range(self.connections)]
        ticker = gevent.spawn(self._ticker)
        try:
            self._schedule()
        finally:
            for _ in workers:
                self.queue.put(None)
            gevent.joinall(workers, timeout=self.timeout_s + 1)
            gevent.killall(workers, block=False)
            ticker.kill()
            self._tick()
        return self.result()

    def _schedule(self) -> None:
        next_t, counter = self.t0, 0
        while not self.stopped:
            now = time.monotonic()
            rate = self.shape.rate_at(now - self.t0)
            if rate is None:
                return
            rate *= self.share
            if rate <= 0:
                gevent.sleep(0.01)
                next_t = time.monotonic()
                continue
            interval = self.batch / rate
            if next_t <= now:  # everything due now: a stall of the target never skips arrivals
                self.max_lag_s = max(self.max_lag_s, now - next_t)
                due = int((now - next_t) / interval) + 1
                take = min(due, max(0, self.max_queue - self.queue.qsize()))
                for k in range(take):
                    self.queue.put((next_t + k * interval, counter))
                    counter += self.batch
                if due > take:  # the queue is full: these arrivals are dropped, counted, never sent
                    self.window.dropped += due - take
                    self.counts["dropped"] += due - take
                    counter += (due - take) * self.batch
                next_t += due * interval
            gevent.sleep(max(0.001, min(0.01, next_t - time.monotonic())))

    # ---- the connections -----------------------------------------------------------------------
    def _connect(self) -> socket.socket | None:
        try:
            s = socket.create_connection((self.payloads.host, self.payloads.port), timeout=self.timeout_s)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except OSError:
            return None

    def _connection(self) -> None:
        sock: socket.socket | None = None
        while True:
            item = self.queue.get()
            if item is None:
                break
            intended, first = item
            if time.monotonic() - intended > _LATE_S:
                self.window.late += 1
                self.counts["late"] += 1
            if sock is None:
                sock = self._connect()
            status = self._exchange(sock, self.payloads.request(first)) if sock is not None else -1
            if status <= 0 and sock is not None:
                sock.close()
                sock = None
            self._record(intended, first, status)
        if sock is not None:
            sock.close()

    def _exchange(self, sock: socket.socket, request: bytes) -> int:
        """Send one request, read one response; the HTTP status, 0 when the outcome is unknown."""
        try:
            sock.sendall(request)
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(65536)
                if not chunk:
                    return 0
                buf += chunk
            head, _, body = buf.partition(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            i = lower.find(b"content-length:")
            j = lower.find(b"\r\n", i)
            length = int(lower[i + 15:j if j >= 0 else None]) if i >= 0 else 0
            while len(body) < length:
                chunk = sock.recv(65536)
                if not chunk:
                    return 0
                body += chunk
            return status
        except (OSError, ValueError):
            return 0

    def _record(self, intended: float, first: int, status: int) -> None:
        now = time.monotonic()
        latency_us = max(1, int((now - intended) * 1_000_000))
        w, c = self.window, self.counts
        w.sent += 1
        c["sent"] += 1
        self.total.record_value(latency_us)
        w.hist.record_value(latency_us)
        lo, hi = self.shape.steady()
        in_steady = lo <= intended - self.t0 < hi
        if in_steady:
            self.steady.record_value(latency_us)
            c["steady_sent"] += 1
        if status == 202:
            w.acked_events += self.batch
            c["acked_events"] += self.batch
            if in_steady:
                c["steady_acked_events"] += self.batch
            self.ranges["a"].append((first, self.batch))
        elif status in (0, 504):  # no answer, or "may or may not be committed"
            w.indeterminate += 1
            c["indeterminate"] += 1
            self.ranges["i"].append((first, self.batch))
        else:  # -1: could not connect (nothing sent); or a definite HTTP error
            w.errors += 1
            c["errors"] += 1
            self.ranges["f"].append((first, self.batch))

    # ---- progress ------------------------------------------------------------------------------
    def _ticker(self) -> None:
        proc = psutil.Process()
        proc.cpu_percent(None)
        while True:
            gevent.sleep(1.0)
            self.cpu.append(proc.cpu_percent(None))
            self._tick()

    def _tick(self) -> None:
        w, self.window = self.window, SecondWindow()
        elapsed = time.monotonic() - self.t0
        rate = self.shape.rate_at(max(0.0, elapsed - 0.5))
        self.emit({"worker": self.worker, "t": round(elapsed, 3), "target_rate": (rate or 0.0) * self.share,
                   "sent": w.sent, "acked_events": w.acked_events, "errors": w.errors,
                   "indeterminate": w.indeterminate, "dropped": w.dropped, "late": w.late, **w.latency_fields(),
                   "cpu_percent": self.cpu[-1] if self.cpu else None})

    def result(self) -> dict[str, Any]:
        lo, hi = self.shape.steady()
        return {"worker": self.worker, "share": self.share, "batch": self.batch, "counts": self.counts,
                "hist": self.total.encode().decode(), "steady_hist": self.steady.encode().decode(),
                "steady_window_s": [lo, hi], "max_schedule_lag_s": round(self.max_lag_s, 4),
                "cpu_percent": self.cpu, "ledger": {"prefix": self.payloads.prefix, "width": _ID_WIDTH,
                                                    "ranges": {k: _merge(v) for k, v in self.ranges.items()}}}


def _merge(ranges: list[tuple[int, int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for first, n in sorted(ranges):
        if out and out[-1][0] + out[-1][1] == first:
            out[-1][1] += n
        else:
            out.append([first, n])
    return out

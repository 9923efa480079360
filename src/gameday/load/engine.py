"""The open-model load engine that runs inside a Locust process (gevent).

Requests are scheduled at their intended arrival times from a rate shape, whatever the answers do;
a fixed set of keep-alive connections serve the queue; latency is measured from the intended send
time (no coordinated omission) into HdrHistograms (1 us .. 1 h, 3 significant digits: better than
1 ms resolution up to a second). Late starts and dropped requests are counted.

Requests follow the service description (``gameday.load.payloads``), over plain HTTP or TLS. The HTTP
client is written by hand on gevent sockets (``gameday.load.http``), with each request pre-encoded:
Locust's HttpUser/FastHttpUser spend most of a core on per-request bookkeeping (~4.4k requests/s per
core here), and the gate must not saturate before the system it measures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gevent
import psutil
from gevent.queue import Queue

from gameday.load.http import Connection
from gameday.load.payloads import Payloads
from gameday.load.shapes import RateShape
from gameday.load.window import SecondWindow, new_histogram
from gameday.service.ids import WIDTH, IdScheme
from gameday.service.resolved import Service

__all__ = ["Engine"]

_LATE_S = 0.010
_BUCKET_S = 0.05  # the ledger keeps when each run of ids was answered, to this resolution


class Engine:
    """One process's share of the load. ``emit`` receives a dict every second (the progress)."""

    def __init__(self, *, service: Service, shape: RateShape, share: float, batch: int, connections: int,
                 timeout_s: float, run_id: str, worker: int, emit: Callable[[dict[str, Any]], None]) -> None:
        self.service = service
        self.ids = IdScheme(f"{run_id}w{worker}", uuid=service.uses_uuid)
        self.payloads = Payloads(service, self.ids, batch, run_id)
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
        # acked, failed, indeterminate: (first id, count, answered at, in _BUCKET_S steps)
        self.ranges: dict[str, list[tuple[int, int, int]]] = {"a": [], "f": [], "i": []}
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
    def _connection(self) -> None:
        conn = Connection(self.payloads.host, self.payloads.port, self.service.ssl_context, self.timeout_s)
        while True:
            item = self.queue.get()
            if item is None:
                break
            intended, first = item
            if time.monotonic() - intended > _LATE_S:
                self.window.late += 1
                self.counts["late"] += 1
            self._record(intended, first, conn.exchange(self.payloads.request(first)))
        conn.close()

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
        bucket = int(time.time() / _BUCKET_S)
        if self.service.write_ok(status):
            w.acked_events += self.batch
            c["acked_events"] += self.batch
            if in_steady:
                c["steady_acked_events"] += self.batch
            self.ranges["a"].append((first, self.batch, bucket))
        elif status in (0, 504):  # no answer, or "may or may not be committed"
            w.indeterminate += 1
            c["indeterminate"] += 1
            self.ranges["i"].append((first, self.batch, bucket))
        else:  # -1: could not connect (nothing sent); or a definite HTTP error
            w.errors += 1
            c["errors"] += 1
            self.ranges["f"].append((first, self.batch, bucket))

    # ---- progress ------------------------------------------------------------------------------
    def _ticker(self) -> None:
        proc = psutil.Process()
        proc.cpu_percent(None)
        while True:
            gevent.sleep(1.0)
            self.cpu.append(proc.cpu_percent(None))
            self.payloads.refresh()  # fresh {{ts}} in the events
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
                "cpu_percent": self.cpu, "ledger": {"prefix": self.ids.prefix, "uuid": self.ids.uuid, "width": WIDTH,
                                                    "ranges": {k: _merge(v) for k, v in self.ranges.items()}}}


def _merge(ranges: list[tuple[int, int, int]]) -> list[list[float]]:
    """Runs of consecutive ids answered in the same time bucket: [first, count, answered at (epoch s)]."""
    out: list[list[int]] = []
    for first, n, bucket in sorted(ranges, key=lambda r: (r[2], r[0])):
        if out and out[-1][2] == bucket and out[-1][0] + out[-1][1] == first:
            out[-1][1] += n
        else:
            out.append([first, n, bucket])
    return [[f, n, round(b * _BUCKET_S, 3)] for f, n, b in out]

"""The open-model load engine that runs inside a Locust process (gevent).

Requests are scheduled at their intended arrival times from a rate shape, whatever the answers do.
Keep-alive connections are opened as demand needs (an open model needs rate x latency requests in
flight), up to a cap per process (``max_connections``); latency is measured from the intended send
time (no coordinated omission) into HdrHistograms (1 us .. 1 h, 3 significant digits: better than
1 ms resolution up to a second), of acknowledged requests only: a refusal or a timeout is an error,
not a latency. Late starts (the cap or the schedule held a request back) and drops are counted.

Requests follow the service description (``gameday.load.payloads``), over plain HTTP or TLS. The HTTP
client is written by hand, all the connections on one epoll loop (``gameday.load.reactor``, ``gameday.load.http``),
with each request pre-encoded:
Locust's HttpUser/FastHttpUser spend most of a core on per-request bookkeeping (FastHttpUser: a tenth or
less of this engine's requests per core at batch 1, ``make bench-load``), and the gate must not saturate before
the system it measures. Counts are kept per second and added up at each tick (the hot path is
``_done``/``_start``/``_record``: every attribute there costs measurable throughput).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent
import psutil
from hdrh.histogram import HdrHistogram

from gameday.load.http import HTTP, NO_ANSWER, NOT_SENT, REFUSED, TIMEOUT, blame
from gameday.load.id_runs import BUCKET_S as _BUCKET_S
from gameday.load.id_runs import merge_runs as _merge
from gameday.load.id_runs import note as _note
from gameday.load.payloads import Payloads, RequestHook, hook_payloads
from gameday.load.reactor import Reactor, Slot
from gameday.load.shapes import RateShape
from gameday.load.window import LATE_S, SecondWindow, new_histogram
from gameday.reasons import ReasonTally, exc_reason, http_reason
from gameday.service.ids import WIDTH, IdScheme
from gameday.service.resolved import Service

__all__ = ["Engine"]

_EVIDENCE_S = 0.1  # answers per 0.1 s bucket go out with each second's progress: a drill's recovery evidence


class Engine:
    """One process's share of the load. ``emit`` receives a dict every second (the progress).

    ``hook`` (a locustfile's ``build_request``) replaces the description's templates; ``on_request``
    receives (method, name, milliseconds, error or None) per answer: Locust's statistics, when wanted.
    ``on_second`` receives each second's method and name, acknowledged latency (HdrHistogram, microseconds), their sum and the
    failed requests by what Locust's failure table shows: Locust's statistics fed in bulk (``locust_stats``).
    ``on_ledger`` receives each second's ledger ranges (merged) as the run goes, so the engine's memory does not
    grow with the run's age; without it they are kept and returned with the result (a short run's, or a test's).
    """

    def __init__(self, *, service: Service, shape: RateShape, share: float, batch: int, max_connections: int,
                 timeout_s: float, run_id: str, worker: int, emit: Callable[[dict[str, Any]], None],
                 hook: RequestHook | None = None,
                 on_request: Callable[[str, str, float, str | None], None] | None = None,
                 on_ledger: Callable[[dict[str, Any]], None] | None = None,
                 on_second: Callable[[str, str, HdrHistogram, int, dict[str, int]], None] | None = None) -> None:
        self.service = service
        self.ids = IdScheme(f"{run_id}w{worker}", uuid=service.uses_uuid)
        self.payloads = Payloads(service, self.ids, batch, run_id) if hook is None else \
            hook_payloads(service, self.ids, batch, run_id, hook)
        self.shape, self.share, self.batch = shape, share, batch
        self.max_connections, self.timeout_s = max_connections, timeout_s
        self.on_request = on_request
        self.on_ledger = on_ledger
        self.on_second = on_second
        self.failed_as: dict[int, int] | None = {} if on_second is not None else None  # status -> this second's
        self.open = self.peak = 0
        self.idle: list[Slot] = []  # connections with no exchange under way
        self.emit = emit
        self.worker = worker
        self.queue: deque[tuple[float, int]] = deque()  # arrivals due, not sent yet: (intended time, first id)
        self.reactor: Reactor | None = None
        self.build = self.payloads.request
        self.total = new_histogram()
        self.steady = new_histogram()
        self.window = SecondWindow()
        self.lat: dict[int, int] = {}  # this second's acknowledged latencies (us) -> requests: steady, the rest
        self.edge_lat: dict[int, int] = {}
        self.counts = {"sent": 0, "acked_events": 0, "errors": 0, "indeterminate": 0, "dropped": 0, "late": 0,
                       "http_errors": 0, "refused": 0, "timeouts": 0, "steady_acked_events": 0, "steady_sent": 0}
        self.reasons = ReasonTally()  # why requests failed, drained into each second's progress
        # acked, failed, indeterminate: the first ids of their requests (batch ids each) by the _BUCKET_S step they
        # were answered in; merged into runs and handed to on_ledger every second (memory of one second's answers,
        # whatever the run's age)
        self.ranges: dict[str, dict[int, list[int]]] = {"a": {}, "f": {}, "i": {}}
        self.answers: dict[int, list[int]] = {}  # 0.1 s bucket of answer time -> [acked, failed, indeterminate]
        self.max_lag_s = 0.0
        self.max_delay_s = 0.0  # the largest start delay of a late request: what the generator could add to a latency
        self.cpu: list[float] = [0.0, 0.0, -1.0]  # samples, their sum, the last one: a day's run keeps 3 numbers
        self.stopped = False
        self.t0 = 0.0
        self.max_queue = max(1000, max_connections * 50)
        self.steady_window = shape.steady()
        self.stairs = [StairTally(lo, hi, rate) for lo, hi, rate in shape.stairs()]  # a step shape's, judged each
        self.stair_s = self.stairs[0].hi - self.stairs[0].lo if self.stairs else 0.0
        self.ok = frozenset(service.spec.write.ok)
        self.epoch = time.time() - time.monotonic()  # monotonic -> epoch seconds, for the ledger's answer times

    def stop(self) -> None:
        self.stopped = True

    # ---- the schedule --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.t0 = time.monotonic()
        self.reactor = Reactor(self.payloads.host, self.payloads.port, self.service.ssl_context, self.timeout_s,
                               self._done)
        ticker = gevent.spawn(self._ticker)
        try:
            self._schedule(self.reactor)
            self._drain(self.reactor)
        finally:
            self.reactor.close()
            ticker.kill()
            self._tick()
        return self.result()

    def _schedule(self, reactor: Reactor) -> None:
        """Arrivals at their intended times, sent as connections are free; between them, the answers."""
        next_t, counter, check = self.t0, 0, self.t0
        every = min(0.1, self.timeout_s / 10)  # exchanges past their deadline end this often, as timeouts
        queue = self.queue
        while not self.stopped:
            now = time.monotonic()
            if now >= check:
                reactor.expire(now)
                check = now + every
            rate = self.shape.rate_at(now - self.t0)
            if rate is None:
                return
            rate *= self.share
            if rate <= 0:
                reactor.pump(0.01)
                next_t = time.monotonic()
                continue
            interval = self.batch / rate
            if next_t <= now:  # everything due now: a stall of the target never skips arrivals
                self.max_lag_s = max(self.max_lag_s, now - next_t)
                if self.stair_s:
                    self._stair_of(next_t).behind(now - next_t)
                due = int((now - next_t) / interval) + 1
                take = min(due, max(0, self.max_queue - len(queue)))
                for k in range(take):
                    queue.append((next_t + k * interval, counter))
                    counter += self.batch
                if due > take:  # the queue is full: these arrivals are dropped, counted, never sent
                    self.window.dropped += due - take
                    if self.stair_s:
                        self._stair_of(now).counts["dropped"] += due - take
                    counter += (due - take) * self.batch
                next_t += due * interval
                self._grow()
                self._dispatch()
            reactor.pump(max(0.001, min(0.01, next_t - time.monotonic())))

    def _drain(self, reactor: Reactor) -> None:
        """After the last arrival: the requests queued and under way, for at most the timeout and a second. After
        an abort (``stop``) the queued ones are never sent (the run ends now; their ids were never acknowledged):
        only the answers of those under way are awaited."""
        end = time.monotonic() + self.timeout_s + 1
        if self.stopped:
            self.queue.clear()
        while (self.queue or reactor.in_flight()) and (now := time.monotonic()) < end:
            reactor.expire(now)
            self._dispatch()
            reactor.pump(0.01)

    # ---- the connections -----------------------------------------------------------------------
    def _grow(self) -> None:
        """One more connection for every queued request no idle connection will take, up to the cap."""
        deficit = len(self.queue) - len(self.idle)
        while deficit > 0 and self.open < self.max_connections:
            self.open += 1
            self.idle.append(Slot())  # it connects with its first request
            deficit -= 1
        self.peak = max(self.peak, self.open)
        if self.stair_s:
            st = self._stair_of(time.monotonic())
            st.peak = max(st.peak, self.open)

    def _dispatch(self) -> None:
        idle, queue = self.idle, self.queue
        while idle and queue:
            self._start(idle.pop(), queue.popleft())

    def _start(self, slot: Slot, item: tuple[float, int]) -> None:
        intended, first = item
        if (delay := time.monotonic() - intended) > LATE_S:
            self.window.late += 1
            self.window.max_delay_s = max(self.window.max_delay_s, delay)
            self.max_delay_s = max(self.max_delay_s, delay)
            if self.stair_s:
                st = self._stair_of(intended)
                st.counts["late"] += 1
                st.delay_s = max(st.delay_s, delay)
        self.reactor.start(slot, item, self.build(first))  # type: ignore[union-attr]

    def _done(self, slot: Slot, item: tuple[float, int], status: int) -> None:
        """An exchange's outcome (the reactor's callback): counted, then the connection takes the next arrival."""
        self._record(item[0], item[1], status, slot)
        if self.queue:
            self._start(slot, self.queue.popleft())
        else:
            self.idle.append(slot)

    def _record(self, intended: float, first: int, status: int, conn: Slot) -> None:
        """Count one answer in this second's window (the run's counts add up the seconds: a hot path)."""
        now = time.monotonic()
        latency_us = int((now - intended) * 1_000_000) or 1
        w = self.window
        w.sent += 1
        lo, hi = self.steady_window
        in_steady = lo <= intended - self.t0 < hi
        wall = now + self.epoch
        bucket = int(wall / _BUCKET_S)
        answered = self.answers.get(k := int(wall / _EVIDENCE_S))
        if answered is None:  # a new 0.1 s bucket (not a list made per request)
            answered = self.answers[k] = [0, 0, 0]
        ok = status in self.ok
        if self.on_request is not None:
            self.on_request(self.payloads.method, self.payloads.name, latency_us / 1000, None if ok else _error(status))
        if in_steady:
            w.steady_sent += 1
        if ok:  # latency of acknowledged requests only, recorded once
            w.lat_sum_us += latency_us
            w.acked_events += self.batch
            if in_steady:  # counted by value, into the histograms each tick: a dict costs a tenth of record_value
                self.lat[latency_us] = self.lat.get(latency_us, 0) + 1
                w.steady_acked_events += self.batch
            else:
                self.edge_lat[latency_us] = self.edge_lat.get(latency_us, 0) + 1
            _note(self.ranges["a"], bucket, first)
            answered[0] += 1
        elif status in (0, 504):  # no answer, or "may or may not be committed"
            w.indeterminate += 1
            _note(self.ranges["i"], bucket, first)
            answered[2] += 1
            self._failed(status, conn, wall)
            if self.failed_as is not None:
                self.failed_as[status] = self.failed_as.get(status, 0) + 1
        else:  # -1: could not connect (nothing sent); or a definite HTTP error
            w.errors += 1
            _note(self.ranges["f"], bucket, first)
            answered[1] += 1
            self._failed(status, conn, wall)
            if self.failed_as is not None:
                self.failed_as[status] = self.failed_as.get(status, 0) + 1
        if self.stair_s:
            self._stair_of(intended).count(status, ok, latency_us, self.batch, None if ok else blame(status, conn.error))

    def _failed(self, status: int, conn: Slot, wall: float) -> None:
        """Why a request failed: its reason tallied, its count by who it points at."""
        secrets = self.service.secrets
        if status > 0:
            reason = http_reason("write", status, conn.body, secrets)
        else:
            reason = exc_reason("write", conn.error, secrets) if conn.error is not None else f"write: {_error(status)}"
        self.reasons.add(reason, wall)
        who = blame(status, conn.error)
        w = self.window
        if who == HTTP:
            w.http_errors += 1
        elif who == REFUSED:
            w.refused += 1
        elif who == TIMEOUT:
            w.timeouts += 1

    def _stair_of(self, t: float) -> StairTally:
        """The stair a moment (monotonic) belongs to (before the first: the first; after the last: the last)."""
        k = int((t - self.t0) / self.stair_s)
        return self.stairs[min(len(self.stairs) - 1, max(0, k))]

    # ---- progress ------------------------------------------------------------------------------
    def _ticker(self) -> None:
        proc = psutil.Process()
        proc.cpu_percent(None)
        while True:
            gevent.sleep(1.0)
            c = proc.cpu_percent(None)
            self.cpu[0], self.cpu[1], self.cpu[2] = self.cpu[0] + 1, self.cpu[1] + c, c
            if self.stair_s:
                self._stair_of(time.monotonic() - 0.5).cpu.append(c)
            self.payloads.refresh()  # fresh {{ts}} in the events
            self._tick()

    def _tick(self) -> None:
        w, self.window = self.window, SecondWindow()
        lat, edge, self.lat, self.edge_lat = self.lat, self.edge_lat, {}, {}
        for value, n in lat.items():
            w.hist.record_value(value, n)
        for value, n in edge.items():
            w.edge.record_value(value, n)
        for k in self.counts:
            self.counts[k] += getattr(w, k)
        self.steady.add(w.hist)  # w.hist: the second's requests intended inside the steady window
        self.total.add(w.hist)
        if w.edge.get_total_count():
            self.total.add(w.edge)
            w.hist.add(w.edge)  # the progress shows the whole second
        if self.on_second is not None and self.failed_as is not None:
            failed, self.failed_as = self.failed_as, {}
            self.on_second(self.payloads.method, self.payloads.name, w.hist, w.lat_sum_us,
                           {_error(s): n for s, n in failed.items()})
        elapsed = time.monotonic() - self.t0
        rate = self.shape.rate_at(max(0.0, elapsed - 0.5))
        self.emit({"worker": self.worker, "t": round(elapsed, 3), "target_rate": (rate or 0.0) * self.share,
                   "sent": w.sent, "acked_events": w.acked_events, "errors": w.errors,
                   "indeterminate": w.indeterminate, "dropped": w.dropped, "late": w.late,
                   "max_start_delay_s": round(w.max_delay_s, 4),
                   "acked_requests": w.hist.get_total_count(), **w.latency_fields(),
                   "cpu_percent": self.cpu[2] if self.cpu[0] else None, "failures": self.reasons.drain(),
                   "evidence": self._answered(),
                   "hist": w.hist.encode().decode() if w.hist.get_total_count() else None})  # windowed SLOs
        self._flush_ledger()

    def _flush_ledger(self) -> None:
        if self.on_ledger is None or not any(self.ranges.values()):
            return
        ranges, self.ranges = self.ranges, {"a": {}, "f": {}, "i": {}}
        self.on_ledger({"worker": self.worker, **self._ledger_ids(),
                        "ranges": {k: _merge(v, self.batch) for k, v in ranges.items()}})

    def _ledger_ids(self) -> dict[str, Any]:
        return {"prefix": self.ids.prefix, "uuid": self.ids.uuid, "width": WIDTH}

    def _answered(self) -> list[list[float]]:
        """The complete 0.1 s buckets of answers since the last tick: [t_start, acked, failed, indeterminate]."""
        current = int((time.monotonic() + self.epoch) / _EVIDENCE_S)
        done = sorted(k for k in self.answers if k < current)
        return [[round(k * _EVIDENCE_S, 3), *self.answers.pop(k)] for k in done]

    def result(self) -> dict[str, Any]:
        lo, hi = self.shape.steady()
        return {"worker": self.worker, "share": self.share, "batch": self.batch, "counts": self.counts,
                "hist": self.total.encode().decode(), "steady_hist": self.steady.encode().decode(),
                "steady_window_s": [lo, hi], "max_schedule_lag_s": round(self.max_lag_s, 4),
                "max_start_delay_s": round(self.max_delay_s, 4),
                "max_connections": self.max_connections, "peak_connections": self.peak,
                "cpu_percent": [round(self.cpu[1] / self.cpu[0], 2)] if self.cpu[0] else [],  # the average
                "cpu_samples": int(self.cpu[0]), "stairs": [st.result() for st in self.stairs],
                "ledger": {**self._ledger_ids(), "spilled": self.on_ledger is not None,
                           "ranges": {k: _merge(v, self.batch) for k, v in self.ranges.items()}}}


class StairTally:
    """One stair of a step shape: its requests (by intended time) counted as the run's are, kept apart so each
    stair is judged by the gate's rules (``gameday.load.stairs``). Memory: one histogram per stair."""

    def __init__(self, lo: float, hi: float, rate: float) -> None:
        self.lo, self.hi, self.rate = lo, hi, rate
        self.counts = {"sent": 0, "acked_events": 0, "errors": 0, "indeterminate": 0, "dropped": 0, "late": 0,
                       "http_errors": 0, "refused": 0, "timeouts": 0, "steady_acked_events": 0, "steady_sent": 0}
        self.hist = new_histogram()
        self.lag_s = 0.0
        self.delay_s = 0.0
        self.peak = 0
        self.cpu: list[float] = []  # the CPU samples of its seconds (a stair is short)

    def behind(self, lag_s: float) -> None:
        self.lag_s = max(self.lag_s, lag_s)

    def count(self, status: int, ok: bool, latency_us: int, batch: int, who: str | None) -> None:
        c = self.counts
        c["sent"] += 1
        c["steady_sent"] += 1
        if ok:
            c["acked_events"] += batch
            c["steady_acked_events"] += batch
            self.hist.record_value(latency_us)
            return
        c["indeterminate" if status in (0, 504) else "errors"] += 1
        key = {HTTP: "http_errors", REFUSED: "refused", TIMEOUT: "timeouts"}.get(who or "")
        if key:
            c[key] += 1

    def result(self) -> dict[str, Any]:
        """The stair as a part of its own (the shape of ``result()``)."""
        return {"from_s": self.lo, "to_s": self.hi, "rate": self.rate, "counts": self.counts,
                "steady_hist": self.hist.encode().decode(), "steady_window_s": [self.lo, self.hi],
                "max_schedule_lag_s": round(self.lag_s, 4), "max_start_delay_s": round(self.delay_s, 4),
                "peak_connections": self.peak, "cpu_percent": self.cpu}


def _error(status: int) -> str:
    """What Locust's failure table shows for an answer the description does not call a success."""
    if status == NOT_SENT:
        return "could not connect"
    if status == NO_ANSWER:
        return "no answer (timeout or connection reset): indeterminate"
    return f"HTTP {status}"

"""What runs in the background of a drill beside the heartbeat: the built-in open-loop writer and the
synthetic probe, both speaking the service description.

Requests are sent at their intended times whatever the answers do, latency is measured from the
intended send time, and every event id ends in the ledger as acked, failed or indeterminate, with the
time of the answer. Why requests failed is tallied per source (``probe``, ``load``) and journaled as one
``failures`` event per source about once a second (``gameday.reasons``).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import IO

import aiohttp

from gameday.journal import Journal
from gameday.judge.evidence import load_bucket_event
from gameday.judge.recovery import Evidence, Probe
from gameday.load.window import SecondWindow
from gameday.reasons import FAILURES, ReasonTally, exc_reason, http_reason
from gameday.service.ids import ACKED, FAILED, INDETERMINATE, IdScheme
from gameday.service.resolved import Service
from gameday.synthetic import write_batch, write_then_read

__all__ = ["Workload"]

_MAX_IN_FLIGHT = 512


class AnswerBuckets:
    """Answers counted per bucket of answer time: [t_start, acked, failed, indeterminate] (the recovery
    machine's load evidence, journaled as ``load.evidence`` once a bucket is complete)."""

    def __init__(self, width: float) -> None:
        self.width = width
        self._counts: dict[int, list[int]] = {}

    def add(self, t: float, mark: str) -> None:
        row = self._counts.setdefault(int(t // self.width), [0, 0, 0])
        row[{ACKED: 0, FAILED: 1, INDETERMINATE: 2}[mark]] += 1

    def take_complete(self, now: float) -> list[list[float]]:
        """The buckets that ended before ``now``, in time order, removed."""
        current = int(now // self.width)
        done = sorted(k for k in self._counts if k < current)
        return [[round(k * self.width, 6), *self._counts.pop(k)] for k in done]


class Workload:
    """Load + probe in one asyncio loop on a background thread; bounded by ``max_s``."""

    def __init__(self, *, service: Service, run_id: str, journal: Journal, ledger: Path | None, rate: float, batch: int,
                 probe_interval_s: float, probe_timeout_s: float, max_s: float, builtin_load: bool = True,
                 evidence_bucket_s: float = 0.1) -> None:
        self.service = service
        self.run_id = run_id
        self.ids = IdScheme(f"{run_id}b", uuid=service.uses_uuid)
        self.probe_ids = IdScheme(f"{run_id}p", uuid=service.uses_uuid)
        self.journal = journal
        self.rate, self.batch = rate, batch
        self.probe_interval_s, self.probe_timeout_s = probe_interval_s, probe_timeout_s
        self.max_s = max_s
        self.builtin_load = builtin_load
        # written by the loop, closed by stop(); none without the built-in load (a Locust profile writes its own)
        self._ledger: IO[str] = open(ledger if ledger is not None else os.devnull, "a")  # noqa: SIM115
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="workload", daemon=True)
        self._tick = SecondWindow()
        self.probe_log: list[Evidence] = []  # every synthetic probe so far, in order
        self.buckets = AnswerBuckets(evidence_bucket_s)
        self.failures = {"probe": ReasonTally(), "load": ReasonTally()}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._ledger.close()
        self.journal_failures()  # the last second's reasons

    def flush_ledger(self) -> None:
        """Every answer so far into the ledger file (it is flushed once a second otherwise)."""
        if not self._ledger.closed:
            self._ledger.flush()

    def journal_failures(self) -> None:
        for source, tally in self.failures.items():
            reasons = tally.drain()
            if reasons:
                self.journal.record(FAILURES, source, {"source": source, "reasons": reasons})

    async def _main(self) -> None:
        deadline = time.monotonic() + self.max_s
        timeout = aiohttp.ClientTimeout(total=self.probe_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=_MAX_IN_FLIGHT)) as load, \
                aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(force_close=True)) as probe:
            tasks = [asyncio.ensure_future(self._probe(probe, deadline)), asyncio.ensure_future(self._drain(deadline))]
            if self.builtin_load:
                tasks += [asyncio.ensure_future(self._load(load, deadline)), asyncio.ensure_future(self._ticker(deadline)),
                          asyncio.ensure_future(self._evidence(deadline))]
            await asyncio.gather(*tasks)
        if not self._stop.is_set():  # the ceiling, not the runner, ended it: say so
            self.journal.record("background.ceiling", "load", {"max_s": self.max_s},
                                error=f"safety stop: load and probe ran for their ceiling of {self.max_s:g} s")

    def _running(self, deadline: float) -> bool:
        return not self._stop.is_set() and time.monotonic() < deadline

    async def _load(self, session: aiohttp.ClientSession, deadline: float) -> None:
        period = self.batch / self.rate
        t0 = time.monotonic()
        i = 0
        in_flight: set[asyncio.Task[None]] = set()
        while self._running(deadline):
            intended = t0 + i * period
            wait = intended - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            first = i * self.batch
            i += 1
            if len(in_flight) >= _MAX_IN_FLIGHT:
                self._tick.dropped += 1
                continue
            task = asyncio.ensure_future(self._send(session, first, intended))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight, timeout=self.probe_timeout_s + 1)

    async def _send(self, session: aiohttp.ClientSession, first: int, intended: float) -> None:
        if time.monotonic() - intended > 0.010:
            self._tick.late += 1
        self._tick.sent += 1
        try:
            status, body = await write_batch(session, self.service, self.ids, first, self.batch, self.run_id)
            reason = None if self.service.write_ok(status) else http_reason("write", status, body, self.service.secrets)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            status = 0
            if isinstance(exc, TimeoutError) and not str(exc):
                exc = TimeoutError(f"no answer within {self.probe_timeout_s:g} s")
            reason = exc_reason("write", exc, self.service.secrets)
        if reason is not None:
            self.failures["load"].add(reason, time.time())
        self._tick.hist.record_value(max(1, int((time.monotonic() - intended) * 1_000_000)))
        if self.service.write_ok(status):
            mark = ACKED
            self._tick.acked_events += self.batch
        elif status in (0, 504):  # no answer, or "may or may not be committed"
            mark = INDETERMINATE
            self._tick.indeterminate += 1
        else:
            mark = FAILED
            self._tick.errors += 1
        t_answer = time.time()
        self._ledger.write(self.ids.ledger_line(mark, first, self.batch, t_answer))
        self.buckets.add(t_answer, mark)

    async def _ticker(self, deadline: float) -> None:
        while self._running(deadline):
            await asyncio.sleep(1.0)
            if self._stop.is_set():
                break  # a partial last second would read as a collapse of throughput
            t, self._tick = self._tick, SecondWindow()
            self._ledger.flush()
            self.journal.record("load.tick", "load", {
                "sent": t.sent, "acked_events": t.acked_events, "errors": t.errors, "indeterminate": t.indeterminate,
                "dropped": t.dropped, "late": t.late, **t.latency_fields()})

    async def _evidence(self, deadline: float) -> None:
        """The load's complete answer buckets, journaled every 0.2 s (the recovery machine waits for them)."""
        while self._running(deadline):
            await asyncio.sleep(0.2)
            done = self.buckets.take_complete(time.time())
            if done:
                self.journal.record("load.evidence", "load", load_bucket_event(self.buckets.width, done))

    async def _drain(self, deadline: float) -> None:
        while self._running(deadline):
            await asyncio.sleep(1.0)
            self.journal_failures()

    async def _probe(self, session: aiohttp.ClientSession, deadline: float) -> None:
        n = 0
        while self._running(deadline):
            started, started_wall = time.monotonic(), time.time()
            answer = await write_then_read(session, self.service, self.probe_ids, n, self.run_id)
            eid = self.probe_ids.ledger_id(n)
            n += 1
            ended_wall = time.time()
            if answer.reason is not None:
                self.failures["probe"].add(answer.reason, ended_wall)
            value = {"ok": answer.ok, "latency_ms": round((time.monotonic() - started) * 1000, 2),
                     "started": started_wall, "event_id": eid, **({"reads": answer.reads} if answer.reads > 1 else {})}
            self.journal.record("probe", "probe", value, error=answer.error, t_wall=ended_wall)
            # after the journal: the runner judges the steady state from the journal once this log holds the
            # streak (appended first, the streak's last probe was sometimes not in the journal it read yet)
            self.probe_log.append(Probe(started_wall, ended_wall, answer.ok))
            await asyncio.sleep(max(0.0, self.probe_interval_s - (time.monotonic() - started)))

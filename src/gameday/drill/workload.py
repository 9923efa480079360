"""What runs in the background of a drill: open-loop load, the synthetic probe, the heartbeat writer.

A simple built-in open-loop writer (until drills drive the Locust profiles): requests are sent at
their intended times whatever the answers do, latency is measured from the intended send time, and
every event id ends in the ledger as acked, failed or indeterminate.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import IO

import aiohttp
import psycopg

from gameday.journal import Journal
from gameday.judge.recovery import Probe
from gameday.load.window import SecondWindow
from gameday.synthetic import probe_event, write_then_read

__all__ = ["Workload", "Heartbeat", "LEDGER_ACKED", "LEDGER_FAILED", "LEDGER_INDETERMINATE"]

LEDGER_ACKED, LEDGER_FAILED, LEDGER_INDETERMINATE = "a", "f", "i"
_MAX_IN_FLIGHT = 512


class Workload:
    """Load + probe in one asyncio loop on a background thread; bounded by ``max_s``."""

    def __init__(self, *, endpoint: str, run_id: str, journal: Journal, ledger: Path, rate: float, batch: int,
                 probe_interval_s: float, probe_timeout_s: float, max_s: float, builtin_load: bool = True) -> None:
        self.endpoint = endpoint
        self.run_id = run_id
        self.journal = journal
        self.rate, self.batch = rate, batch
        self.probe_interval_s, self.probe_timeout_s = probe_interval_s, probe_timeout_s
        self.max_s = max_s
        self.builtin_load = builtin_load
        self._ledger: IO[str] = open(ledger, "a")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="workload", daemon=True)
        self._tick = SecondWindow()
        self.probe_log: list[Probe] = []  # every synthetic probe so far, in order

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self._ledger.close()

    async def _main(self) -> None:
        deadline = time.monotonic() + self.max_s
        timeout = aiohttp.ClientTimeout(total=self.probe_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=_MAX_IN_FLIGHT)) as load, \
                aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(force_close=True)) as probe:
            tasks = [asyncio.ensure_future(self._probe(probe, deadline))]
            if self.builtin_load:
                tasks += [asyncio.ensure_future(self._load(load, deadline)), asyncio.ensure_future(self._ticker(deadline))]
            await asyncio.gather(*tasks)

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
            ids = [f"{self.run_id}-{i}-{k}" for k in range(self.batch)]
            i += 1
            if len(in_flight) >= _MAX_IN_FLIGHT:
                self._tick.dropped += 1
                continue
            task = asyncio.ensure_future(self._send(session, ids, intended))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight, timeout=self.probe_timeout_s + 1)

    async def _send(self, session: aiohttp.ClientSession, ids: list[str], intended: float) -> None:
        started = time.monotonic()
        if started - intended > 0.010:
            self._tick.late += 1
        body = json.dumps({"events": [probe_event(e, time.time()) for e in ids]})
        self._tick.sent += 1
        status = 0
        try:
            async with session.post(self.endpoint + "/v1/trips", data=body,
                                    headers={"Content-Type": "application/json"}) as r:
                await r.read()
                status = r.status
        except (TimeoutError, aiohttp.ClientError, OSError):
            status = 0
        self._tick.hist.record_value(max(1, int((time.monotonic() - intended) * 1_000_000)))
        if status == 202:
            mark = LEDGER_ACKED
            self._tick.acked_events += len(ids)
        elif status in (0, 504):  # no answer, or "may or may not be committed"
            mark = LEDGER_INDETERMINATE
            self._tick.indeterminate += 1
        else:
            mark = LEDGER_FAILED
            self._tick.errors += 1
        self._ledger.write("".join(f"{mark} {e}\n" for e in ids))

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

    async def _probe(self, session: aiohttp.ClientSession, deadline: float) -> None:
        n = 0
        while self._running(deadline):
            started, started_wall = time.monotonic(), time.time()
            eid = f"probe-{self.run_id}-{n}"
            n += 1
            ok, error = await write_then_read(session, self.endpoint, eid)
            ended_wall = time.time()
            self.probe_log.append(Probe(started_wall, ended_wall, ok))
            self.journal.record("probe", "probe", {"ok": ok, "latency_ms": round((time.monotonic() - started) * 1000, 2),
                                                   "started": started_wall, "event_id": eid}, error=error,
                                t_wall=ended_wall)
            await asyncio.sleep(max(0.0, self.probe_interval_s - (time.monotonic() - started)))


class Heartbeat:
    """Commits (run_id, seq, ts) every ``interval_s`` through the writer endpoint; journals each ack."""

    def __init__(self, *, dsn: str, run_id: str, journal: Journal, interval_s: float, max_s: float) -> None:
        self.dsn, self.run_id, self.journal = dsn, run_id, journal
        self.interval_s, self.max_s = interval_s, max_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_s
        conn: psycopg.Connection | None = None
        seq = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            seq += 1
            ts = time.time()
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=1)
                conn.execute("INSERT INTO heartbeats (run_id, seq, ts) VALUES (%s, %s, %s)", (self.run_id, seq, ts))
                self.journal.record("heartbeat.ack", "heartbeat", {"seq": seq, "ts": ts})
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                conn = None
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))
        if conn is not None:
            conn.close()

"""The data probe of a restore drill: after a data fault, the records it damaged are read back through the
service, one per probe interval; a read counts as ok only when it answers ok *and* its body shows correct data
(``read.intact``). Journaled as ``probe`` events (``"data": true``), so the one recovery machine measures RTO
from T0 to the service answering with correct data again; the ordinary write-then-read probe goes on beside it.

The runner sees it through :func:`data_probe_options`: a background wrapper that starts it once the fault is
applied (``on_fault``) and stops it with the rest of the background.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from gameday.drill.background import Background, BackgroundSpec, live_background
from gameday.journal import Journal, read_journal
from gameday.operations import DATA_FAULTS
from gameday.service.resolved import Service

__all__ = ["DataProbe", "read_intact", "data_probe_options"]


async def read_intact(session: aiohttp.ClientSession, svc: Service, event_id: str, run_id: str) -> str | None:
    """None when the record reads back ok with correct data; otherwise what was wrong."""
    if svc.read_path is None or svc.spec.read is None:
        return "the service description has no read request"
    path = svc.read_path.render({"event_id": event_id, "event_uuid": "", "seq": "", "run_id": run_id})
    try:
        async with session.request(svc.spec.read.method, svc.url + path, headers=svc.request_headers(run_id),
                                   ssl=svc.ssl_context if svc.ssl_context is not None else True) as r:
            status, body = r.status, await r.text(errors="replace")
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return f"read: {type(exc).__name__}"
    if not svc.read_ok(status):
        return f"read: HTTP {status} (the record is gone)"
    if svc.spec.read.intact and not re.search(svc.spec.read.intact, body):
        return "read: the record's data is damaged"
    return None


class DataProbe:
    def __init__(self, *, service: Service, journal: Journal, ids: list[str], run_id: str, interval_s: float,
                 timeout_s: float, max_s: float) -> None:
        self.service, self.journal, self.ids, self.run_id = service, journal, ids, run_id
        self.interval_s, self.timeout_s, self.max_s = interval_s, timeout_s, max_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="data-probe", daemon=True)

    def start(self) -> None:
        if self.ids:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)

    async def _run(self) -> None:
        deadline = time.monotonic() + self.max_s
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            n = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                started, t0 = time.time(), time.monotonic()
                eid = self.ids[n % len(self.ids)]
                n += 1
                error = await read_intact(session, self.service, eid, self.run_id)
                self.journal.record("probe", "probe", {
                    "ok": error is None, "data": True, "event_id": eid, "started": started,
                    "latency_ms": round((time.monotonic() - t0) * 1000, 2)}, error=error)
                await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - t0)))


class _WithDataProbe:
    """A background plus the data probe, started after the fault (the runner's ``on_fault``)."""

    def __init__(self, inner: Background, spec: BackgroundSpec) -> None:
        self.inner, self.spec = inner, spec
        self.probe_log = inner.probe_log
        self.data: DataProbe | None = None

    @property
    def ledger(self) -> Any:
        return self.inner.ledger

    def ledger_now(self) -> Path:
        return self.inner.ledger_now()

    def start(self) -> None:
        self.inner.start()

    def stop(self) -> None:
        if self.data is not None:
            self.data.stop()
        self.inner.stop()

    def journal_failures(self) -> None:
        self.inner.journal_failures()

    def start_data_probe(self, journal: Journal) -> None:
        applied = next((e for e in reversed(read_journal(journal.path)) if e.kind == "fault.applied"), None)
        if applied is None or applied.value.get("action") not in DATA_FAULTS:
            return
        s = self.spec
        self.data = DataProbe(service=s.service, journal=journal, ids=list(applied.value["result"].get("sample", [])),
                              run_id=s.run_id, interval_s=s.probe_interval_s, timeout_s=s.probe_timeout_s, max_s=s.max_s)
        self.data.start()


def data_probe_options(options: dict[str, Any]) -> dict[str, Any]:
    """A drill run's options with the data probe added: it starts after a data fault (a corruption drill or a
    rehearsal that drew one), beside whatever ``on_fault`` the caller already has."""
    make: Callable[[BackgroundSpec], Background] = options.get("background", live_background)
    chained = options.get("on_fault")

    def on_fault(bg: Any, t_fault: float, journal: Journal) -> None:
        if isinstance(bg, _WithDataProbe):
            bg.start_data_probe(journal)
        if chained is not None:
            chained(bg, t_fault, journal)
    return {**options, "background": lambda spec: _WithDataProbe(make(spec), spec), "on_fault": on_fault}

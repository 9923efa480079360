"""Drive a drill's load with a Locust profile (gameday.load) in the background, journaling its progress."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from gameday.journal import Journal
from gameday.judge.evidence import load_bucket_event
from gameday.load.run import LoadRun, join_spilled
from gameday.reasons import FAILURES
from gameday.service.resolved import Service

__all__ = ["LocustLoad"]

_TICK_FIELDS = ("sent", "acked_events", "errors", "indeterminate", "dropped", "late", "p50_ms", "p95_ms", "p99_ms",
                "max_ms", "mean_ms", "target_rate", "cpu_percent", "acked_requests", "latency_buckets")


class LocustLoad:
    """Runs a LoadRun on a thread for at most ``max_s``; ``stop()`` ends it early and waits for its results."""

    def __init__(self, *, profile: Path, service: Service, out_dir: Path, rate: float, batch: int, max_s: float,
                 run_id: str, journal: Journal, ledger: Path, evidence_bucket_s: float = 0.1) -> None:
        self.journal = journal
        self.bucket_s = evidence_bucket_s
        self.run = LoadRun(profile=profile, host=service.url, out_dir=out_dir, rate=rate, batch=batch, duration=max_s,
                           on_progress=self._tick, run_id=run_id, service=service, ledger=ledger)
        self.summary: dict[str, Any] | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._main, name="locust-load", daemon=True)

    @property
    def progress(self) -> Path:
        return self.run.out_dir / "progress.jsonl"

    @property
    def ledger(self) -> Path:
        assert self.run.ledger is not None
        return self.run.ledger

    def ledger_now(self) -> Path:
        """The ledger as far as the engine has handed it over after this call (it does every second; waited
        for at most 3 s), for a reader in the middle of the run; ledger.txt itself once the load has ended."""
        asked, deadline = time.time(), time.monotonic() + 3
        while self._thread.is_alive() and time.monotonic() < deadline and not _handed_over_since(self.run.out_dir,
                                                                                                 asked):
            time.sleep(0.05)
        if not self._thread.is_alive() and self.ledger.exists():
            return self.ledger
        return join_spilled(self.run.out_dir, self.run.out_dir / "ledger.sofar")

    def _tick(self, rec: dict[str, Any]) -> None:
        self.journal.record("load.tick", "load", {k: rec.get(k) for k in _TICK_FIELDS})
        reasons = self.run.reasons.drain()  # why requests failed since the last second (the run tallies them)
        if reasons:
            self.journal.record(FAILURES, "load", {"source": "load", "reasons": reasons})
        buckets = _rebucket(rec.get("evidence") or [], self.bucket_s)
        if buckets:
            self.journal.record("load.evidence", "load", load_bucket_event(self.bucket_s, buckets))

    def _main(self) -> None:
        try:
            self.summary = self.run.execute()
        except Exception as exc:  # noqa: BLE001 - journaled; the reconciliation will find no ledger
            self.error = f"{type(exc).__name__}: {exc}"
            self.journal.record("load.failed", "load", {}, error=self.error)

    def start(self) -> None:
        self.run.out_dir.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def stop(self) -> None:
        self.run.stop()
        self._thread.join(60)
        (self.run.out_dir / "ledger.sofar").unlink(missing_ok=True)  # a reader's snapshot: ledger.txt is the record


def _handed_over_since(folder: Path, t: float) -> bool:
    """Every worker's ledger file written after ``t`` (at least one)."""
    try:
        times = [f.stat().st_mtime for f in folder.glob("ledger-*.txt")]
    except FileNotFoundError:
        return False
    return bool(times) and min(times) > t


def _rebucket(buckets: list[list[float]], width: float) -> list[list[float]]:
    """The engine's 0.1 s answer buckets merged into the drill's width (1 s at full scale)."""
    out: dict[int, list[float]] = {}
    for t, *counts in buckets:
        row = out.setdefault(int(round(t / width, 6)), [0, 0, 0])
        for i, c in enumerate(counts):
            row[i] += c
    return [[round(k * width, 6), *row] for k, row in sorted(out.items())]

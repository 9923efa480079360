"""What runs beside a drill's runbook: load, the synthetic probe, the heartbeat, and afterwards the
reconciliation. The runner sees them through :class:`Background` and :data:`Reconciler`, so the live
ones (HTTP, PostgreSQL, Locust) and the in-memory fakes (``gameday.drill.fakes``) are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from gameday.drill.locust_load import LocustLoad
from gameday.drill.store import Heartbeat
from gameday.drill.workload import Workload
from gameday.journal import Journal
from gameday.judge.recovery import Evidence
from gameday.service.resolved import Service

__all__ = ["Background", "BackgroundSpec", "LiveBackground", "Reconciler", "live_background", "live_reconciler"]


@dataclass(frozen=True)
class BackgroundSpec:
    """Everything a background needs, resolved by the runner before anything starts."""

    service: Service
    writer_dsn: str | None  # where the heartbeat commits: the primary region's writer (None: no database)
    run_id: str
    journal: Journal
    out_dir: Path
    rate: float
    batch: int
    profile: Path | None  # a locustfile, or None for the built-in writer
    probe_interval_s: float
    probe_timeout_s: float
    heartbeat_interval_s: float
    max_s: float  # a safety ceiling: the runner stops the background when the run ends
    evidence_bucket_s: float = 0.1  # the load's answers are journaled per bucket of this width (load.evidence)


class Background(Protocol):
    probe_log: list[Evidence]

    @property
    def ledger(self) -> Path: ...
    def ledger_now(self) -> Path: ...  # the ledger as far as the load has been answered now (mid-run readers)
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def journal_failures(self) -> None: ...  # journal the failure reasons tallied so far (``failures`` events)


# (the DSN of the database holding the writes now, the ledger, the run id, T0) -> the reconcile event's value
Reconciler = Callable[[str, Path, str, float | None], dict[str, Any]]


class LiveBackground:
    """The built-in writer and probe, a Locust profile when the drill names one, and the heartbeat."""

    def __init__(self, spec: BackgroundSpec) -> None:
        builtin = spec.profile is None
        self.workload = Workload(service=spec.service, run_id=spec.run_id, journal=spec.journal,
                                 ledger=spec.out_dir / "ledger.txt" if builtin else None, rate=spec.rate, batch=spec.batch,
                                 probe_interval_s=spec.probe_interval_s, probe_timeout_s=spec.probe_timeout_s,
                                 max_s=spec.max_s, builtin_load=builtin, evidence_bucket_s=spec.evidence_bucket_s)
        self.locust = None if spec.profile is None else LocustLoad(
            profile=spec.profile, service=spec.service, out_dir=spec.out_dir / "load", rate=spec.rate,
            batch=spec.batch, max_s=spec.max_s, run_id=spec.run_id, journal=spec.journal,
            ledger=spec.out_dir / "ledger.txt", evidence_bucket_s=spec.evidence_bucket_s)
        self.heartbeat = None if spec.writer_dsn is None else Heartbeat(
            dsn=spec.writer_dsn, table=spec.service.spec.heartbeat_table, run_id=spec.run_id, journal=spec.journal,
            interval_s=spec.heartbeat_interval_s, max_s=spec.max_s)
        self._ledger = spec.out_dir / "ledger.txt"
        self.probe_log = self.workload.probe_log

    @property
    def ledger(self) -> Path:
        return self._ledger  # the built-in writer's or the Locust profile's: one place in every run folder

    def ledger_now(self) -> Path:
        """The ledger holding every answer so far (read mid-run, by a restore's check): the built-in writer's
        buffer flushed, or the Locust engine's per-second hand-overs joined."""
        if self.locust is not None:
            return self.locust.ledger_now()
        self.workload.flush_ledger()
        return self._ledger

    def start(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.start()
        self.workload.start()
        if self.locust is not None:
            self.locust.start()

    def stop(self) -> None:
        self.workload.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.locust is not None:
            self.locust.stop()

    def journal_failures(self) -> None:
        self.workload.journal_failures()


def live_background(spec: BackgroundSpec) -> Background:
    return LiveBackground(spec)


def live_reconciler(service: Service) -> Reconciler:
    """Reconciliation with the team's ``present_query`` against a real database (psycopg)."""
    from gameday.drill.reconcile import reconcile

    def run(dsn: str, ledger: Path, run_id: str, t_fault: float | None) -> dict[str, Any]:
        return reconcile(dsn, ledger, run_id, service=service, t_fault=t_fault)
    return run

"""The Target interface, split by role: what a fault, a runbook step or a probe can ask of an environment.

- :class:`Faults`: the faults and their inverses (``gameday.operations`` says which undoes which);
- :class:`RunbookActions`: what a runbook step may do;
- :class:`Observation`: what probes, waits, the heartbeat and reconciliation read, including one typed
  :class:`EnvironmentStatus` that every driver fills;
- :class:`Target`: all three, plus ``check_stop_conditions`` (a no-op where there are none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from gameday.restore.models import BackupStatus
from gameday.service.resolved import Service

__all__ = ["Target", "Faults", "RunbookActions", "Observation", "FaultResult", "EnvironmentStatus",
           "NodeStatus", "DbStatus"]


@dataclass(frozen=True)
class FaultResult:
    """A fault as the driver applied it: the instant it took effect (epoch seconds) and what it touched."""

    t_applied: float
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"t_applied": self.t_applied, **self.detail}


class _Status(BaseModel):
    model_config = ConfigDict(frozen=True)


class NodeStatus(_Status):
    """An ingest node (a lab process, an EKS node)."""

    name: str
    region: str
    zone: str
    capacity_type: Literal["on-demand", "spot"] = "on-demand"
    healthy: bool


class DbStatus(_Status):
    """A database instance and the role it has now."""

    name: str
    region: str
    zone: str
    role: Literal["primary", "standby", "fenced", "down"]
    port: int | None = None


class EnvironmentStatus(_Status):
    """What probes and waits need to know about an environment, whichever driver filled it."""

    primary_region: str
    dr_region: str
    zones: list[str]
    nodes: list[NodeStatus] = []
    dbs: list[DbStatus] = []
    dns_region: str | None = None  # the region the public record answers with
    dr_promoted: bool = False  # the DR region's database is the writer now
    writer_region: str | None = None  # where the writer is (None: no writer, or the driver cannot tell)
    cache_dr_promoted: bool | None = None  # the DR cache is the cache's primary now (None: no cache, or cannot tell)

    def healthy_nodes(self, *, region: str | None = None, zone: str | None = None,
                      capacity_type: str | None = None) -> list[NodeStatus]:
        return [n for n in self.nodes if n.healthy and (region is None or n.region == region)
                and (zone is None or n.zone == zone or n.zone.endswith(zone) and len(zone) == 1)
                and (capacity_type is None or n.capacity_type == capacity_type)]

    def primaries(self) -> list[DbStatus]:
        return [d for d in self.dbs if d.role == "primary"]

    def writer_zone(self) -> str | None:
        """The zone of the writer (of the primary region's, when the DR one was not promoted)."""
        region = self.writer_region or (self.dr_region if self.dr_promoted else self.primary_region)
        return next((d.zone for d in self.primaries() if d.region == region), None)


@runtime_checkable
class Faults(Protocol):
    def fail_zone(self, zone: str) -> FaultResult: ...
    def freeze_zone(self, zone: str) -> FaultResult: ...
    def interrupt_spot(self, count: int = 1, zone: str | None = None) -> FaultResult: ...
    def fail_over_db(self) -> FaultResult: ...
    def fail_cache_primary(self) -> FaultResult: ...
    def fail_region(self, region: str) -> FaultResult: ...
    def delay_link(self, ms: float) -> FaultResult: ...
    def inject_latency(self, ms: float = 0.0, stall_s: float = 0.0) -> FaultResult: ...
    # data faults (restore drills): detail has "damaged" (rows), "sample" (ids), "statement"
    def corrupt_data(self, max_rows: int = 200) -> FaultResult: ...
    def delete_data(self, max_rows: int = 200) -> FaultResult: ...
    # inverses
    def restore_zone(self, zone: str) -> dict[str, Any]: ...
    def restore(self) -> dict[str, Any]: ...


@runtime_checkable
class RunbookActions(Protocol):
    def promote_dr_db(self) -> dict[str, Any]: ...
    def promote_cache(self) -> dict[str, Any]: ...  # the DR cache replica (Global Datastore secondary)
    def switch_dns(self, region: str) -> dict[str, Any]: ...
    def scale_dr(self, count: int) -> dict[str, Any]: ...
    def drain_zone(self, zone: str) -> dict[str, Any]: ...
    def run_region_switch_plan(self, region: str, action: str = "activate", mode: str = "ungraceful") -> dict[str, Any]:
        """ARC Region switch (AWS): the team's plan executed and waited for; ConfigError elsewhere."""
        ...
    def restore(self) -> dict[str, Any]: ...
    # failback (runbooks/region-failback.yaml): each returns once its effect holds
    def rebuild_primary_region(self) -> dict[str, Any]: ...
    def return_primary_db(self) -> dict[str, Any]: ...
    def rebuild_dr_db(self) -> dict[str, Any]: ...
    # restores (runbooks/pitr-restore.yaml, snapshot-restore.yaml; docs/restore.md): each into a NEW instance,
    # returning once it accepts connections; the result's keys are gameday.restore.models.RESTORE_RESULT_KEYS
    def restore_point_in_time(self, to: float | str = "latest", instance: str = "gameday-restore") -> dict[str, Any]: ...
    def restore_snapshot(self, snapshot: str = "latest", instance: str = "gameday-restore") -> dict[str, Any]: ...
    def verify_restore(self, instance: str = "gameday-restore") -> dict[str, Any]: ...  # {"instance", "dsn"}
    def swap_writer(self, instance: str = "gameday-restore") -> dict[str, Any]: ...
    def discard_restore(self, instance: str = "gameday-restore") -> dict[str, Any]: ...
    def return_primary_cache(self) -> dict[str, Any]: ...  # the Global Datastore failed back


@runtime_checkable
class Observation(Protocol):
    name: str

    def public_endpoint(self) -> str: ...
    def writer_dsn(self, region: str | None = None) -> str: ...
    def primary_dsn(self) -> str: ...
    def cache_url(self) -> str | None: ...  # the cache's primary endpoint (redis://), None: no cache
    def regions(self) -> tuple[str, str]: ...
    def status(self) -> EnvironmentStatus: ...
    def consumer_lag(self) -> dict[str, Any] | None:
        """The stream's consumer lag now (AWS: MSK's CloudWatch metrics of the environment's consumer group:
        ``max_offset_lag``, ``max_time_lag_s``, ``at``), None where the environment names none."""
        ...
    def backup_status(self) -> BackupStatus: ...  # latest restorable time, snapshots, restored instances
    def service(self) -> Service:
        """The team's data plane, resolved: what load, probes, heartbeat and reconciliation speak."""
        ...


@runtime_checkable
class Target(Faults, RunbookActions, Observation, Protocol):
    def check_stop_conditions(self) -> None:
        """Raise ``Aborted`` when a stop condition fires (checked before the fault and every step)."""
        ...

    def preflight(self, name: str, args: dict[str, Any]) -> None:
        """Before a run changes anything: raise ``ConfigError`` when fault ``name`` must not be applied here
        (on AWS: it would cut off the machine gameday runs on). A no-op where nothing can be refused."""
        ...

"""What a Target says about its backups and its restores, whichever driver filled it (the lab, AWS, the fake)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Snapshot", "BackupStatus", "RESTORE_RESULT_KEYS"]

# The keys of the dict ``restore_point_in_time`` and ``restore_snapshot`` return (docs/restore.md):
#   instance         the NEW instance's name
#   kind             "pitr" or "snapshot"
#   restore_point    epoch s: the instant the restored data reflects (the PITR target, the snapshot's time)
#   source           the base backup or snapshot it was restored from
#   source_taken_at  epoch s: when that backup or snapshot was taken (completed)
#   latest_restorable epoch s: the latest restorable time when the restore began (None: not known)
#   t_started, t_ready  epoch s: the restore call, and the new instance accepting connections
#   restore_s        t_ready - t_started
RESTORE_RESULT_KEYS = ("instance", "kind", "restore_point", "source", "source_taken_at", "latest_restorable",
                       "t_started", "t_ready", "restore_s")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Snapshot(_Frozen):
    """A base backup (the lab) or a DB snapshot (RDS): restorable as it was at ``t_taken``."""

    name: str
    t_taken: float  # epoch s, when it completed
    region: str | None = None
    kind: str = "automated"  # automated | manual (a pre-deploy snapshot) | copy (the cross-region copy)


class BackupStatus(_Frozen):
    """The restorable window and the snapshots, as measured at ``measured_at``."""

    measured_at: float
    latest_restorable: float | None = None  # epoch s: the latest point a point-in-time restore can reach
    earliest_restorable: float | None = None
    dr_latest_restorable: float | None = None  # the DR region's copy (the cross-region backup copy)
    snapshots: list[Snapshot] = []
    restored: list[str] = []  # restored instances that exist now (a run that left one: `gameday recover`)

    @property
    def lag_s(self) -> float | None:
        """How far the latest restorable time trails the measurement (RDS: typically up to 5 min)."""
        return None if self.latest_restorable is None else round(self.measured_at - self.latest_restorable, 3)

    def newest_snapshot(self, before: float | None = None) -> Snapshot | None:
        """The newest snapshot taken at or before ``before`` (any, when None)."""
        ok = [s for s in self.snapshots if before is None or s.t_taken <= before]
        return max(ok, key=lambda s: s.t_taken, default=None)

"""Which point to restore to, and from which backup: the choices every driver makes the same way."""

from __future__ import annotations

from gameday.errors import DriverError
from gameday.restore.models import BackupStatus, Snapshot

__all__ = ["resolve_to", "base_for", "snapshot_for", "BEFORE_FAULT_S"]

BEFORE_FAULT_S = 0.0  # "just before T0": T0 is taken before the fault's COMMIT, so T0 itself excludes it


def resolve_to(to: float | str, t_fault: float | None) -> float | str:
    """A runbook's ``to``: ``before_fault`` becomes T0 (from the journal, as the incident finder would establish
    it); ``latest`` and epoch seconds stay as they are."""
    if to == "before_fault":
        if t_fault is None:
            raise DriverError("restore to 'before_fault' needs a fault (T0) in this run")
        return round(float(t_fault) - BEFORE_FAULT_S, 6)
    return to


def base_for(status: BackupStatus, target: float | None) -> Snapshot:
    """The base backup a point-in-time restore to ``target`` starts from: the newest one completed at or before
    it (None: the newest). A target after the latest restorable time cannot be reached."""
    if target is not None and status.latest_restorable is not None and target > status.latest_restorable:
        raise DriverError(f"restore point {target:.3f} is after the latest restorable time "
                          f"{status.latest_restorable:.3f}")
    base = status.newest_snapshot(before=target)
    if base is None:
        raise DriverError("no base backup completed before the restore point" if target is not None
                          else "no base backup has been taken yet")
    return base


def snapshot_for(status: BackupStatus, name: str, before: float | None = None) -> Snapshot:
    """A snapshot by name, or ``latest``: the newest taken at or before ``before`` (T0 in a drill)."""
    if name == "latest":
        snap = status.newest_snapshot(before=before)
        if snap is None:
            raise DriverError("no snapshot was taken before the fault" if before else "no snapshot exists")
        return snap
    found = next((s for s in status.snapshots if s.name == name), None)
    if found is None:
        raise DriverError(f"no snapshot named {name!r}; there are: {', '.join(s.name for s in status.snapshots)}")
    return found

"""The fake Target's backups and restores (in memory): a data fault takes the newest rows away, a restore
makes a new "instance" of the rows written at or before its point, a swap makes it the writer's."""

from __future__ import annotations

import time
from typing import Any

from gameday.errors import DriverError
from gameday.restore.models import BackupStatus, Snapshot
from gameday.targets.base import FaultResult

__all__ = ["FakeRestores"]


class FakeRestores:
    """Mixed into ``FakeTarget``: ``rows`` is its primary's ``[(t_written, id)]``; ``archive_lag_s`` how far the
    latest restorable time trails now; ``lost_before`` drops rows written before it from every restore (a
    broken backup chain)."""

    rows: list[tuple[float, str]]
    archive_lag_s: float = 0.2
    lost_before: float | None = None
    t_first_backup: float = 0.0
    restored: dict[str, dict[str, Any]]

    def _call(self, name: str, **args: Any) -> None: ...  # FakeTarget's

    def _damage(self, name: str, max_rows: int) -> FaultResult:
        self._call(name, max_rows=max_rows)
        newest = sorted(self.rows)[-max_rows:]
        gone = {i for _, i in newest}
        self.rows = [r for r in self.rows if r[1] not in gone]
        return FaultResult(time.time(), {"damaged": len(gone), "sample": sorted(gone)[:50]})

    def corrupt_data(self, max_rows: int = 200) -> FaultResult:
        return self._damage("corrupt_data", max_rows)

    def delete_data(self, max_rows: int = 200) -> FaultResult:
        return self._damage("delete_data", max_rows)

    def _restore(self, kind: str, point: float, source: Snapshot, instance: str) -> dict[str, Any]:
        if instance in self.restored:
            raise DriverError(f"instance {instance!r} exists already")
        t0 = time.time()
        rows = [r for r in self._history if r[0] <= point and (self.lost_before is None or r[0] >= self.lost_before)]
        self.restored[instance] = {"rows": rows, "swapped": False}
        return {"instance": instance, "kind": kind, "restore_point": point, "source": source.name,
                "source_taken_at": source.t_taken, "latest_restorable": self.backup_status().latest_restorable,
                "t_started": t0, "t_ready": time.time(), "restore_s": round(time.time() - t0, 3)}

    @property
    def _history(self) -> list[tuple[float, str]]:
        return getattr(self, "written", self.rows)

    def restore_point_in_time(self, to: float | str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
        self._call("restore_point_in_time", to=to, instance=instance)
        st = self.backup_status()
        point = float(st.latest_restorable or 0.0) if to == "latest" else float(to)
        return self._restore("pitr", point, st.snapshots[0], instance)

    def restore_snapshot(self, snapshot: str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
        self._call("restore_snapshot", snapshot=snapshot, instance=instance)
        snap = self.backup_status().snapshots[0]
        return self._restore("snapshot", snap.t_taken, snap, instance)

    def verify_restore(self, instance: str = "gameday-restore") -> dict[str, Any]:
        self._call("verify_restore", instance=instance)
        if instance not in self.restored:
            raise DriverError(f"no restored instance {instance!r}")
        return {"instance": instance, "dsn": f"fake://restored/{instance}"}

    def swap_writer(self, instance: str = "gameday-restore") -> dict[str, Any]:
        self._call("swap_writer", instance=instance)
        self.restored[instance]["swapped"] = True
        self.rows = list(self.restored[instance]["rows"])
        return {"instance": instance, "t_swapped": time.time()}

    def discard_restore(self, instance: str = "gameday-restore") -> dict[str, Any]:
        self._call("discard_restore", instance=instance)
        gone = self.restored.pop(instance, None)
        return {"instance": instance, "deleted": gone is not None}

    def backup_status(self) -> BackupStatus:
        now = time.time()
        return BackupStatus(measured_at=now, latest_restorable=now - self.archive_lag_s,
                            snapshots=[Snapshot(name="fake-base", t_taken=self.t_first_backup)],
                            restored=sorted(self.restored))

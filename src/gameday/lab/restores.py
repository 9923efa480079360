"""The lab's restore operations (the control API's ``restore_point_in_time``, ``restore_snapshot``,
``verify_restore``, ``swap_writer``, ``discard_restore``): functions of the whole lab."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from gameday.lab import postgres as pg
from gameday.lab.restore import restore
from gameday.lab.restored import pg_time
from gameday.restore.models import Snapshot
from gameday.restore.point import base_for, snapshot_for

if TYPE_CHECKING:
    from gameday.lab.lab import Lab

__all__ = ["restore_point_in_time", "restore_snapshot", "verify_restore", "swap_writer", "discard_restore"]


async def restore_point_in_time(lab: Lab, to: float | str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
    """A NEW instance from the newest base backup before ``to``, the archive replayed up to ``to`` ("latest":
    all of it, the restore point being the latest restorable time when it began)."""
    b, timeout = lab.backups, lab.settings.backups.restore_timeout_s
    t_started = time.time()
    db = lab.restored.new(instance)
    await b.wait_snapshot(timeout)
    target = None if to == "latest" else float(to)
    if target is not None:
        await b.wait_restorable(target, timeout)
    status = b.status(list(lab.restored.all))
    base = base_for(status, target)
    point = target if target is not None else max(status.latest_restorable or 0.0, base.t_taken)  # at least the base
    await asyncio.to_thread(pg.copy_backup, b.base_dir() / base.name, db.datadir)
    pg.recovery_settings(db.datadir, archive=b.wal_dir(), target_time=None if target is None else pg_time(target))
    return await _started(lab, db, "pitr", point, base, status.latest_restorable, t_started)


async def restore_snapshot(lab: Lab, snapshot: str = "latest", instance: str = "gameday-restore") -> dict[str, Any]:
    """A NEW instance as the snapshot was when it was taken (no archive replayed)."""
    b = lab.backups
    t_started = time.time()
    db = lab.restored.new(instance)
    await b.wait_snapshot(lab.settings.backups.restore_timeout_s)
    status = b.status(list(lab.restored.all))
    snap = snapshot_for(status, snapshot)
    await asyncio.to_thread(pg.copy_backup, b.base_dir() / snap.name, db.datadir)
    pg.recovery_settings(db.datadir, archive=None, target_time=None)
    return await _started(lab, db, "snapshot", snap.t_taken, snap, status.latest_restorable, t_started)


async def _started(lab: Lab, db: Any, kind: str, point: float | None, source: Snapshot, latest: float | None,
                   t_started: float) -> dict[str, Any]:
    try:
        await lab.restored.start(db, lab.settings.backups.restore_timeout_s)
    except Exception:
        await lab.restored.delete(db.name)  # a failed restore leaves no instance behind
        raise
    t_ready = time.time()
    out = {"instance": db.name, "kind": kind, "restore_point": point, "source": source.name,
           "source_taken_at": source.t_taken, "latest_restorable": latest, "t_started": t_started,
           "t_ready": t_ready, "restore_s": round(t_ready - t_started, 3), "port": db.port}
    lab.restored.all[db.name].result = out
    lab.record("restore.instance_ready", out)
    return out


async def verify_restore(lab: Lab, instance: str = "gameday-restore") -> dict[str, Any]:
    r = lab.restored.get(instance)
    return {**r.result, "instance": instance, "port": r.db.port, "swapped": r.swapped}


async def swap_writer(lab: Lab, instance: str = "gameday-restore") -> dict[str, Any]:
    """The primary region's writer endpoint now leads to the restored instance; open connections are cut."""
    r = lab.restored.get(instance)
    writer = lab.writers[lab.shape.primary_region]
    lab.rds.paused = True  # the Multi-AZ automation watches the old primary, which no longer takes the writes
    writer.route = lambda: r.db.port
    writer.drop_all()
    lab.link.cut()  # the DR replica followed the old instance; it cannot follow a new timeline (restore rebuilds it)
    r.swapped = True
    out = {"instance": instance, "t_swapped": time.time(), "port": r.db.port}
    lab.record("action.swap_writer", out)
    return out


async def discard_restore(lab: Lab, instance: str = "gameday-restore") -> dict[str, Any]:
    """Delete the restored instance; one the writer was swapped to first hands the writes back (the configured
    primary rebuilt from it, a planned switchover: nothing it acknowledged is lost), then a fresh snapshot."""
    r = lab.restored.all.get(instance)
    if r is not None and r.swapped:
        out = await restore(lab)  # the lab's shape, from the instance holding the writes (deletes every restore)
        snap = await lab.backups.take_snapshot()
        return {"instance": instance, "deleted": True, "handed_back": True, "snapshot": snap.name, **out}
    deleted = await lab.restored.delete(instance)
    lab.record("restore.instance_deleted", {"instance": instance, "existed": deleted})
    return {"instance": instance, "deleted": deleted}


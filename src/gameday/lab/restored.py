"""The lab's restored instances: each a NEW PostgreSQL instance made from a backup, as RDS restores do.

A restore copies a base backup into ``pg/<instance>``, sets it to replay the archive (to a time, or all of
it) or to come up as the snapshot was, starts it and waits until it is promoted (a writable primary on its
own timeline, not archiving). Deleting one stops its process and removes its folder; ``lab down`` and the
lab's ``restore`` delete every one, so no extra instance outlives a run.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gameday.lab.database import DbInstance
from gameday.lab.topology import DbSpec

__all__ = ["Restored", "RestoredInstances", "pg_time"]


def pg_time(t: float) -> str:
    """Epoch seconds as a PostgreSQL timestamp (UTC, microseconds): a recovery_target_time."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


@dataclass
class Restored:
    db: DbInstance
    result: dict[str, Any] = field(default_factory=dict)
    swapped: bool = False


class RestoredInstances:
    def __init__(self, root: Path, region: str, zone: str) -> None:
        self.root, self.region, self.zone = root, region, zone
        self.all: dict[str, Restored] = {}

    def swapped(self) -> Restored | None:
        return next((r for r in self.all.values() if r.swapped), None)

    def get(self, name: str) -> Restored:
        if name not in self.all:
            raise ValueError(f"no restored instance {name!r}; there are: {', '.join(self.all) or 'none'}")
        return self.all[name]

    def new(self, name: str) -> DbInstance:
        if name in self.all:
            raise ValueError(f"a restored instance {name!r} exists already (discard_restore deletes it)")
        spec = DbSpec(name=name, region=self.region, zone=self.zone, role="restored")
        return DbInstance(spec, self.root / "pg" / name, self.root / f"{name}.log")

    async def start(self, db: DbInstance, timeout: float) -> None:
        """Start the copied backup; return once it has finished recovery and accepts writes."""
        self.all[db.name] = Restored(db)
        await db.start()
        deadline = time.monotonic() + timeout
        while await db.in_recovery() is not False:
            if db.proc is not None and db.proc.poll() is not None:
                raise RuntimeError(f"the restored instance {db.name} stopped during recovery: {_tail(db.log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the restored instance {db.name} was not promoted within {timeout:.0f} s")
            await asyncio.sleep(0.1)

    async def delete(self, name: str) -> bool:
        """Stop and remove ``name`` (False: there was none, nothing to do)."""
        found = self.all.pop(name, None)
        db = found.db if found is not None else self.new(name)
        await db.stop_clean(timeout=5)
        db.kill()
        existed = found is not None or db.datadir.exists()
        await asyncio.to_thread(shutil.rmtree, db.datadir, True)
        return existed

    async def delete_all(self) -> list[str]:
        names = list(self.all)
        for name in names:
            await self.delete(name)
        return names

    def pids(self) -> list[int]:
        return [r.db.pid for r in self.all.values() if r.db.pid is not None]

    def rows(self) -> list[dict[str, Any]]:
        return [{"name": n, "port": r.db.port, "pid": r.db.pid, "swapped": r.swapped,
                 "restore_point": r.result.get("restore_point"), "kind": r.result.get("kind")}
                for n, r in self.all.items()]


def _tail(log: Path) -> str:
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if "FATAL" in ln or "ERROR" in ln]
    except OSError:
        return "(no log)"
    return (lines[-1] if lines else "(see " + str(log) + ")")[-300:]

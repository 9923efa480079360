"""The lab's RDS backups: continuous WAL archiving, scheduled base backups kept as snapshots, the DR copy.

The primary archives every completed WAL segment (1 MB, at least every ``archive_timeout_s``) into the
primary region's backup folder (``backups/<region>/wal``: its "S3 bucket"); base backups (``pg_basebackup``,
plain, WAL and a manifest included, checked by ``pg_verifybackup`` before it is kept) go to
``backups/<region>/base/<snapshot>``, one at lab start and then every
``base_backup_every_s``, the newest ``keep_snapshots`` kept. A copier mirrors both into the DR region's folder
every ``dr_copy_every_s`` (the cross-region backup copy). The latest restorable time is measured from the
bucket itself: the time the newest complete segment landed there.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gameday.config import BackupSettings
from gameday.lab import postgres as pg
from gameday.restore.models import BackupStatus, Snapshot

__all__ = ["Backups", "SEGMENT"]

SEGMENT = re.compile(r"^[0-9A-F]{24}$")  # a complete WAL segment's file name (not .partial, .history, .backup)


class Backups:
    def __init__(self, settings: BackupSettings, root: Path, regions: tuple[str, str],
                 primary_port: Callable[[], int | None], record: Callable[[str, dict[str, Any]], None]) -> None:
        self.settings = settings
        self.root = root / "backups"
        self.primary_region, self.dr_region = regions
        self.primary_port = primary_port
        self.record = record
        self.snapshots: list[Snapshot] = []
        self.errors = 0

    def wal_dir(self, region: str | None = None) -> Path:
        return self.root / (region or self.primary_region) / "wal"

    def base_dir(self, region: str | None = None) -> Path:
        return self.root / (region or self.primary_region) / "base"

    def prepare(self) -> None:
        """Empty folders for a new lab (its database is new: older backups restore nothing of it)."""
        shutil.rmtree(self.root, ignore_errors=True)
        for region in (self.primary_region, self.dr_region):
            for d in (self.root, self.root / region, self.wal_dir(region), self.base_dir(region)):
                pg.make_dir(d)

    async def run(self) -> None:
        """The schedules: a base backup now and every ``base_backup_every_s``; the DR copy."""
        s = self.settings
        next_base, next_copy = 0.0, time.monotonic() + s.dr_copy_every_s
        while True:
            now = time.monotonic()
            if now >= next_base:
                next_base = now + (s.base_backup_every_s if await self._scheduled() else 2.0)
            if now >= next_copy:
                next_copy = now + s.dr_copy_every_s
                await asyncio.to_thread(self.copy_to_dr)
            await asyncio.sleep(0.5)

    async def _scheduled(self) -> bool:
        try:
            await self.take_snapshot()
            return True
        except Exception as exc:  # noqa: BLE001 - a failed backup is recorded; the schedule retries soon
            self.errors += 1
            self.record("backup.failed", {"error": f"{type(exc).__name__}: {str(exc)[:300]}"})
            return False

    async def take_snapshot(self, kind: str = "automated") -> Snapshot:
        port = self.primary_port()
        if port is None:
            raise RuntimeError("no primary to back up")
        name = "snap-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")[:-3]
        tmp = self.base_dir() / f".{name}"
        await asyncio.to_thread(pg.snapshot_backup, tmp, port)
        try:  # pg_verifybackup: every file against the backup's manifest, its WAL parsed; a bad one is not kept
            await asyncio.to_thread(pg.verify_backup, tmp)
        except Exception:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        tmp.rename(self.base_dir() / name)
        snap = Snapshot(name=name, t_taken=time.time(), region=self.primary_region, kind=kind)
        self.snapshots.append(snap)
        for old in self.snapshots[:-self.settings.keep_snapshots]:
            shutil.rmtree(self.base_dir() / old.name, ignore_errors=True)
        self.snapshots = self.snapshots[-self.settings.keep_snapshots:]
        self.record("backup.snapshot", {"name": name, "t_taken": snap.t_taken, "kind": kind})
        return snap

    def copy_to_dr(self) -> int:
        """Mirror new segments and snapshots into the DR region's folder (mtimes kept); how many files."""
        copied = 0
        dr_wal = self.wal_dir(self.dr_region)
        for f in self.wal_dir().iterdir():
            if not (dr_wal / f.name).exists():
                shutil.copy2(f, dr_wal / f.name)
                copied += 1
        for snap in self.snapshots:
            dest = self.base_dir(self.dr_region) / snap.name
            if not dest.exists():
                shutil.copytree(self.base_dir() / snap.name, dest)
                copied += 1
        return copied

    def latest_restorable(self, region: str | None = None) -> float | None:
        """When the newest complete WAL segment landed in the region's bucket: every commit before it can be
        restored (None: nothing archived yet)."""
        times = [f.stat().st_mtime for f in self.wal_dir(region).iterdir() if SEGMENT.match(f.name)]
        return max(times, default=None)

    def status(self, restored: list[str]) -> BackupStatus:
        return BackupStatus(measured_at=time.time(), latest_restorable=self.latest_restorable(),
                            earliest_restorable=min((s.t_taken for s in self.snapshots), default=None),
                            dr_latest_restorable=self.latest_restorable(self.dr_region),
                            snapshots=list(self.snapshots), restored=restored)

    async def wait_restorable(self, t: float, timeout: float) -> float:
        """Until the latest restorable time reaches ``t`` (a segment holding it is archived); the time it did."""
        deadline = time.monotonic() + timeout
        while True:
            latest = self.latest_restorable()
            if latest is not None and latest >= t:
                return latest
            if time.monotonic() > deadline:
                raise ValueError(f"the latest restorable time did not reach {t:.3f} within {timeout:.0f} s "
                                 f"(it is {latest})")
            await asyncio.sleep(0.1)

    async def wait_snapshot(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.snapshots:
            if time.monotonic() > deadline:
                raise ValueError(f"no base backup was taken within {timeout:.0f} s")
            await asyncio.sleep(0.1)

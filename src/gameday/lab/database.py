"""The lab's RDS: PostgreSQL instances, writer endpoints, and the Multi-AZ controller.

The controller emulates RDS automation: it checks the primary, and after enough consecutive
failures promotes the synchronous standby and flips the region's writer endpoint; when the
synchronous standby is lost it drops the primary to asynchronous so COMMITs keep working.
"""

from __future__ import annotations

import asyncio
import signal
import struct
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from gameday.config import RdsSettings
from gameday.lab import postgres as pg
from gameday.lab.network import Relay
from gameday.lab.topology import DbSpec
from gameday.procs import free_port, kill_tree, kill_trees, signal_tree

__all__ = ["DbInstance", "Prober", "RdsController", "replication_of"]


@dataclass
class DbInstance:
    spec: DbSpec
    datadir: Path
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    state: str = "stopped"  # running | frozen | killed | stopped
    fenced: bool = False  # a former primary no endpoint points to, awaiting rebuild
    upstream_port: int | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    async def start(self) -> None:
        if not self.port:
            self.port = free_port()
        self.proc = pg.start_server(self.datadir, self.port, self.log)
        self.state = "running"
        await self.wait_ready()

    async def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited during start-up; see {self.log}")
            try:
                conn = await psycopg.AsyncConnection.connect(
                    host="127.0.0.1", port=self.port, user=pg.PG_USER, dbname="postgres", connect_timeout=1)
                await conn.close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not accept connections within {timeout:.0f} s") from None
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        if self.pid is not None:
            kill_trees([self.pid], timeout=0)  # called from the event loop: signal, do not wait
        self.state = "killed"

    def freeze(self) -> None:
        if self.pid is not None:
            signal_tree(self.pid, signal.SIGSTOP)
            self.state = "frozen"

    def thaw(self) -> None:
        if self.pid is not None and self.state == "frozen":
            signal_tree(self.pid, signal.SIGCONT)
            self.state = "running"

    async def stop_clean(self, timeout: float = 20.0) -> None:
        """Fast shutdown: connected standbys receive all WAL before the server exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.to_thread(self.proc.wait, timeout)
            except subprocess.TimeoutExpired:
                await asyncio.to_thread(kill_tree, self.proc.pid)
        self.state = "stopped"

    async def rebuild_as_standby(self, *, source_port: int, upstream_port: int) -> None:
        """Throw this instance's data away and re-seed it from ``source_port`` as a standby."""
        if self.pid is not None:  # not yet reaped, so the pid is still ours
            await asyncio.to_thread(kill_tree, self.pid)  # the old server must be gone from its files
        await asyncio.to_thread(pg.base_backup, self.datadir, source_port=source_port,
                                upstream_port=upstream_port, instance=self.name)
        self.fenced = False
        self.upstream_port = upstream_port
        await self.start()

    async def query(self, sql: str, timeout: float = 1.0) -> list[tuple[object, ...]]:
        conn = await asyncio.wait_for(psycopg.AsyncConnection.connect(
            host="127.0.0.1", port=self.port, user=pg.PG_USER, dbname="postgres", connect_timeout=1,
            autocommit=True), timeout)
        try:
            cur = await asyncio.wait_for(conn.execute(sql), timeout)
            return await cur.fetchall()
        finally:
            await conn.close()

    async def in_recovery(self) -> bool | None:
        """True for a standby, False for a primary, None when it does not answer."""
        return (await self.look())[0]

    async def look(self) -> tuple[bool | None, dict[str, int] | None]:
        """(in recovery, connections) in one control-plane connection; (None, None) when it does not answer.

        Connections are client backends (walsenders have their own slots): ``in_use`` all of them, ``app``
        the application's, ``max`` max_connections, ``reserved`` the control plane's slots, ``app_max`` what
        the application can have (max - reserved)."""
        if self.state != "running":
            return None, None
        try:
            rows = await self.query(_LOOK_SQL)
        except (TimeoutError, OSError, psycopg.Error):
            return None, None
        in_use, app, mx, reserved = (int(str(v)) for v in rows[0][1:])
        conns = {"in_use": in_use, "app": app, "max": mx, "reserved": reserved, "app_max": mx - reserved}
        return bool(rows[0][0]), conns


_LOOK_SQL = (
    "SELECT pg_is_in_recovery(), count(*) FILTER (WHERE backend_type = 'client backend'), "
    f"count(*) FILTER (WHERE backend_type = 'client backend' AND usename = '{pg.APP_USER}'), "
    "current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int "
    "+ current_setting('reserved_connections')::int FROM pg_stat_activity")


class Prober:
    """Answers 'is the postmaster on this port alive' within a hard timeout.

    Written by hand rather than with psycopg: a query cancelled by a timeout makes psycopg send a
    cancel request and wait for it, which hangs on a frozen (SIGSTOPped) server. An SSLRequest
    packet is answered by the postmaster itself ('S' or 'N'), and a frozen one answers nothing.
    """

    _SSL_REQUEST = struct.pack("!ii", 8, 80877103)

    def __init__(self, port_of: Callable[[], int], timeout: float) -> None:
        self.port_of = port_of
        self.timeout = timeout

    async def check(self) -> bool:
        writer = None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port_of()), self.timeout)
            writer.write(self._SSL_REQUEST)
            answer = await asyncio.wait_for(reader.read(1), self.timeout)
            return answer in (b"S", b"N")
        except (TimeoutError, OSError):
            return False
        finally:
            if writer is not None:
                writer.transport.abort()


@dataclass
class RdsController:
    """Multi-AZ automation for one region: a primary, an optional sync standby, a writer endpoint."""

    settings: RdsSettings
    writer: Relay
    primary: DbInstance
    standby: DbInstance | None
    record: Callable[[str, dict[str, object]], None]
    paused: bool = False
    failures: int = 0
    standby_lost_since: float | None = None
    sync_enabled: bool = True
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.writer.route = lambda: self.primary.port
        self._task = asyncio.ensure_future(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        s = self.settings
        primary_probe = Prober(lambda: self.primary.port, timeout=max(s.check_interval_s, 0.3))
        standby_probe = Prober(lambda: self.standby.port if self.standby else 0, timeout=max(s.check_interval_s, 0.3))
        while True:
            await asyncio.sleep(s.check_interval_s)
            if self.paused:
                self.failures = 0
                continue
            try:
                await self._tick(primary_probe, standby_probe)
            except Exception as exc:  # noqa: BLE001 - the controller must outlive any single failure
                self.record("rds.error", {"error": f"{type(exc).__name__}: {exc}"})

    async def _tick(self, primary_probe: Prober, standby_probe: Prober) -> None:
        s = self.settings
        if await primary_probe.check():
            self.failures = 0
        else:
            self.failures += 1
            if self.failures == 1:
                self.record("rds.primary_check_failed", {"instance": self.primary.name})
            if self.failures >= s.failures_to_detect:
                await self.fail_over()
                return
        if self.standby is None or not self.sync_enabled:
            return
        if await standby_probe.check():
            self.standby_lost_since = None
            return
        now = time.monotonic()
        self.standby_lost_since = self.standby_lost_since or now
        if now - self.standby_lost_since >= s.standby_loss_s:
            await asyncio.to_thread(pg.set_sync_standby, self.primary.port, None)
            self.sync_enabled = False
            self.record("rds.sync_dropped", {"primary": self.primary.name, "lost_standby": self.standby.name})

    async def fail_over(self) -> None:
        """Promote the standby, fence the old primary, point the writer endpoint at the new one."""
        old, new = self.primary, self.standby
        self.failures = 0
        if new is None or new.state != "running" or await new.in_recovery() is not True:
            self.record("rds.failover_impossible", {"primary": old.name, "reason": "no healthy standby"})
            return
        self.record("rds.failover_started", {"from": old.name, "to": new.name})
        await asyncio.sleep(self.settings.promote_delay_s)
        self.writer.route = lambda: None  # refuse new connections during the flip
        self.writer.drop_all()
        await asyncio.to_thread(pg.promote, new.port)
        old.fenced = True
        self.primary, self.standby = new, old
        self.sync_enabled = False  # the fenced old primary is no standby until it is rebuilt
        self.writer.route = lambda: self.primary.port
        self.record("rds.failover_completed", {"primary": new.name, "fenced": old.name})

    def adopt(self, primary: DbInstance, standby: DbInstance | None, sync: bool) -> None:
        """After a restore: the given instances are the region's primary and sync standby."""
        self.primary, self.standby = primary, standby
        self.sync_enabled = sync
        self.failures = 0
        self.standby_lost_since = None
        self.writer.route = lambda: self.primary.port


async def replication_of(dbs: Iterable[DbInstance]) -> list[dict[str, Any]]:
    """Standbys as their upstream primaries see them (pg_stat_replication), with byte lag."""
    rows: list[dict[str, Any]] = []
    for db in dbs:
        if await db.in_recovery() is not False:
            continue
        try:
            res = await db.query(
                "SELECT application_name, state, sync_state, "
                "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
                "extract(epoch FROM replay_lag)::float8 FROM pg_stat_replication")
        except Exception:  # noqa: BLE001 - a primary that stops answering has no standbys to list
            continue
        for app, state, sync, lag_b, lag_s in res:
            rows.append({"standby": str(app).replace("_", "-"), "upstream": db.name, "state": state,
                         "sync_state": sync, "lag_bytes": lag_b, "replay_lag_s": lag_s})
    return rows

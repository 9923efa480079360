"""The SQL side of a drill, as the service description says: the heartbeat table (created if missing,
schema too) and the question "which of these ids are present?" asked with the team's own query."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import psycopg
from psycopg import sql

from gameday.journal import Journal
from gameday.service.heartbeat import ensure_heartbeat_table, table_ident
from gameday.service.resolved import Service
from gameday.targets.base import Observation

__all__ = ["Heartbeat", "ensure_heartbeat_table", "present_ids", "heartbeat_stats", "heartbeat_seqs", "heartbeat_dsn",
           "holding_dsn"]


_table = table_ident


def heartbeat_dsn(service: Service, target: Observation, region: str | None = None) -> str:
    """Where the heartbeat commits: ``region``'s writer (default: the primary region's; a failback's is the DR
    region's, where the writer is when it starts): ``service.store.dsn``'s entry for it, the one DSN that
    follows the writer, or the Target's writer endpoint of that region."""
    region = region or target.regions()[0]
    return service.store_dsn_for(region) or target.writer_dsn(region)


def holding_dsn(service: Service, target: Observation) -> str:
    """The database holding the writes now, which reconciliation reads: a single ``service.store.dsn`` (it
    follows the writer, as an Aurora global writer endpoint does); per region, the writer's region's (the
    DR region's once promoted); else the Target's current primary."""
    if isinstance(service.store_dsn, str):
        return service.store_dsn
    if isinstance(service.store_dsn, dict):
        st = target.status()
        region = st.writer_region or (st.dr_region if st.dr_promoted else st.primary_region)
        dsn = service.store_dsn_for(region)
        if dsn:
            return dsn
    return target.primary_dsn()


def heartbeat_stats(conn: psycopg.Connection, table: str, run_id: str) -> tuple[int | None, float | None, int]:
    """(last seq, last ts, count) of a run's heartbeats present in this database."""
    try:
        row = conn.execute(sql.SQL("SELECT max(seq), max(ts), count(*) FROM {} WHERE run_id = %s").format(_table(table)),
                           (run_id,)).fetchone()
    except psycopg.errors.UndefinedTable:
        return None, None, 0
    return (row[0], row[1], row[2]) if row else (None, None, 0)


def heartbeat_seqs(conn: psycopg.Connection, table: str, run_id: str) -> list[int]:
    """Every seq of a run's heartbeats present in this database (RPO is measured by their gaps)."""
    try:
        rows = conn.execute(sql.SQL("SELECT seq FROM {} WHERE run_id = %s ORDER BY seq").format(_table(table)),
                            (run_id,)).fetchall()
    except psycopg.errors.UndefinedTable:
        return []
    return [int(r[0]) for r in rows]


def present_ids(conn: psycopg.Connection, query: str, ids: Iterable[str]) -> set[str]:
    """The ids the team's ``present_query`` finds (first column), asked in chunks."""
    ordered = sorted(ids)
    found: set[str] = set()
    for i in range(0, len(ordered), 20_000):
        rows = conn.execute(query, {"ids": ordered[i:i + 20_000]}).fetchall()
        found.update(str(r[0]) for r in rows)
    return found


class Heartbeat:
    """Commits (run_id, seq, ts) every ``interval_s`` into ``table`` through the primary region's writer;
    journals each ack, and the first failure (a heartbeat that cannot be written is never silent)."""

    def __init__(self, *, dsn: str, table: str, run_id: str, journal: Journal, interval_s: float,
                 max_s: float) -> None:
        self.dsn, self.table, self.run_id, self.journal = dsn, table, run_id, journal
        self.interval_s, self.max_s = interval_s, max_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._reported = False
        self.last_ack_ts: float | None = None  # the last heartbeat the primary acknowledged

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=1)
        ensure_heartbeat_table(conn, self.table)
        return conn

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_s
        conn: psycopg.Connection | None = None
        insert = sql.SQL("INSERT INTO {} (run_id, seq, ts) VALUES (%s, %s, %s)").format(_table(self.table))
        seq = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            seq += 1
            ts = time.time()
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                conn.execute(insert, (self.run_id, seq, ts))
                self.last_ack_ts = ts
                self.journal.record("heartbeat.ack", "heartbeat", {"seq": seq, "ts": ts})
            except psycopg.Error as exc:
                self._report(exc)
                if conn is not None:
                    conn.close()
                conn = None
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))
        if conn is not None:
            conn.close()

    def _report(self, exc: psycopg.Error) -> None:
        if not self._reported:  # once: an outage fails every heartbeat, the journal needs the first
            self._reported = True
            self.journal.record("heartbeat.failed", "heartbeat", {"table": self.table},
                                error=f"{type(exc).__name__}: {str(exc).strip()[:200]}")

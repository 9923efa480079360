"""A stand-in for the databases RDS restores, for restore drills against the moto server (moto runs no
database). Every instance gameday restores carries ``gameday:restore-of`` and ``gameday:restore-point``; for
each one that appears in moto, a database of the same name is made in the local PostgreSQL (dropped once the
instance is deleted) holding the rows of ``events`` committed at or before the restore point, as a
point-in-time restore replays them: they are read from ``events_wal``, which a trigger fills on every insert
(the write-ahead log), so a corruption after the point does not reach the restored copy. The environment
reaches it through ``aws.rds.restored_dsn`` (``dbname={instance}``). Loopback only; the watcher stops with the
test, and after ``max_s`` in any case."""

from __future__ import annotations

import threading
import time

import boto3
import psycopg
from psycopg import sql

SCHEMA = """
DROP TABLE IF EXISTS events CASCADE;
DROP TABLE IF EXISTS events_wal;
CREATE TABLE events (id text PRIMARY KEY, payload text DEFAULT 'x',
                     t double precision DEFAULT extract(epoch FROM clock_timestamp()));
CREATE TABLE events_wal (id text, payload text, t double precision);
CREATE OR REPLACE FUNCTION events_wal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO events_wal VALUES (NEW.id, NEW.payload, NEW.t); RETURN NEW; END $$;
CREATE TRIGGER events_wal AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_wal();
"""


def restored_dsn(dsn: str) -> str:
    """``aws.rds.restored_dsn``: the restored instance's database on the local server."""
    return dsn.replace("dbname=postgres", "dbname={instance}")


class RestoredStandIn:
    def __init__(self, dsn: str, *, max_s: float = 120.0) -> None:
        self.dsn, self.max_s = dsn, max_s
        self.made: dict[str, float] = {}  # instance -> the restore point its database reflects (while it exists)
        self.history: list[tuple[str, float, set[str]]] = []  # every restore: instance, point, the ids it held
        self.lose = 0  # the newest rows by the restore point the next restores leave out: a lost WAL segment
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(SCHEMA)
        self._rds = boto3.client("rds", region_name="us-east-1")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> RestoredStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _watch(self) -> None:
        end = time.monotonic() + self.max_s
        while not self._stop.wait(0.1) and time.monotonic() < end:
            try:
                found = self._rds.describe_db_instances()["DBInstances"]
            except Exception:  # noqa: BLE001 - moto going away at the end of a test
                return
            for gone in set(self.made) - {i["DBInstanceIdentifier"] for i in found}:
                self._drop(gone)  # deleted in moto: its database goes too (a later restore of the name is new)
            for inst in found:
                tags = {t["Key"]: t["Value"] for t in inst.get("TagList", [])}
                name = inst["DBInstanceIdentifier"]
                point = tags.get("gameday:restore-point")
                if "gameday:restore-of" in tags and point and self.made.get(name) != float(point):
                    self._restore(name, float(point))

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        del self.made[name]

    def _restore(self, name: str, point: float) -> None:
        """Made under another name and renamed once filled: a connection to it finds it whole or not at all."""
        building = f"{name}-building"
        with psycopg.connect(self.dsn, autocommit=True) as c:
            rows = c.execute("SELECT id, payload, t FROM events_wal WHERE t <= %s ORDER BY t DESC OFFSET %s",
                             (point, self.lose)).fetchall()
            for db in (name, building):
                c.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(db)))
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(building)))
        with psycopg.connect(restored_dsn(self.dsn).format(instance=building), autocommit=True) as c:
            c.execute("CREATE TABLE events (id text PRIMARY KEY, payload text, t double precision)")
            with c.cursor().copy("COPY events (id, payload, t) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        with psycopg.connect(self.dsn, autocommit=True) as c:
            c.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building), sql.Identifier(name)))
        self.made[name] = point
        self.history.append((name, point, {str(r[0]) for r in rows}))

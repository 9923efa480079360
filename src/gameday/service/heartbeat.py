"""The heartbeat table in the team's database (``service.heartbeat_table``): created if missing, a marker
row written through a writer, a marker looked for on another database. The drill's heartbeat and the
AWS driver's checks ("the new writer accepts a write", "the replica has caught up") share it."""

from __future__ import annotations

import psycopg
from psycopg import sql

__all__ = ["table_ident", "ensure_heartbeat_table", "write_marker", "marker_present"]


def table_ident(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split("."))


def ensure_heartbeat_table(conn: psycopg.Connection, table: str) -> None:
    if "." in table:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(table.split(".")[0])))
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (run_id text NOT NULL, seq bigint NOT NULL, "
                         "ts double precision NOT NULL, PRIMARY KEY (run_id, seq))").format(table_ident(table)))


def write_marker(dsn: str, table: str, run_id: str, seq: int, ts: float) -> str | None:
    """Commit one heartbeat row through ``dsn``; None when committed, else why not (a replica refuses)."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            ensure_heartbeat_table(conn, table)
            conn.execute(sql.SQL("INSERT INTO {} (run_id, seq, ts) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING")
                         .format(table_ident(table)), (run_id, seq, ts))
        return None
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {str(exc).strip()[:160]}"


def marker_present(dsn: str, table: str, run_id: str, seq: int) -> bool:
    """Whether the row (run_id, seq) is on the database behind ``dsn`` (False while unreachable)."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute(sql.SQL("SELECT 1 FROM {} WHERE run_id = %s AND seq = %s").format(table_ident(table)),
                               (run_id, seq)).fetchone()
        return row is not None
    except psycopg.Error:
        return False

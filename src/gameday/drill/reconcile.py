"""Reconcile the acknowledged-event ledger and the heartbeats against the new primary (Jepsen style)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from gameday.drill.workload import LEDGER_ACKED, LEDGER_FAILED, LEDGER_INDETERMINATE

__all__ = ["read_ledger", "reconcile"]


def read_ledger(path: Path) -> dict[str, set[str]]:
    """Event ids by outcome: acked, failed (a definite error), indeterminate (no answer, or 504).

    Lines are ``a|f|i <id>`` (the drill's built-in writer) or ``R <a|f|i> <prefix> <width> <first> <count>``.
    """
    out: dict[str, set[str]] = {LEDGER_ACKED: set(), LEDGER_FAILED: set(), LEDGER_INDETERMINATE: set()}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("R "):  # a run of ids from the Locust engine
                _, mark, prefix, width, first, count = line.split()
                out[mark].update(f"{prefix}-{n:0{int(width)}d}" for n in range(int(first), int(first) + int(count)))
                continue
            mark, _, eid = line.partition(" ")
            if mark in out and eid:
                out[mark].add(eid)
    return out


def _present(conn: psycopg.Connection, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), 20_000):
        rows = conn.execute("SELECT event_id FROM trips WHERE event_id = ANY(%s)", (ids[i:i + 20_000],)).fetchall()
        found.update(r[0] for r in rows)
    return found


def reconcile(dsn: str, ledger: Path, run_id: str) -> dict[str, Any]:
    """Counts of lost / present / unexpected / indeterminate events and the last heartbeat present."""
    book = read_ledger(ledger)
    acked, failed, indet = book[LEDGER_ACKED], book[LEDGER_FAILED], book[LEDGER_INDETERMINATE]
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        present = _present(conn, sorted(acked | failed | indet))
        hb = conn.execute("SELECT max(seq), max(ts), count(*) FROM heartbeats WHERE run_id = %s", (run_id,)).fetchone()
    lost = sorted(acked - present)
    return {
        "events_acked": len(acked), "events_present": len(acked & present), "events_lost": len(lost),
        "events_unexpected": len(failed & present), "events_indeterminate": len(indet),
        "indeterminate_present": len(indet & present), "lost_sample": lost[:20],
        "last_present_heartbeat_seq": hb[0] if hb else None, "last_present_heartbeat_ts": hb[1] if hb else None,
        "heartbeats_present": hb[2] if hb else 0,
    }

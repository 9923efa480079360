"""Reconcile the ledger and the heartbeats against the database that holds the writes now, Jepsen style,
with the team's own ``present_query`` (``service.store``)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

from gameday.drill.store import heartbeat_seqs, heartbeat_stats, present_ids
from gameday.judge.rpo import seq_ranges
from gameday.service.ids import ACKED, FAILED, INDETERMINATE, ack_times, read_ledger
from gameday.service.resolved import Service

__all__ = ["reconcile", "heartbeat_only"]


def _settled(conn: psycopg.Connection, query: str, ids: set[str], settle_s: float) -> set[str]:
    """Present ids; with ``settle_s``, asked again until no new id appears (an async pipeline catching up)."""
    found = present_ids(conn, query, ids)
    deadline = time.monotonic() + settle_s
    while settle_s > 0 and time.monotonic() < deadline and len(found) < len(ids):
        time.sleep(min(1.0, settle_s / 5))
        again = present_ids(conn, query, ids)
        if len(again) == len(found):
            break
        found = again
    return found


def reconcile(dsn: str, ledger: Path, run_id: str, *, service: Service, t_fault: float | None) -> dict[str, Any]:
    """Counts of lost / present / unexpected / indeterminate events, the last heartbeat present, and when the
    lost events had been acknowledged (the ledger's share of the RPO)."""
    book = read_ledger(ledger)
    acked, failed, indet = book[ACKED], book[FAILED], book[INDETERMINATE]
    store = service.spec.store
    table = service.spec.heartbeat_table
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
        if store is None:  # no present_query: the heartbeat's gaps alone, and the events said uncounted
            return heartbeat_only(len(acked), heartbeat_stats(conn, table, run_id),
                                  seq_ranges(heartbeat_seqs(conn, table, run_id)))
        present = _settled(conn, store.present_query, acked | failed | indet, store.settle_s)
        hb = heartbeat_stats(conn, table, run_id)
        hb_present = seq_ranges(heartbeat_seqs(conn, table, run_id))
    lost = sorted(acked - present)
    out: dict[str, Any] = {
        "events_acked": len(acked), "events_present": len(acked & present), "events_lost": len(lost),
        "events_unexpected": len(failed & present), "events_indeterminate": len(indet),
        "indeterminate_present": len(indet & present), "lost_sample": lost[:20],
        "last_present_heartbeat_seq": hb[0], "last_present_heartbeat_ts": hb[1], "heartbeats_present": hb[2],
        "heartbeat_present": hb_present, "settle_s": store.settle_s,
    }
    out.update(lost_window(ledger, set(lost), t_fault))
    return out


def lost_window(ledger: Path, lost: set[str], t_fault: float | None) -> dict[str, Any]:
    """When the lost events had been acknowledged (``lost_acks``: ``[[t, count], ...]`` to the millisecond), the
    earliest of them, and the last acknowledgement before the fault."""
    times = ack_times(ledger)
    per_ms = Counter(round(times[i], 3) for i in lost if i in times)
    before = [t for t in times.values() if t_fault is not None and t <= t_fault]
    return {"earliest_lost_ack_ts": min(per_ms, default=None), "last_ack_before_fault_ts": max(before, default=None),
            "lost_acks": [[t, n] for t, n in sorted(per_ms.items())]}


def heartbeat_only(events_acked: int, hb: tuple[int | None, float | None, int],
                   hb_present: list[list[int]]) -> dict[str, Any]:
    """The reconcile event of a service described without ``store:``: the heartbeats present (RPO by their
    gaps), the acknowledged events counted but not looked for (``events_counted: false``)."""
    return {"events_counted": False, "events_acked": events_acked, "last_present_heartbeat_seq": hb[0],
            "last_present_heartbeat_ts": hb[1], "heartbeats_present": hb[2], "heartbeat_present": hb_present}

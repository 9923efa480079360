"""RPO in data terms, by gaps, never by maxima: pure functions of the journal's heartbeats and the
reconciliation's findings.

Ledger measure: the span of every lost acknowledged write, before or after T0 (from the earliest lost one to
the later of the latest lost one and the last acknowledgement before the fault); the load's writes are dense,
so it is exact to one write's gap. Heartbeat measure: of the heartbeats acknowledged *before* T0, the missing
ones on the new primary (gaps in ``seq``, so heartbeats written after recovery, by a heartbeat that follows a
moving writer, cannot hide the lost ones). Beside a ledger that lost writes the heartbeat's figure is the same
span as the ledger's (the missing ones' first to the last acknowledgement before T0) and RPO is the larger:
the two are one measure on two streams. Without one (no store to reconcile, or no write lost) it is T0 less
the last heartbeat present before the first missing one: the recovery point's bound, one heartbeat interval
high at most and never low, whatever the heartbeat's phase at T0. While acknowledged writes were lost RPO is
never 0: a loss whose span is under the clock's resolution (one write) reads as the 0.001 s floor, and the
report says so. Lost writes are split by when they were acknowledged: before T0, during the outage, after
recovery (those may still be in an asynchronous service's pipeline when reconciliation read).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gameday.journal import Event

__all__ = ["FLOOR_S", "heartbeat_rpo", "heartbeat_span", "ledger_rpo", "lost_split", "measure", "seq_ranges"]

FLOOR_S = 0.001


def seq_ranges(seqs: Iterable[int]) -> list[list[int]]:
    """Sorted integers as inclusive ``[first, last]`` ranges (what the reconciliation journals)."""
    out: list[list[int]] = []
    for s in sorted(set(seqs)):
        if out and out[-1][1] + 1 == s:
            out[-1][1] = s
        else:
            out.append([s, s])
    return out


def _present(ranges: list[list[int]], seq: int) -> bool:
    return any(a <= seq <= b for a, b in ranges)


def heartbeat_rpo(acked: dict[int, float], present: list[list[int]], t0: float) -> tuple[float, int]:
    """(span in seconds, heartbeats missing) over the heartbeats acknowledged at or before ``t0``.

    The span is T0 less the recovery point's bound: the last heartbeat present before the first missing one.
    The recovery point lies between that one and the first missing one, so the span reads at most one heartbeat
    interval high and never low, whatever the heartbeat's phase at T0 (the span of the missing heartbeats alone,
    the rule before, read up to two intervals low: a 0.3 s loss read 0.1 s when T0 fell just before a heartbeat's
    acknowledgement)."""
    before = {s: ts for s, ts in acked.items() if ts <= t0}
    missing = sorted(s for s in before if not _present(present, s))
    if not missing:
        return 0.0, 0
    kept = [ts for s, ts in before.items() if s < missing[0]]  # acknowledged before the first missing: present
    point = max(kept) if kept else before[missing[0]]
    return max(0.0, t0 - point), len(missing)


def heartbeat_span(acked: dict[int, float], present: list[list[int]], t0: float) -> float | None:
    """The ledger's span on the heartbeats acknowledged at or before ``t0``: None when none is missing."""
    before = {s: ts for s, ts in acked.items() if ts <= t0}
    lost = sorted([ts, 1] for s, ts in before.items() if not _present(present, s))
    return ledger_rpo(lost, max(before.values(), default=None))


def ledger_rpo(lost_acks: list[list[float]], last_before: float | None) -> float | None:
    """Span of the lost acknowledged writes (``[[t, count], ...]`` sorted by t); None when nothing was lost."""
    if not lost_acks:
        return None
    first, last = lost_acks[0][0], lost_acks[-1][0]
    if last_before is not None and first <= last_before:
        last = max(last, last_before)
    return max(0.0, last - first)


def lost_split(lost_acks: list[list[float]], t0: float, t_recovered: float | None) -> dict[str, int]:
    """Lost writes by when they were acknowledged: before the fault, during the outage, after recovery."""
    out = {"before_fault": 0, "during_outage": 0, "after_recovery": 0}
    for t, n in lost_acks:
        key = "before_fault" if t <= t0 else ("after_recovery" if t_recovered is not None and t >= t_recovered
                                              else "during_outage")
        out[key] += int(n)
    return out


def _acked_heartbeats(events: list[Event]) -> dict[int, float]:
    return {int(e.value["seq"]): float(e.value["ts"]) for e in events if e.kind == "heartbeat.ack"}


def measure(events: list[Event], rec: dict[str, Any], t0: float, t_recovered: float | None) -> dict[str, Any]:
    """report.json's RPO fields from the journal and the reconcile event's value ``rec``."""
    acked = _acked_heartbeats(events)
    out: dict[str, Any] = {"heartbeats_acked": len(acked)}
    if "heartbeat_present" in rec:
        rpo_hb, missing = heartbeat_rpo(acked, rec["heartbeat_present"], t0)
        out["heartbeats_missing"] = missing
    else:  # a journal from before gaps were journaled: the old difference of maxima, marked as such
        last = max((ts for ts in acked.values() if ts <= t0), default=None)
        present = rec.get("last_present_heartbeat_ts")
        rpo_hb = max(0.0, last - present) if last is not None and present is not None else 0.0
        out["rpo_method"] = "maxima (an older journal)"
    lost_acks = rec.get("lost_acks")
    if lost_acks is None and rec.get("earliest_lost_ack_ts") is not None:
        lost_acks = [[rec["earliest_lost_ack_ts"], rec.get("events_lost", 1)]]
    rpo_ledger = ledger_rpo(lost_acks or [], rec.get("last_ack_before_fault_ts"))
    if rpo_ledger is not None and "heartbeat_present" in rec:  # one measure on two streams: the same span
        rpo_hb = heartbeat_span(acked, rec["heartbeat_present"], t0) or 0.0
    rpo = max(rpo_hb, rpo_ledger or 0.0)
    lost = rec.get("events_lost") or 0
    if (lost or out.get("heartbeats_missing")) and rpo < FLOOR_S:
        rpo = FLOOR_S
        out["rpo_note"] = ("a single acknowledged write was lost: its span is under the clock's resolution, "
                           f"so RPO reads as the {FLOOR_S} s floor")
    out.update({"rpo_heartbeat_s": round(rpo_hb, 3), "rpo_ledger_s": None if rpo_ledger is None else round(rpo_ledger, 3),
                "rpo_s": round(rpo, 3), "lost_split": lost_split(lost_acks or [], t0, t_recovered)})
    if lost_acks:
        out["lost_first_ack_s"] = round(lost_acks[0][0] - t0, 3)
        out["lost_last_ack_s"] = round(lost_acks[-1][0] - t0, 3)
    return out

"""A restore drill's figures, pure functions of the journal: which point was restored, from what, how long it
took, and the ledger's verdict on it.

Acknowledged events the restored database lacks (the reconciliation's ``lost_acks``, to the millisecond) are
split by when they were acknowledged: at or before the restore point they are a **backup defect** (a broken
WAL chain, a bad snapshot: must be 0); after it and before the writer was swapped to the restored instance they
are the **PITR price** (the restore point's, reported apart, with the span they cover); after the swap they are
plain **lost** writes (must be 0). A request in flight when the writer was swapped may have committed on the old
instance and be acknowledged up to its timeout later: "after the swap" begins once that window has passed
(``drill.start``'s ``request_timeout_s``; missing events inside it are counted in the PITR price).
RPO for a restore drill is measured over the events acknowledged before T0,
by gaps (``gameday.judge.rpo``): what the restore gave up of the data that existed when the damage happened.
"""

from __future__ import annotations

from typing import Any

from gameday.journal import Event
from gameday.judge.rpo import FLOOR_S, ledger_rpo

__all__ = ["split_missing", "restore_measure", "restore_targets", "BUCKETS", "check_restore_test"]

BUCKETS = ("before_restore_point", "pitr_price", "after_swap")


def _bucket(t: float, restore_point: float, t_swap: float | None) -> str:
    if t <= restore_point:
        return "before_restore_point"
    return "after_swap" if t_swap is not None and t > t_swap else "pitr_price"


def split_missing(lost_acks: list[list[float]], restore_point: float, t_swap: float | None) -> dict[str, dict[str, Any]]:
    """Missing acknowledged events (``[[t, count], ...]``) by bucket: count, first and last acknowledgement, span."""
    out: dict[str, dict[str, Any]] = {b: {"events": 0, "first_ack": None, "last_ack": None, "span_s": 0.0}
                                      for b in BUCKETS}
    for t, n in sorted(lost_acks):
        b = out[_bucket(t, restore_point, t_swap)]
        b["events"] += int(n)
        b["first_ack"] = t if b["first_ack"] is None else b["first_ack"]
        b["last_ack"] = t
        b["span_s"] = round(t - b["first_ack"], 3)
    return out


def _results(events: list[Event]) -> list[dict[str, Any]]:
    return [e.value["result"] for e in events if e.kind == "step.end" and isinstance(e.value.get("result"), dict)]


def _rel(t: float | None, t0: float) -> float | None:
    return None if t is None else round(float(t) - t0, 3)


def restore_measure(events: list[Event], rec: dict[str, Any] | None, t0: float,
                    rpo_heartbeat_s: float | None) -> dict[str, Any] | None:
    """report.json's ``restore`` section (None: the run restored nothing)."""
    results = _results(events)
    restore = next((r for r in results if r.get("kind") in ("pitr", "snapshot")), None)
    if restore is None:
        return None
    swap = next((r for r in results if "t_swapped" in r), None)
    verify = next((r for r in results if "acked_before" in r), None)
    point = float(restore["restore_point"])
    latest = restore.get("latest_restorable")
    out: dict[str, Any] = {
        "kind": restore["kind"], "instance": restore.get("instance"), "source": restore.get("source"),
        "restore_point": point, "restore_point_s": _rel(point, t0), "restore_s": restore.get("restore_s"),
        "backup_age_s": _rel(t0, restore["source_taken_at"]) if restore.get("source_taken_at") else None,
        "restorable_lag_s": None if latest is None else round(float(restore["t_started"]) - float(latest), 3),
        "swapped_at_s": _rel(swap["t_swapped"], t0) if swap else None, "verify": verify}
    if rec is None:
        return out
    lost = rec.get("lost_acks") or []
    start = next((e for e in events if e.kind == "drill.start"), None)
    in_flight = float(start.value.get("request_timeout_s", 0.0)) if start is not None else 0.0
    out["missing"] = split_missing(lost, point, swap["t_swapped"] + in_flight if swap else None)
    out["in_flight_s"] = in_flight
    before_t0 = [x for x in lost if x[0] <= t0]
    span = ledger_rpo(before_t0, rec.get("last_ack_before_fault_ts")) or 0.0
    rpo = max(span, rpo_heartbeat_s or 0.0)
    out["rpo_s"] = max(rpo, FLOOR_S) if before_t0 and rpo < FLOOR_S else round(rpo, 3)
    return out


def restore_targets(restore: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What a restore must hold whatever the drill's targets: no event acknowledged by the restore point missing
    (a backup defect), none lost after the swap."""
    if restore is None or "missing" not in restore:
        return []
    m = restore["missing"]
    return [{"name": "backup_defect_events", "target": 0, "observed": m["before_restore_point"]["events"],
             "ok": m["before_restore_point"]["events"] == 0},
            {"name": "lost_after_swap", "target": 0, "observed": m["after_swap"]["events"],
             "ok": m["after_swap"]["events"] == 0}]


def _first(events: list[Event], kind: str) -> Event | None:
    return next((e for e in events if e.kind == kind), None)


def check_restore_test(events: list[Event]) -> dict[str, Any]:
    """The backup validation's verdict from its journal: PASS only when the latest restorable point was restored
    and holds every event of the burst acknowledged by its restore point, the burst was covered, the throwaway
    instance deleted."""
    start, end = _first(events, "restore_test.start"), _first(events, "restore_test.end")
    burst, done, failed, verify = (_first(events, k) for k in ("burst", "restore.done", "restore.failed", "verify"))
    out: dict[str, Any] = {"kind": "restore-test", "environment": start.value.get("environment") if start else None,
                           "run_id": start.value.get("run_id") if start else None,
                           "started_at": start.t_wall if start else None, "reasons": []}
    if done is not None:
        r = done.value
        latest, taken = r.get("latest_restorable"), r.get("source_taken_at")
        out.update({"restore_s": r.get("restore_s"), "restore_point": r.get("restore_point"), "source": r.get("source"),
                    "backup_age_s": None if taken is None else round(float(r["t_started"]) - float(taken), 3),
                    "restorable_lag_s": None if latest is None else round(float(r["t_started"]) - float(latest), 3)})
    if verify is not None:
        out.update({k: verify.value[k] for k in ("acked_before", "present_before", "missing_before",
                                                 "missing_before_sample")})
    out["events_acked"] = burst.value["acked"] if burst else None
    out["verdict"], out["reasons"] = _restore_test_verdict(end, burst, failed, verify, events)
    return out


def _restore_test_verdict(end: Event | None, burst: Event | None, failed: Event | None, verify: Event | None,
                          events: list[Event]) -> tuple[str, list[str]]:
    if end is None:
        return "aborted", ["incomplete: the journal ends before restore_test.end (the run was killed)"]
    if failed is not None:
        return "fail", [f"the latest restorable point could not be restored: {failed.error}"]
    if burst is None or not burst.value["acked"]:
        return "inconclusive", ["the write burst was not acknowledged: nothing to check the restore against"]
    if verify is None:
        return "inconclusive", ["the restored instance was not checked against the ledger"]
    v = verify.value
    reasons = []
    if v["missing_before"]:
        reasons.append(f"{v['missing_before']} of {v['acked_before']} events acknowledged before the restore point are "
                       "missing from the restored instance: the backup chain is broken")
    if v["acked_before"] < burst.value["acked"]:
        reasons.append(f"the restore point covered {v['acked_before']} of the burst's {burst.value['acked']} "
                       "acknowledged events: the latest restorable time lags behind")
    if any(e.kind == "fault.inverse_failed" for e in events):
        reasons.append("the throwaway instance was not deleted (gameday recover JOURNAL deletes it)")
    return ("fail" if reasons else "pass"), reasons

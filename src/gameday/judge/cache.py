"""The cache tier's figures, a pure function of the journal: cache RTO and cache RPO.

Cache RTO: the one recovery model (``gameday.judge.recovery``) fed the cache probes (``cache.probe``: a SET
then a GET through the primary endpoint), with the drill's T0, N and effect window. Cache RPO in data terms:
the acknowledged cache heartbeats (``cache.ack``) missing from the primary after the failover
(``cache.reconcile``): how many (``cache_lost_writes``) and their span (``cache_rpo_s``: from the first
missing one acknowledged at or before T0 to the last acknowledged before T0, as the database's heartbeat RPO).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gameday.journal import Event
from gameday.judge.evidence import stream_recovery
from gameday.judge.recovery import State
from gameday.judge.rpo import FLOOR_S, heartbeat_rpo

__all__ = ["cache_measure", "cache_targets", "TARGETS"]

TARGETS = ("cache_rto_s", "cache_rpo_s", "cache_lost_writes_max")


def _as_probes(events: list[Event]) -> list[Event]:
    """The cache probes as ``probe`` events, and nothing else: the recovery stream reads only the cache."""
    return [replace(e, kind="probe") for e in events if e.kind == "cache.probe"]


def cache_measure(events: list[Event], t0: float, n: int, window_end: float | None) -> dict[str, Any] | None:
    """report.json's ``cache`` section; None when the run did not watch a cache."""
    probes = _as_probes(events)
    acks = {int(e.value["seq"]): float(e.value["ts"]) for e in events if e.kind == "cache.ack"}
    if not probes and not acks:
        return None
    rec = stream_recovery(probes, t0, n, window_end, ["probe"])
    out: dict[str, Any] = {
        "rto_s": None if rec.t_recovered is None else round(rec.t_recovered - t0, 3),
        "recovery_state": rec.state.value, "no_outage": rec.state is State.NO_OUTAGE,
        "t_detect_s": None if rec.t_detect is None else round(rec.t_detect - t0, 3),
        "observed_for_s": None if rec.last_seen is None else round(rec.last_seen - t0, 3),
        "probes": len(probes), "probes_failed": sum(1 for e in probes if not e.value.get("ok")),
        "writes_acked": len(acks), "rpo_s": None, "lost_writes": None}
    reconciled = next((e for e in events if e.kind == "cache.reconcile"), None)
    if reconciled is None:
        failed = next((e for e in events if e.kind == "cache.reconcile_failed"), None)
        out["reconcile_error"] = failed.error if failed is not None else "the cache was not reconciled"
        return out
    present = reconciled.value["present"]
    lost = sorted(s for s in acks if not any(a <= s <= b for a, b in present))
    span, _ = heartbeat_rpo(acks, present, t0)
    out["lost_writes"] = len(lost)
    out["lost_sample"] = lost[:20]
    out["rpo_s"] = round(max(span, FLOOR_S) if lost else span, 3)
    if lost:
        out["lost_first_ack_s"] = round(acks[lost[0]] - t0, 3)
        out["lost_last_ack_s"] = round(acks[lost[-1]] - t0, 3)
    return out


def cache_targets(tg: dict[str, Any], scale: float, cache: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The drill's cache targets against the figures (observed None when the run could not measure them)."""
    c = cache or {}
    out: list[dict[str, Any]] = []
    if tg.get("cache_rto_s") is not None:
        t = {"name": "cache_rto", "target_s": round(tg["cache_rto_s"] * scale, 3), "target_real_s": tg["cache_rto_s"],
             "observed": c.get("rto_s")}
        if t["observed"] is None and (c.get("observed_for_s") or 0) > t["target_s"]:
            t["never_recovered"], t["observed_for_s"] = True, c["observed_for_s"]  # breached, not unmeasured
        out.append(t)
    if tg.get("cache_rpo_s") is not None:
        out.append({"name": "cache_rpo", "target_s": round(tg["cache_rpo_s"] * scale, 3),
                    "target_real_s": tg["cache_rpo_s"], "observed": c.get("rpo_s")})
    if tg.get("cache_lost_writes_max") is not None:
        out.append({"name": "cache_lost_writes", "target": tg["cache_lost_writes_max"], "observed": c.get("lost_writes")})
    for t in out:
        limit = t.get("target_s", t.get("target"))
        t["ok"] = t["observed"] is not None and t["observed"] <= limit
    return out

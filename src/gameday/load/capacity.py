"""The capacity search, pure: which rate the next stair offers, and what a capacity run's journal adds up to.

A capacity run is a series of stairs, each a gate of its own (``gate.start`` .. ``load.result``, judged by
:func:`gameday.load.gate.summary_from_journal`: the same SLOs, defaults, generator limits and time-ordering
rule as ``gameday load gate``), between ``capacity.start`` (the settings) and ``capacity.end``. The stairs climb
by ``factor`` from the start rate until one fails (abort on fail), then narrow around it (geometric midpoints)
until the last passing and the first failing rate are within ``resolution`` of each other. The **knee** is the
highest rate every SLO held below the first failing one. A stair the generator limited stops the search:
INCONCLUSIVE, with the workers the next try needs (``gameday load plan``'s arithmetic), never a knee.
"""

from __future__ import annotations

import math
from typing import Any

from gameday.journal import Event
from gameday.load.gate import GATE_START, slos_of, summary_from_journal
from gameday.load.plan import fleet_size
from gameday.verdict import Verdict

__all__ = ["CAPACITY_START", "CAPACITY_END", "next_rate", "stairs_of", "capacity_from_journal", "is_capacity_journal"]

CAPACITY_START, CAPACITY_END = "capacity.start", "capacity.end"
PASS, FAIL, INCONCLUSIVE = Verdict.PASS.value, Verdict.FAIL.value, Verdict.INCONCLUSIVE.value
HEADROOM = 0.6  # load plan's default share of a core per worker


def is_capacity_journal(events: list[Event]) -> bool:
    return bool(events) and events[0].kind == CAPACITY_START


def next_rate(tried: list[tuple[float, str]], *, start: float, max_rate: float, factor: float,
              resolution: float) -> float | None:
    """The next stair's rate (events/s) after the stairs ``tried`` (rate, verdict) in order; None: done.

    Up by ``factor`` (at most ``max_rate``) while every stair passed; a stair neither passed nor failed (the
    generator limited it, it was cut off) ends the search; after a failure, the geometric midpoint between the
    highest passing rate below the lowest failing one and that failing rate, until they are within
    ``resolution`` (0.1: 10 %); a first stair that failed ends it too (nothing held)."""
    if not tried:
        return start
    if any(v not in (PASS, FAIL) for _, v in tried):
        return None
    failed = [r for r, v in tried if v == FAIL]
    if not failed:
        last = tried[-1][0]
        return None if last >= max_rate else min(max_rate, last * factor)
    low_fail = min(failed)
    below = [r for r, v in tried if v == PASS and r < low_fail]
    if not below or low_fail / max(below) <= 1 + resolution + 1e-9:
        return None
    return round(math.sqrt(max(below) * low_fail), 2)


def stairs_of(events: list[Event]) -> list[list[Event]]:
    """A capacity journal's events cut into stairs, each from its ``gate.start``."""
    out: list[list[Event]] = []
    for e in events:
        if e.kind == GATE_START:
            out.append([])
        if out and e.kind != CAPACITY_END:
            out[-1].append(e)
    return out


def served_rate(events: list[Event], stair_s: float) -> float | None:
    """Events the service acknowledged *during* the stair, per second (the gate's achieved rate also counts
    answers to the stair's requests that came in the drain after it: past a knee, the queue's)."""
    ticks = [e.value for e in events if e.kind == "load.tick" and float(e.value.get("t") or 0) <= stair_s + 0.25]
    if not ticks:
        return None
    span = max(float(t["t"]) for t in ticks)
    return round(sum(t.get("acked_events") or 0 for t in ticks) / span, 2) if span > 0 else None


def _row(k: int, evs: list[Event]) -> dict[str, Any]:
    s = summary_from_journal(evs)
    return {"stair": k, "offered_rate": s.get("target_rate"), "achieved_rate": s.get("achieved_rate"),
            "served_rate": served_rate(evs, float(s.get("duration_s") or 0.0)),
            "p50_ms": s.get("p50_ms"), "p95_ms": s.get("p95_ms"), "p99_ms": s.get("p99_ms"),
            "max_ms": s.get("max_ms"), "error_ratio": s.get("error_ratio"), "late_ratio": s.get("late_ratio"),
            "verdict": s["verdict"], "reasons": s.get("reasons", [])}


def _latency_s(st: dict[str, Any], row: dict[str, Any]) -> tuple[float, str]:
    """The latency one request holds a connection for, and how it was found: by Little's law when every
    connection was busy (connections / requests answered per second: the measured percentiles also count the
    time requests waited for a connection in the generator), else the stair's p99."""
    conns = st.get("max_connections", 500) * st.get("workers", 1)
    served = (row.get("served_rate") or 0.0) / st.get("batch", 1)
    p99 = (row.get("p99_ms") or row.get("max_ms") or st.get("timeout_s", 5.0) * 1000) / 1000
    if served > 0 and conns / served < p99:
        return conns / served, (f"{conns} connections carried {served:,.1f} requests/s: {conns / served * 1000:,.0f} "
                                "ms each (Little's law)")
    return p99, f"the stair's p99 {p99 * 1000:,.0f} ms"


def _workers_needed(st: dict[str, Any], row: dict[str, Any]) -> str:
    """How many workers the next try needs at this stair's rate, by ``gameday load plan``'s arithmetic."""
    latency_s, how = _latency_s(st, row)
    mc, now, batch = st.get("max_connections", 500), st.get("workers", 1), st.get("batch", 1)
    try:
        plan = fleet_size(st.get("calibration") or {}, rate=row["offered_rate"], batch=batch, headroom=HEADROOM,
                          latency_s=latency_s, max_connections=mc)
    except Exception as exc:  # noqa: BLE001 - a journal without a usable calibration still gets its verdict
        return f"the workers the next try needs could not be computed ({exc})"
    need = max(plan["workers"], now + 1)
    return (f"the next try needs at least {need} generator workers (--workers {need}, --max-connections {mc}; now "
            f"{now}): {plan['connections']} requests in flight at {row['offered_rate']:g}/s x {latency_s * 1000:,.0f} "
            f"ms ({how}), {plan['cpu_workers']} worker(s) by CPU; gameday load plan --rate {row['offered_rate']:g} "
            f"--batch {batch} --latency {latency_s * 1000:.0f}ms --max-connections {mc} shows the arithmetic")


def _knee(st: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The verdict, the knee and the reasons, from the stairs' rows."""
    odd = next((r for r in rows if r["verdict"] not in (PASS, FAIL)), None)
    held = [r["offered_rate"] for r in rows if r["verdict"] == PASS]
    failed = sorted((r for r in rows if r["verdict"] == FAIL), key=lambda r: r["offered_rate"])
    if odd is not None:
        why = f"stair {odd['stair']} at {odd['offered_rate']:g}/s was {odd['verdict'].upper()}: " + \
            "; ".join(odd["reasons"][:3])
        need = [_workers_needed(st, odd)] if odd["verdict"] == INCONCLUSIVE else []
        upto = [f"every stair up to {max(held):g}/s held its SLOs (not a knee)"] if held else []
        return {"verdict": odd["verdict"], "capacity_rate": None, "first_failing": None,
                "reasons": ["no knee: " + why, *need, *upto]}
    if not failed:
        if not held:
            return {"verdict": INCONCLUSIVE, "capacity_rate": None, "first_failing": None,
                    "reasons": ["no stair was run"]}
        return {"verdict": PASS, "capacity_rate": max(held), "first_failing": None, "knee_found": False,
                "reasons": [f"every stair held up to --max-rate {max(held):g}/s: the knee is above it"]}
    first = failed[0]
    below = [r for r in held if r < first["offered_rate"]]
    why = f"{first['offered_rate']:g}/s failed: " + "; ".join(first["reasons"][:2])
    if not below:
        return {"verdict": FAIL, "capacity_rate": None, "first_failing": first["offered_rate"],
                "first_failing_why": first["reasons"], "reasons": [f"the first stair failed ({why}): the knee is "
                                                                   "below --start-rate"]}
    return {"verdict": PASS, "capacity_rate": max(below), "first_failing": first["offered_rate"],
            "first_failing_why": first["reasons"], "knee_found": True,
            "reasons": [f"knee {max(below):g}/s: the highest rate every SLO held; {why}"]}


def _projection(st: dict[str, Any], capacity: float | None) -> dict[str, Any] | None:
    target = st.get("target")
    if not target or not capacity:
        return None
    times = target / capacity
    seen = st.get("resources") or "resources in use: not seen"
    return {"target": target, "times": round(times, 2), "resources": seen,
            "text": f"this deployment sustains {capacity:,.0f} events/s within the SLOs; {target:,.0f} events/s "
                    f"needs {times:,.1f} times this capacity (a linear projection from one deployment, {seen}; "
                    "real systems rarely scale linearly: measure the next size up)"}


def capacity_from_journal(events: list[Event]) -> dict[str, Any]:
    """summary.json of a capacity run: the stairs, the knee (``capacity_rate``), the first failing rate and why."""
    st = events[0].value
    rows = [_row(k, evs) for k, evs in enumerate(stairs_of(events), start=1)]
    out = {"kind": "capacity", "profile": st.get("profile"), "host": st.get("host"), "run_id": st.get("run_id"),
           "slos": st.get("slos", []), "start_rate": st.get("start_rate"), "max_rate": st.get("max_rate"),
           "stair_s": st.get("stair_s"), "workers": st.get("workers", 1), "batch": st.get("batch", 1),
           "max_connections": st.get("max_connections"), "stairs": rows, "knee_found": False,
           "slo_lines": [[x.expr, x.threshold] for x in slos_of(st) if x.metric.startswith("p") or x.metric == "max"]}
    out.update(_knee(st, rows))
    if not any(e.kind == CAPACITY_END for e in events):
        out["verdict"] = Verdict.ABORTED.value
        out["reasons"] = ["the journal ends before the capacity run's end: the run was cut off", *out["reasons"]]
    out["projection"] = _projection(st, out["capacity_rate"]) if out["verdict"] == PASS else None
    return out

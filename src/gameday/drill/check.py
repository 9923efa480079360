"""The drill checker: a pure function of the journal's events -> measurements and a verdict.

RTO: T0 = fault applied; T_detect = first failed probe after T0; T_declare = end of the step that
declares the incident; T_recovered = the first of N consecutive successful write-then-read probes
after the outage was seen. RPO_time = ts(last acknowledged heartbeat) - ts(last heartbeat present on
the new primary). Lost events = acknowledged ids missing from the new primary (reconciled by the
runner and journaled). Anything missing or an exception while judging gives INCONCLUSIVE, never pass.
"""

from __future__ import annotations

from typing import Any

from gameday.journal import Event

__all__ = ["check", "PASS", "FAIL", "INCONCLUSIVE", "ABORTED", "EXIT_CODES"]

PASS, FAIL, INCONCLUSIVE, ABORTED = "pass", "fail", "inconclusive", "aborted"
EXIT_CODES = {PASS: 0, FAIL: 1, INCONCLUSIVE: 3, ABORTED: 4}


def _first(events: list[Event], kind: str) -> Event | None:
    return next((e for e in events if e.kind == kind), None)


def _recovery(probes: list[Event], t0: float, n: int) -> tuple[float | None, float | None]:
    """(T_detect, T_recovered) from the probe events after t0."""
    # probes that *started* after the fault (one in flight at the fault says nothing about after it)
    after = [p for p in probes if p.t_wall - p.value.get("latency_ms", 0) / 1000 >= t0]
    t_detect = next((p.t_wall for p in after if not p.value["ok"]), None)
    start = t_detect if t_detect is not None else t0
    run: list[Event] = []
    for p in after:
        if p.t_wall < start:
            continue
        run = run + [p] if p.value["ok"] else []
        if len(run) >= n:
            return t_detect, run[0].t_wall
    return t_detect, None


def _steps(events: list[Event], plan: list[dict[str, Any]], scale: float) -> list[dict[str, Any]]:
    starts = {e.value["id"]: e for e in events if e.kind == "step.start"}
    ends = {e.value["id"]: e for e in events if e.kind == "step.end"}
    out = []
    for s in plan:
        st, en = starts.get(s["id"]), ends.get(s["id"])
        budget = s["budget_s"] * scale
        actual = (en.t_wall - st.t_wall) if st and en else None
        done = bool(en and en.value.get("ok"))
        over = actual is not None and actual > budget
        out.append({"id": s["id"], "name": s["name"], "kind": s["kind"], "budget_s": round(budget, 3),
                    "budget_real_s": s["budget_s"], "actual_s": None if actual is None else round(actual, 3),
                    "started_at": st.t_wall if st else None, "ended_at": en.t_wall if en else None,
                    "done": done, "over_budget": over, "ok": done and not over,
                    "auto_confirmed": bool(en and en.value.get("auto_confirmed")),
                    "detail": (en.error or en.value.get("detail")) if en else "not run"})
    return out


def check(events: list[Event]) -> dict[str, Any]:
    """Measure and judge a drill from its events (the whole of report.json)."""
    try:
        return _check(events)
    except Exception as exc:  # noqa: BLE001 - a checker that crashes yields INCONCLUSIVE, not pass
        return {"verdict": INCONCLUSIVE, "reasons": [f"checker error: {type(exc).__name__}: {exc}"]}


def _check(events: list[Event]) -> dict[str, Any]:
    start = _first(events, "drill.start")
    if start is None:
        return {"verdict": INCONCLUSIVE, "reasons": ["the journal has no drill.start event"]}
    meta = start.value
    scale = meta["time_scale"]
    n = meta["probe_consecutive"]
    tg = meta["targets"]
    applied = _first(events, "fault.applied")
    end = _first(events, "drill.end")
    rec = _first(events, "reconcile")
    steps = _steps(events, meta["steps"], scale)
    probes = [e for e in events if e.kind == "probe"]
    hb = [e for e in events if e.kind == "heartbeat.ack"]
    out: dict[str, Any] = {"drill": meta["drill"], "run_id": meta["run_id"], "environment": meta["environment"],
                           "time_scale": scale, "started_at": start.t_wall, "steps": steps, "reasons": []}
    reasons: list[str] = out["reasons"]
    aborted = end is not None and end.value.get("aborted")
    if applied is None:
        out["verdict"] = ABORTED if aborted else INCONCLUSIVE
        reasons.append("the fault was never applied")
        return out
    t0 = applied.value["t_applied"]
    t_detect, t_rec = _recovery(probes, t0, n)
    declare = next((s for s in steps if s["id"] == meta.get("declare_step")), None)
    t_declare = declare["ended_at"] if declare and declare["done"] else None  # a skipped declaration is none
    rto = None if t_rec is None else t_rec - t0
    out.update({"t0": t0, "t_detect_s": _rel(t_detect, t0), "t_declare_s": _rel(t_declare, t0),
                "t_recovered_s": _rel(t_rec, t0), "rto_s": None if rto is None else round(rto, 3)})
    last_acked = max((e.value["ts"] for e in hb), default=None)
    rpo = None
    if rec is not None:
        r = rec.value
        present = r.get("last_present_heartbeat_ts")
        if last_acked is not None and present is not None:
            rpo = max(0.0, last_acked - present)
        out.update({"events_acked": r["events_acked"], "events_lost": r["events_lost"],
                    "events_indeterminate": r["events_indeterminate"], "events_unexpected": r["events_unexpected"],
                    "indeterminate_present": r["indeterminate_present"], "lost_sample": r.get("lost_sample", []),
                    "heartbeats_acked": len(hb), "last_acked_heartbeat_ts": last_acked,
                    "last_present_heartbeat_ts": present})
    out["rpo_s"] = None if rpo is None else round(rpo, 3)
    targets = [
        {"name": "rto", "target_s": round(tg["rto_s"] * scale, 3), "target_real_s": tg["rto_s"], "observed": out["rto_s"]},
        {"name": "rpo", "target_s": round(tg["rpo_s"] * scale, 3), "target_real_s": tg["rpo_s"], "observed": out["rpo_s"]},
    ]
    if tg.get("lost_events_max") is not None:
        targets.append({"name": "lost_events", "target": tg["lost_events_max"], "observed": out.get("events_lost")})
    for t in targets:
        limit = t.get("target_s", t.get("target"))
        t["ok"] = t["observed"] is not None and t["observed"] <= limit
    out["targets"] = targets
    out["critical_path"] = [s["id"] for s in steps if s["started_at"] and (t_rec is None or s["started_at"] <= t_rec)]
    blown = [s for s in steps if s["over_budget"]]
    failed = [s for s in steps if not s["done"]]
    out["blown_steps"] = [s["id"] for s in blown]
    if aborted:
        out["verdict"] = ABORTED
        reasons.append(f"aborted: {end.value.get('reason')}")  # type: ignore[union-attr]
        return out
    if rec is None:
        reasons.append("no reconciliation against the new primary")
    for t in targets:
        if t["observed"] is None:
            reasons.append(f"{t['name']} could not be measured")
        elif not t["ok"]:
            limit = t.get("target_s", t.get("target"))
            reasons.append(f"{t['name']} target breached: observed {t['observed']} > {limit}")
    for s in failed:
        reasons.append(f"step '{s['id']}' did not complete: {s['detail']}")
    for s in blown:
        reasons.append(f"step '{s['id']}' blew its budget: {s['actual_s']} s > {s['budget_s']} s")
    unmeasured = any(t["observed"] is None for t in targets) or rec is None
    breached = any(t["observed"] is not None and not t["ok"] for t in targets) or failed or blown
    out["verdict"] = FAIL if breached else (INCONCLUSIVE if unmeasured else PASS)
    return out


def _rel(t: float | None, t0: float) -> float | None:
    return None if t is None else round(t - t0, 3)

"""The drill checker: a pure function of the journal's events -> measurements and a verdict.

RTO: T0 = fault applied (a planned move: the runbook's start); T_detect = the first client-visible failure
(a probe, or a load bucket whose writes failed); T_recovered = the start of the run of successes that
recovered, declared once it holds N consecutive successful probes and the fault's effect window has
passed (``gameday.judge.recovery``: the one state machine the live waits use too, fed the same stream,
``gameday.judge.evidence``). A run whose window passed without any client-visible failure has RTO 0 ("no
client-visible outage"). RPO by gaps (``gameday.judge.rpo``). Lost events = acknowledged ids missing from
the new primary (reconciled by the runner and journaled), split by when they were acknowledged.

A service that never recovered while it was observed for longer than the RTO target breached it: FAIL.
Anything else missing, or an exception while judging, gives INCONCLUSIVE, never pass. A journal without
``drill.end`` (a killed run) or an aborted run is ABORTED, with whatever it measured.
"""

from __future__ import annotations

from typing import Any

from gameday.journal import Event
from gameday.judge.aws_figures import aws_figures, region_loss_target
from gameday.judge.cache import cache_measure, cache_targets
from gameday.judge.evidence import stream_recovery
from gameday.judge.recovery import Recovery, State
from gameday.judge.restore import restore_measure, restore_targets
from gameday.judge.rpo import measure
from gameday.reasons import top_reasons
from gameday.verdict import Verdict

__all__ = ["check", "recovery_of", "window_end"]


def _first(events: list[Event], kind: str) -> Event | None:
    return next((e for e in events if e.kind == kind), None)


def window_end(applied: Event) -> float | None:
    """When the fault's effect window ends: T0 + the operation's ``effect_within_s`` (scaled); a planned move's
    stays open until the runner closes it (``window.closed``); an older journal's is T0 (the old rule)."""
    v = applied.value
    if "effect_within_s" in v:
        return float(v["t_applied"]) + float(v["effect_within_s"])
    return None if v.get("window") == "open" else float(v["t_applied"])


def recovery_of(events: list[Event]) -> Recovery | None:
    """The recovery machine's final answer over a journal (None before a fault was applied)."""
    start, applied = _first(events, "drill.start"), _first(events, "fault.applied")
    if start is None or applied is None:
        return None
    sources = start.value.get("evidence_sources", ["probe"])
    return stream_recovery(events, float(applied.value["t_applied"]), start.value["probe_consecutive"],
                           window_end(applied), sources)


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
                    "confirmed_by": en.value.get("confirmed_by") if en else None,
                    "detail": (en.error or en.value.get("detail")) if en else "not run"})
    return out


def check(events: list[Event]) -> dict[str, Any]:
    """Measure and judge a drill from its events (the whole of report.json)."""
    try:
        return _check(events)
    except Exception as exc:  # noqa: BLE001 - a checker that crashes yields INCONCLUSIVE, not pass
        return {"verdict": Verdict.INCONCLUSIVE.value, "reasons": [f"checker error: {type(exc).__name__}: {exc}"]}


def _check(events: list[Event]) -> dict[str, Any]:
    start = _first(events, "drill.start")
    if start is None:
        return {"verdict": Verdict.INCONCLUSIVE.value, "reasons": ["the journal has no drill.start event"]}
    meta = start.value
    scale = meta["time_scale"]
    steps = _steps(events, meta["steps"], scale)
    out: dict[str, Any] = {"drill": meta["drill"], "run_id": meta["run_id"], "environment": meta["environment"],
                           "time_scale": scale, "started_at": start.t_wall, "steps": steps, "reasons": []}
    end = _first(events, "drill.end")
    stopped = _stopped(end)
    out["incomplete"] = end is None
    errors = [f"the run failed: {e.error}" for e in events if e.kind == "drill.error"]
    applied = _first(events, "fault.applied")
    steady = _first(events, "steady.failed")  # not healthy before the fault: nothing was injected
    if applied is None and steady is not None and not stopped:
        out["verdict"], out["failure_reasons"] = Verdict.INCONCLUSIVE.value, top_reasons(events, t0=steady.t_wall)
        out["reasons"] += [steady.value["summary"], *errors]
        return out
    if applied is None:
        out["verdict"] = (Verdict.ABORTED if stopped else Verdict.INCONCLUSIVE).value
        out["reasons"] += [stopped or "the fault was never applied", *errors]
        return out
    t0 = applied.value["t_applied"]
    out["failure_reasons"] = top_reasons(events, t0=t0)  # what the service answered, relative to T0
    out["planned"] = applied.value.get("action") == "planned"  # no fault: T0 is the runbook's start
    rec = recovery_of(events)
    assert rec is not None
    reconciled = _first(events, "reconcile")
    out.update(_times(rec, t0, steps, meta.get("declare_step")))
    out.update(_data(events, reconciled, t0, rec.t_recovered))
    out["cache"] = cache_measure(events, t0, meta["probe_consecutive"], window_end(applied))
    out.update(aws_figures(events, applied, t0))  # ARC Region switch, the isolation's RPO bound, consumer lag
    out["restore"] = restore_measure(events, reconciled.value if reconciled else None, t0, out.get("rpo_heartbeat_s"))
    if out["restore"] is not None and "rpo_s" in out["restore"]:  # a restore drill's RPO: the data before T0 it gave up
        out["rpo_s"] = out["restore"]["rpo_s"]
    out["targets"] = (_targets(meta["targets"], scale, out, rec, t0) + cache_targets(meta["targets"], scale, out["cache"])
                      + restore_targets(out["restore"]))
    out["targets"] += region_loss_target(out, round(meta["targets"]["rpo_s"] * scale, 3), meta["targets"]["rpo_s"])
    out["critical_path"] = [s["id"] for s in steps if s["started_at"]
                            and (rec.t_recovered is None or s["started_at"] <= rec.t_recovered)]
    out["blown_steps"] = [s["id"] for s in steps if s["over_budget"]]
    if stopped:
        out["verdict"] = Verdict.ABORTED.value
        out["reasons"] += [stopped, *errors]
        return out
    out["verdict"], out["reasons"] = _judge(out, steps, errors, reconciled=reconciled is not None)
    return out


def _stopped(end: Event | None) -> str | None:
    """Why the run did not finish: killed (no drill.end) or aborted; None when it ended normally."""
    if end is None:
        return "incomplete: the journal ends without drill.end (the run was killed before it could finish)"
    return f"aborted: {end.value.get('reason')}" if end.value.get("aborted") else None


def _times(rec: Recovery, t0: float, steps: list[dict[str, Any]], declare_step: str | None) -> dict[str, Any]:
    declare = next((s for s in steps if s["id"] == declare_step), None)
    t_declare = declare["ended_at"] if declare and declare["done"] else None  # a skipped declaration is none
    rto = None if rec.t_recovered is None else round(rec.t_recovered - t0, 3)
    return {"t0": t0, "t_detect_s": _rel(rec.t_detect, t0), "t_declare_s": _rel(t_declare, t0),
            "t_recovered_s": _rel(rec.t_recovered, t0), "rto_s": rto, "recovery_state": rec.state.value,
            "no_outage": rec.state is State.NO_OUTAGE, "relapses": rec.relapses,
            "observed_for_s": _rel(rec.last_seen, t0)}


NO_STORE = ("the service description has no store: section (service.store: a present_query, and a dsn this "
            "runner can reach)")


def _data(events: list[Event], rec: Event | None, t0: float, t_recovered: float | None) -> dict[str, Any]:
    hb = [e for e in events if e.kind == "heartbeat.ack"]
    last_acked = max((e.value["ts"] for e in hb), default=None)
    if rec is None:
        failed = next((e for e in events if e.kind == "reconcile.failed"), None)
        out: dict[str, Any] = {"rpo_s": None, "heartbeats_acked": len(hb), "last_acked_heartbeat_ts": last_acked,
                               **({"reconcile_error": failed.error} if failed is not None else {})}
        if failed is not None and failed.value.get("store") is False:  # no database reached, none described
            out["rpo_why"] = out["lost_events_why"] = f"gameday reached no database, and {NO_STORE}"
        return out
    r = rec.value
    if r.get("events_counted") is False:
        return _heartbeat_only(events, r, t0, t_recovered, last_acked)
    return {"events_acked": r["events_acked"], "events_lost": r["events_lost"],
            "events_indeterminate": r["events_indeterminate"], "events_unexpected": r["events_unexpected"],
            "indeterminate_present": r["indeterminate_present"], "lost_sample": r.get("lost_sample", []),
            "settle_s": r.get("settle_s"), "last_acked_heartbeat_ts": last_acked,
            **measure(events, r, t0, t_recovered)}


def _heartbeat_only(events: list[Event], r: dict[str, Any], t0: float, t_recovered: float | None,
                    last_acked: float | None) -> dict[str, Any]:
    """A service without ``store:``: RPO from the heartbeat's gaps alone; lost events not counted, and said.
    No heartbeat acknowledged before T0 leaves nothing to measure a gap in: RPO unmeasured, never 0."""
    m = measure(events, r, t0, t_recovered)
    out: dict[str, Any] = {"events_acked": r["events_acked"], "events_lost": None, "events_counted": False,
                           "last_acked_heartbeat_ts": last_acked, **m, "rpo_ledger_s": None,
                           "events_note": f"lost events were not counted: {NO_STORE}; RPO is the heartbeat's alone",
                           "lost_events_why": f"lost events were not counted: {NO_STORE}"}
    if not any(e.value["ts"] <= t0 for e in events if e.kind == "heartbeat.ack"):
        out["rpo_s"] = out["rpo_heartbeat_s"] = None
        out["rpo_why"] = f"no heartbeat was acknowledged before the fault, and {NO_STORE}"
    return out


def _targets(tg: dict[str, Any], scale: float, out: dict[str, Any], rec: Recovery, t0: float) -> list[dict[str, Any]]:
    rto_limit = round(tg["rto_s"] * scale, 3)
    targets: list[dict[str, Any]] = [
        {"name": "rto", "target_s": rto_limit, "target_real_s": tg["rto_s"], "observed": out["rto_s"]},
        {"name": "rpo", "target_s": round(tg["rpo_s"] * scale, 3), "target_real_s": tg["rpo_s"], "observed": out["rpo_s"]},
    ]
    if tg.get("lost_events_max") is not None:
        targets.append({"name": "lost_events", "target": tg["lost_events_max"], "observed": out.get("events_lost")})
    for t in targets:
        limit = t.get("target_s", t.get("target"))
        t["ok"] = t["observed"] is not None and t["observed"] <= limit
        if t["observed"] is None and out.get(f"{t['name']}_why"):
            t["why"] = out[f"{t['name']}_why"]
    observed = out.get("observed_for_s")
    if out["rto_s"] is None and observed is not None and observed > rto_limit:
        targets[0]["never_recovered"] = True  # watched for longer than the target: breached, not unmeasured
        targets[0]["observed_for_s"] = observed
    return targets


def _judge(out: dict[str, Any], steps: list[dict[str, Any]], errors: list[str], *,
           reconciled: bool) -> tuple[str, list[str]]:
    reasons: list[str] = [] if reconciled else ["no reconciliation against the new primary"]
    breached = False
    unmeasured = not reconciled
    if reconciled and out.get("events_acked") == 0 and out.get("events_lost") == 0:  # a ledger with nothing in it
        unmeasured = True  # cannot show that acknowledged writes survived: no write was acknowledged (or recorded)
        reasons.append("nothing acknowledged: the load's ledger holds no acknowledged write, so the loss of "
                       "acknowledged writes was not measured")
    for t in out["targets"]:
        limit = t.get("target_s", t.get("target"))
        if t.get("never_recovered"):
            breached = True
            what = "the cache" if t["name"] == "cache_rto" else "the service"
            reasons.append(f"{t['name']} target breached: {what} did not recover within the {t['observed_for_s']} s "
                           f"it was observed ({t['name']} target {limit} s)")
        elif t["observed"] is None:
            unmeasured = True
            reasons.append(f"{t['name']} could not be measured" + (f": {t['why']}" if t.get("why") else ""))
        elif not t["ok"]:
            breached = True
            reasons.append(f"{t['name']} target breached: observed {t['observed']} > {limit}")
    for s in steps:
        if not s["done"]:
            breached = True
            reasons.append(f"step '{s['id']}' did not complete: {s['detail']}")
        elif s["over_budget"]:
            breached = True
            reasons.append(f"step '{s['id']}' blew its budget: {s['actual_s']} s > {s['budget_s']} s")
    reasons += errors
    verdict = Verdict.FAIL if breached else (Verdict.INCONCLUSIVE if unmeasured or errors else Verdict.PASS)
    return verdict.value, reasons


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _rel(t: float | None, t0: float) -> float | None:
    return None if t is None else round(t - t0, 3)

"""The experiment's verdict from its journals, never from Chaos Toolkit's exit code (which is 0 when a
method action fails and when the steady state is unmet before the method)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gameday.journal import Event

__all__ = ["chaos_verdict", "chaos_summary", "CHAOS_CUT_OFF"]


def _when(iso: Any, default: float) -> float:
    """Chaos Toolkit's activity times (ISO 8601; older releases wrote them naive, in UTC) as epoch seconds."""
    try:
        t = datetime.fromisoformat(str(iso))
    except ValueError:
        return default
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


def _failed_probes(hypothesis: dict[str, Any] | None, events: list[Event]) -> tuple[list[str], bool]:
    """Each probe that missed its tolerance, with what it measured when it journaled that (``probe.measured``:
    the last failing measurement by the same function); and whether every one of them may not be the
    service's (its measurement says why it is ``uncertain``: the generator limited the window)."""
    if not hypothesis:
        return [], False
    out, uncertain = [], True
    for p in hypothesis.get("probes", []):
        if p.get("tolerance_met", True):
            continue
        func = (p["activity"].get("provider") or {}).get("func")
        lo, hi = _when(p.get("start"), float("-inf")), _when(p.get("end"), float("inf"))
        seen = [e.value for e in events if e.kind == "probe.measured" and e.value.get("func") == func
                and not e.value.get("ok") and lo - 1 <= e.t_wall <= hi + 1]
        why = seen[-1].get("uncertain") if seen else None
        uncertain = uncertain and why is not None
        out.append(f"{p['activity']['name']} (tolerance {p['activity'].get('tolerance')!r}, got {p.get('output')!r}"
                   + (f": {seen[-1]['what']}" if seen else "") + (f"; {why}" if why else "") + ")")
    return out, uncertain and bool(out)


def chaos_verdict(ctk: dict[str, Any] | None, events: list[Event], signalled: str | None = None) -> dict[str, Any]:
    """verdict.json: ``verdict``, ``reasons[]``, ``faults_applied[]``, ``rolled_back``.

    ``signalled``: the signal gameday received and passed on. chaoslib records a SIGTERM that lands inside
    an activity as that activity's failure, not as an interruption, so the runner says so itself.
    """
    if ctk is None:
        return {"verdict": "inconclusive", "reasons": ["Chaos Toolkit wrote no journal"], "faults_applied": [],
                "rolled_back": False}
    reasons: list[str] = []
    unsure: list[bool] = []  # per reason: a deviation only measurements the generator limited can show

    def deviated(what: str, hypothesis: dict[str, Any]) -> None:
        said, uncertain = _failed_probes(hypothesis, events)
        reasons.append(what + "; ".join(said))
        unsure.append(uncertain)
    ss = ctk.get("steady_states") or {}
    before, after, during = ss.get("before"), ss.get("after"), ss.get("during") or []
    if before is not None and not before.get("steady_state_met", True):
        deviated("steady state unmet before the method: ", before)
    for run in ctk.get("run", []):
        if run.get("status") == "failed":
            reasons.append(f"method action '{run['activity']['name']}' failed: "
                           f"{''.join(run.get('exception') or [])[-300:].strip()}")
            unsure.append(False)
    for d in during:
        if not d.get("steady_state_met", True):
            deviated("hypothesis deviated during the method: ", d)
            break
    if after is not None and not after.get("steady_state_met", True):
        deviated("hypothesis deviated after the method: ", after)
    rollbacks = ctk.get("rollbacks", [])
    rolled_back = all(r.get("status") == "succeeded" for r in rollbacks) if rollbacks else False
    for r in rollbacks:
        if r.get("status") != "succeeded":
            reasons.append(f"rollback '{r['activity']['name']}' {r.get('status')}")
            unsure.append(False)
    faults = [e.value["action"] for e in events if e.kind == "fault.applied"]
    breach = next((e for e in events if e.kind == "stop_condition.breached"), None)
    if ctk.get("status") in ("interrupted", "aborted") or signalled:
        why = "a stop condition was breached" if breach else f"interrupted by {signalled or 'a signal'}"
        return {"verdict": "aborted", "reasons": [why, *reasons], "faults_applied": faults, "rolled_back": rolled_back,
                "status": ctk.get("status")}
    verdict = ("inconclusive" if all(unsure) else "fail") if reasons else "pass"
    return {"verdict": verdict, "reasons": reasons, "faults_applied": faults,
            "rolled_back": rolled_back, "status": ctk.get("status"), "deviated": ctk.get("deviated", False)}


CHAOS_CUT_OFF = "incomplete: the journal ends before chaos.end (the experiment was killed or cut off)"


def chaos_summary(events: list[Event], ctk: dict[str, Any] | None, signalled: str | None = None) -> dict[str, Any]:
    """verdict.json's content: the verdict (``gameday.chaos.verdict``), the title and run id, incompleteness."""
    start = next((e for e in events if e.kind == "chaos.start"), None)
    v = chaos_verdict(ctk, events, signalled=signalled)
    meta = {"kind": "chaos", "title": (start.value.get("title") if start else None)
            or (ctk or {}).get("experiment", {}).get("title") or "experiment",
            "run_id": start.value.get("run_id") if start else None,
            "environment": start.value.get("environment") if start else None,
            "started_at": start.t_wall if start else None}
    if events and not any(e.kind == "chaos.end" for e in events):
        why = [r for r in v["reasons"] if r != "Chaos Toolkit wrote no journal"]
        return {**meta, **v, "verdict": "aborted", "incomplete": True, "reasons": [CHAOS_CUT_OFF, *why]}
    return {**meta, **v}

"""A gate's (or a load run's) journal and its summary: the summary is a pure function of the journal.

The journal of ``gameday load gate|run`` holds, in order: ``gate.start`` (the settings: profile, host, rate,
duration, batch, workers, the SLOs judged with their ``default`` mark, the hard limits), ``load.tick`` (each
worker's second), ``failures`` (the load's failure reasons, ``gameday.reasons``, source ``load``, every few
seconds), ``load.result`` (what each generator process reported, or Locust's statistics for a closed-model
run; whether a hard limit aborted it; a step shape's stairs, each judged too: ``gameday.load.stairs``) and
``gate.end``. :func:`summary_from_journal` judges it; the run itself
and ``gameday report`` both call it, so the report of a journal is the gate's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from gameday.journal import Event
from gameday.load.closed_summary import summarize_closed
from gameday.load.judge import TickFilter
from gameday.load.profile import CLOSED
from gameday.load.slo import Slo, parse_slo
from gameday.load.stairs import judge_stairs, with_stairs
from gameday.load.summary import LATE_SHARE, SATURATED_CPU, summarize
from gameday.load.windows import LOAD_WINDOW
from gameday.reasons import top_reasons
from gameday.verdict import Verdict

__all__ = ["GATE_START", "LOAD_RESULT", "is_gate_journal", "slos_of", "summary_from_journal", "judged_events",
           "TOP_REASONS"]

GATE_START, LOAD_RESULT = "gate.start", "load.result"
TOP_REASONS = 5


def is_gate_journal(events: list[Event]) -> bool:
    return bool(events) and events[0].kind == GATE_START


def slos_of(settings: dict[str, Any]) -> list[Slo]:
    """The SLOs a gate judged, from its ``gate.start`` settings (defaults keep their mark)."""
    out = []
    for x in settings.get("slos", []):
        slo = parse_slo(x["expr"]) if isinstance(x, dict) else parse_slo(x)
        out.append(replace(slo, default=bool(isinstance(x, dict) and x.get("default"))))
    return out


def judged_events(events: Iterable[Event]) -> list[Event]:
    """The journal's events as the verdict needs them, in one pass (a stream will do): every event but the
    per-second ticks, and of those only the seconds the time-ordering rule can use (``judge.TickFilter``)."""
    out: list[Event] = []
    keep: TickFilter | None = None
    for e in events:
        if e.kind == "load.tick":
            v = keep.keep(e.value) if keep is not None else None
            if v is not None:
                out.append(replace(e, value=v))
            continue
        if e.kind == GATE_START and keep is None:
            keep = TickFilter(slos_of(e.value), late_share=LATE_SHARE, saturated_cpu=SATURATED_CPU)
        out.append(e)
    return out


def summary_from_journal(events: Iterable[Event]) -> dict[str, Any]:
    """summary.json of the run this journal records (a journal cut off before ``load.result``: aborted).
    ``events``: a list or a stream (``journal.iter_journal``); memory: the events but the healthy seconds."""
    events = judged_events(events)
    start = next(e for e in events if e.kind == GATE_START)
    st = start.value
    slos = slos_of(st)
    top = top_reasons(events, source="load", t0=start.t_wall, limit=TOP_REASONS)
    result = next((e.value for e in events if e.kind == LOAD_RESULT), None)
    common = {"profile": st.get("profile"), "host": st.get("host"), "workers": st.get("workers", 1),
              "run_id": st.get("run_id"), "hard_limits": st.get("hard_limits", []), "gate": bool(st.get("gate"))}
    if result is None:
        ended = any(e.kind == "gate.end" for e in events)
        why = "the journal has no load result (written by an older gameday?): its verdict cannot be recomputed" \
            if ended else "the journal ends before the load's result: the run was cut off"
        return {**common, "verdict": (Verdict.INCONCLUSIVE if ended else Verdict.ABORTED).value,
                "target_rate": st.get("rate"), "duration_s": float(st.get("duration") or 0.0),
                "batch": st.get("batch", 1), "failure_reasons": top, "slos": [], "reasons": [why]}
    if result["kind"] == CLOSED:
        s = summarize_closed(result.get("closed"), target_rate=st["rate"], duration_s=st["duration"], slos=slos,
                             locust_said=result.get("locust_said", []), workers=int(st.get("workers") or 1))
    else:
        parts = result.get("parts", [])
        windows = [e.value for e in events if e.kind == LOAD_WINDOW]
        ticks = [e.value for e in events if e.kind == "load.tick"]
        s = summarize(parts, target_rate=st["rate"], duration_s=st["duration"], batch=st.get("batch", 1),
                      slos=slos, aborted=result.get("aborted"), expected_parts=st.get("workers", 1), top=top,
                      windows=windows, ticks=ticks)
        stairs = judge_stairs(parts, slos=slos, batch=st.get("batch", 1), expected_parts=st.get("workers", 1),
                              windows=windows, ticks=ticks)
        if stairs:  # a step shape: each stair judged, not only the last
            s = with_stairs(s, stairs)
        s["locust_said"] = result.get("locust_said", [])
        if len(parts) < st.get("workers", 1) and s["locust_said"]:
            s["reasons"].append(f"Locust said: {s['locust_said'][-1]}")
    s.setdefault("failure_reasons", top)
    s.update(common)
    return s

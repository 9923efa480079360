"""score.md: the rehearsal's debrief, for the person and the team lead (a pure function of score.json)."""

from __future__ import annotations

from typing import Any

__all__ = ["render_score_md"]


def _s(x: Any) -> str:
    return "-" if x is None else f"{x:g} s" if isinstance(x, (int, float)) else str(x)


def render_score_md(s: dict[str, Any]) -> str:
    scale = s.get("time_scale") or 1
    if s.get("not_rehearsed"):
        return (f"# Rehearsal debrief: not rehearsed\n\n{s['not_rehearsed']}. Nothing was broken; fix the lab's "
                "service (or its description) and start again.\n")
    lines = [f"# Rehearsal debrief: {s['score']}/100{' (incomplete)' if s.get('incomplete') else ''}", "",
             f"Fault: **{s.get('fault')}**, runbook **{s.get('runbook')}**, verdict **{s.get('verdict')}**. "
             f"Times are at the rehearsal's time scale ({scale:g}: a budget of 5 min is {300 * scale:g} s here).",
             "", "| moment | after the fault |", "|---|---|",
             f"| alert ({s.get('alert') or 'none'}) | {_s(s.get('time_to_alert_s'))} |",
             f"| first failed probe | {_s(s.get('time_to_detect_s'))} |",
             f"| acknowledged (first answer after the alert) | {_s(s.get('time_to_acknowledge_s'))} |",
             f"| incident declared | {_s(s.get('time_to_declare_s'))} |", f"| RTO | {_s(s.get('rto_s'))} |",
             "", f"RPO {_s(s.get('rpo_s'))}, acknowledged events lost: {s.get('events_lost')}.", "",
             "| step | time | budget | result |", "|---|---|---|---|"]
    for st in s.get("steps", []):
        result = "over budget" if st["over_budget"] else ("done" if st["done"] else "not done")
        lines.append(f"| {st['name']} | {_s(st['actual_s'])} | {_s(st['budget_s'])} | {result} |")
    lines += ["", "## Mistakes", ""] + ([f"- {m}" for m in s["mistakes"]] or ["- none"])
    if s.get("steps_skipped"):
        lines.append(f"- skipped: {', '.join(s['steps_skipped'])}")
    return "\n".join(lines) + "\n"

"""The human form of a runbook (Markdown), rendered from its YAML; never edited by hand."""

from __future__ import annotations

from gameday.drill.models import Runbook

__all__ = ["render_runbook"]


def _minutes(s: float) -> str:
    return f"{s / 60:g} min" if s >= 60 else f"{s:g} s"


def render_runbook(rb: Runbook, source_file: str) -> str:
    lines = [f"<!-- rendered from {source_file} by `gameday runbook render`; edit the YAML, not this file -->",
             f"# Runbook: {rb.title}", ""]
    if rb.source:
        lines += [f"Source: {rb.source}", ""]
    total = sum(s.budget_s for s in rb.steps)
    lines += [f"Total budget: {_minutes(total)}.", "", "| # | step | kind | budget | done when |", "|---|---|---|---|---|"]
    for i, s in enumerate(rb.steps, 1):
        lines.append(f"| {i} | {s.name}{' (declares the incident)' if s.declares else ''} | {s.kind} | "
                     f"{_minutes(s.budget_s)} | {s.done_when} |")
    lines.append("")
    for i, s in enumerate(rb.steps, 1):
        lines += [f"## {i}. {s.name}", ""]
        if s.kind == "action":
            args = ", ".join(f"{k}={v}" for k, v in s.args.items())
            lines.append(f"- Action: `{s.call}({args})` on the target environment.")
        if s.wait_for:
            lines.append(f"- Wait for `{s.wait_for}` (at most {s.timeout_s:g} s).")
        if s.kind == "manual":
            lines.append(f"- Manual: {s.prompt or s.name}")
        if s.kind == "shell":
            lines.append(f"- Run: `{' '.join(s.command or [])}`")
        lines += [f"- Budget: {_minutes(s.budget_s)}.", f"- Done when: {s.done_when}.", ""]
    return "\n".join(lines)

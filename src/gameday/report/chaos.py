"""Chaos reports: verdict.json and junit.xml (one case per hypothesis probe, method action and rollback),
from the experiment's two journals (gameday's ``gameday-journal.jsonl`` and Chaos Toolkit's ``journal.json``).

``chaos_summary`` is a pure function of them; ``gameday report`` regenerates both files with it offline.
A gameday journal without ``chaos.end`` is a run that was killed: ``aborted`` and ``incomplete``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gameday.chaos.verdict import chaos_verdict
from gameday.journal import Event
from gameday.report.junit import chaos_cases, render_junit

__all__ = ["write_chaos_reports", "chaos_junit", "chaos_summary", "regenerate_chaos_reports", "CHAOS_CUT_OFF"]

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


def chaos_junit(verdict: dict[str, Any], ctk: dict[str, Any] | None) -> str:
    title = (ctk or {}).get("experiment", {}).get("title") or verdict.get("title") or "experiment"
    return render_junit(f"gameday.chaos: {title}", chaos_cases(verdict, ctk))


def write_chaos_reports(verdict: dict[str, Any], ctk: dict[str, Any] | None, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "verdict.json").write_text(json.dumps(verdict, indent=2))
    (out_dir / "junit.xml").write_text(chaos_junit(verdict, ctk))


def regenerate_chaos_reports(events: list[Event], journal: Path, out_dir: Path) -> dict[str, Any]:
    """verdict.json and junit.xml again from the journals beside ``journal`` (offline)."""
    ctk_file = journal.parent / "journal.json"
    ctk = json.loads(ctk_file.read_text()) if ctk_file.exists() else None
    summary = chaos_summary(events, ctk)
    write_chaos_reports(summary, ctk, out_dir)
    return summary

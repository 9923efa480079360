"""Write every report of a drill from its journal alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gameday.journal import Event
from gameday.judge.drill import check
from gameday.report.html import render_html
from gameday.report.junit import drill_cases, render_junit
from gameday.report.markdown import render_markdown
from gameday.report.why import diagnosis, reconcile_failure

__all__ = ["write_reports"]



def write_reports(events: list[Event], out_dir: Path) -> dict[str, Any]:
    """report.json, report.md, report.html, junit.xml in ``out_dir``; returns report.json's content."""
    summary = check(events)  # a journal without drill.end is aborted and incomplete: the checker's own rule
    if summary.get("drill") is not None:  # why, in words: what the service answered, what went unmeasured
        summary["reconcile_failed"] = reconcile_failure(events, summary)
        summary["diagnosis"] = diagnosis(summary)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(summary, indent=2, default=str))
    (out_dir / "report.md").write_text(render_markdown(summary))
    (out_dir / "report.html").write_text(render_html(summary, events))
    (out_dir / "junit.xml").write_text(render_junit(f"gameday.drill.{summary.get('drill', 'unknown')}", drill_cases(summary)))
    return summary

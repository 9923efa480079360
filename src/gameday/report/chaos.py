"""Chaos reports: verdict.json (``gameday.chaos.verdict.chaos_summary``, a pure function of the experiment's
journals) and junit.xml (one case per hypothesis probe, method action and rollback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gameday.report.junit import chaos_cases, render_junit

__all__ = ["write_chaos_reports", "chaos_junit"]

def chaos_junit(verdict: dict[str, Any], ctk: dict[str, Any] | None) -> str:
    title = (ctk or {}).get("experiment", {}).get("title") or verdict.get("title") or "experiment"
    return render_junit(f"gameday.chaos: {title}", chaos_cases(verdict, ctk))


def write_chaos_reports(verdict: dict[str, Any], ctk: dict[str, Any] | None, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "verdict.json").write_text(json.dumps(verdict, indent=2))
    (out_dir / "junit.xml").write_text(chaos_junit(verdict, ctk))

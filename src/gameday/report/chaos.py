"""Chaos reports: verdict.json and junit.xml (one case per hypothesis probe, method action and rollback)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

__all__ = ["write_chaos_reports", "chaos_junit"]


def chaos_junit(verdict: dict[str, Any], ctk: dict[str, Any] | None) -> str:
    title = (ctk or {}).get("experiment", {}).get("title", "experiment")
    suite = ET.Element("testsuite", name=f"gameday.chaos: {title}")
    cases: list[tuple[str, str | None]] = []
    for phase, ss in ((ctk or {}).get("steady_states") or {}).items():
        for h in (ss if isinstance(ss, list) else [ss]) if ss else []:
            for p in h.get("probes", []):
                ok = p.get("tolerance_met", True)
                cases.append((f"hypothesis {phase}: {p['activity']['name']}",
                              None if ok else f"tolerance {p['activity'].get('tolerance')!r} not met: {p.get('output')!r}"))
    for r in (ctk or {}).get("run", []):
        if r["activity"].get("type") == "action":
            cases.append((f"method: {r['activity']['name']}", None if r.get("status") == "succeeded" else
                          "".join(r.get("exception") or [])[-300:] or r.get("status")))
    for r in (ctk or {}).get("rollbacks", []):
        cases.append((f"rollback: {r['activity']['name']}", None if r.get("status") == "succeeded" else r.get("status")))
    cases.append(("verdict", None if verdict["verdict"] == "pass" else
                  f"{verdict['verdict']}: {'; '.join(verdict['reasons'])}"))
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for _, m in cases if m)))
    for name, msg in cases:
        case = ET.SubElement(suite, "testcase", classname="gameday.chaos", name=name)
        if msg:
            ET.SubElement(case, "failure", message=str(msg)[:500]).text = str(msg)
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode") + "\n"


def write_chaos_reports(verdict: dict[str, Any], ctk: dict[str, Any] | None, out_dir: Path) -> None:
    (out_dir / "verdict.json").write_text(json.dumps(verdict, indent=2))
    (out_dir / "junit.xml").write_text(chaos_junit(verdict, ctk))

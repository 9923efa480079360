"""JUnit XML: one test case per target and per runbook step."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

__all__ = ["render_junit"]


def render_junit(summary: dict[str, Any]) -> str:
    name = f"gameday.drill.{summary.get('drill', 'unknown')}"
    cases: list[tuple[str, float, str | None]] = []
    for t in summary.get("targets", []):
        limit = t.get("target_s", t.get("target"))
        msg = None if t["ok"] else f"{t['name']}: observed {t['observed']}, target {limit}"
        cases.append((f"target {t['name']} <= {limit}", 0.0, msg))
    for s in summary.get("steps", []):
        msg = None
        if not s["done"]:
            msg = f"did not complete: {s['detail']}"
        elif s["over_budget"]:
            msg = f"blew its budget: {s['actual_s']} s > {s['budget_s']} s"
        cases.append((f"step {s['id']}: {s['name']}", s["actual_s"] or 0.0, msg))
    if not cases or summary.get("verdict") in ("inconclusive", "aborted"):
        cases.append(("verdict", 0.0, None if summary.get("verdict") == "pass" else
                      f"verdict {summary.get('verdict')}: {'; '.join(summary.get('reasons', []))}"))
    suite = ET.Element("testsuite", name=name, tests=str(len(cases)),
                       failures=str(sum(1 for c in cases if c[2])), errors="0")
    for title, secs, msg in cases:
        case = ET.SubElement(suite, "testcase", classname=name, name=title, time=f"{secs:.3f}")
        if msg:
            ET.SubElement(case, "failure", message=msg).text = msg
    return ET.tostring(ET.Element("testsuites"), encoding="unicode").replace(
        "<testsuites />", "<testsuites>" + ET.tostring(suite, encoding="unicode") + "</testsuites>") + "\n"

"""The one JUnit XML writer, and the test cases of each kind of run (drill, load gate, chaos experiment)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

__all__ = ["Case", "render_junit", "drill_cases", "gate_cases", "chaos_cases"]


@dataclass(frozen=True)
class Case:
    name: str
    failure: str | None = None  # None: passed
    seconds: float = 0.0
    classname: str | None = None


def render_junit(suite_name: str, cases: list[Case]) -> str:
    suite = ET.Element("testsuite", name=suite_name, tests=str(len(cases)),
                       failures=str(sum(1 for c in cases if c.failure)), errors="0")
    for c in cases:
        case = ET.SubElement(suite, "testcase", classname=c.classname or suite_name, name=c.name,
                             time=f"{c.seconds:.3f}")
        if c.failure:
            ET.SubElement(case, "failure", message=c.failure[:500]).text = c.failure
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode") + "\n"


def _observed(t: dict[str, Any]) -> str:
    """What a target or an SLO saw, in words (``not measured`` where nothing was; never ``None``)."""
    if t.get("never_recovered"):
        return f"not recovered in {t.get('observed_for_s')} s"
    return "not measured" if t.get("observed") is None else f"observed {t['observed']}"


def _verdict_case(summary: dict[str, Any]) -> Case:
    v = summary.get("verdict")
    return Case("verdict", None if v == "pass" else f"{v}: {'; '.join(summary.get('reasons', []))}")


def drill_cases(summary: dict[str, Any]) -> list[Case]:
    """A case per target and per runbook step (and the verdict when it is not a plain pass or fail)."""
    cases: list[Case] = []
    for t in summary.get("targets", []):
        limit = t.get("target_s", t.get("target"))
        cases.append(Case(f"target {t['name']} <= {limit}",
                          None if t["ok"] else f"{t['name']}: {_observed(t)}, target {limit}"))
    for s in summary.get("steps", []):
        msg = None
        if not s["done"]:
            msg = f"did not complete: {s['detail']}"
        elif s["over_budget"]:
            msg = f"blew its budget: {s['actual_s']} s > {s['budget_s']} s"
        cases.append(Case(f"step {s['id']}: {s['name']}", msg, s["actual_s"] or 0.0))
    if not cases or summary.get("verdict") in ("inconclusive", "aborted") or summary.get("incomplete"):
        cases.append(_verdict_case(summary))
    return cases


def gate_cases(summary: dict[str, Any]) -> list[Case]:
    """A case per SLO (a default one says so), per stair of a step shape, and the verdict; a failure names the top error reasons."""
    why = "".join(f"\n{f['count']} x {f['reason']}" for f in summary.get("failure_reasons", []))
    why = f"\ntop error reasons:{why}" if why else ""
    cases = [Case(x["expr"] + (" (default)" if x.get("default") else ""),
                  None if x["ok"] else f"observed {x.get('shown', x['observed'])}{why}", classname="gameday.load.slo")
             for x in summary["slos"]]
    cases += [Case(f"stair {r['stair']} of {r['of']} at {r['target_rate']:g} events/s",
                   None if r["verdict"] in (None, "pass") else f"{r['verdict']}: {'; '.join(r['reasons'])}",
                   classname="gameday.load.stair") for r in summary.get("stairs", [])]
    verdict = _verdict_case(summary)
    if verdict.failure:
        verdict = Case(verdict.name, verdict.failure + why)
    return [*cases, verdict]


def chaos_cases(verdict: dict[str, Any], ctk: dict[str, Any] | None) -> list[Case]:
    """A case per hypothesis probe, method action and rollback, and the verdict."""
    cases: list[Case] = []
    for phase, ss in ((ctk or {}).get("steady_states") or {}).items():
        for h in (ss if isinstance(ss, list) else [ss]) if ss else []:
            for p in h.get("probes", []):
                ok = p.get("tolerance_met", True)
                cases.append(Case(f"hypothesis {phase}: {p['activity']['name']}", None if ok else
                                  f"tolerance {p['activity'].get('tolerance')!r} not met: {p.get('output')!r}"))
    for r in (ctk or {}).get("run", []):
        if r["activity"].get("type") == "action":
            cases.append(Case(f"method: {r['activity']['name']}", None if r.get("status") == "succeeded" else
                              "".join(r.get("exception") or [])[-300:] or str(r.get("status"))))
    for r in (ctk or {}).get("rollbacks", []):
        cases.append(Case(f"rollback: {r['activity']['name']}",
                          None if r.get("status") == "succeeded" else str(r.get("status"))))
    return [*cases, _verdict_case(verdict)]

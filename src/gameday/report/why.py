"""Why a drill ended as it did, in words beside the figures: the top failure reasons (what the service
answered, with counts and first/last time relative to T0), what a drill that did not recover was still
answered, and why a reconciliation could not run and what it therefore left unmeasured. Pure functions of
the journal and report.json."""

from __future__ import annotations

from typing import Any

from gameday.journal import Event
from gameday.reasons import failure_cause

__all__ = ["diagnosis", "reason_line", "reconcile_failure"]


def _at(t: float | None) -> str:
    return "-" if t is None else f"{t:+.2f} s"


def reason_line(r: dict[str, Any]) -> str:
    """``probe: write: HTTP 401: bad token × 15 (first -3.00 s, last -0.20 s)``."""
    return f"{r['source']}: {r['reason']} × {r['count']} (first {_at(r.get('first_s'))}, last {_at(r.get('last_s'))})"


def reconcile_failure(events: list[Event], summary: dict[str, Any]) -> dict[str, Any] | None:
    """The ``reconcile.failed`` event as its cause's category, its error, and the targets it left unmeasured."""
    failed = next((e for e in events if e.kind == "reconcile.failed"), None)
    if failed is None:
        return None
    error = failed.error or failed.value.get("error") or ""
    unmeasured = [t["name"] for t in summary.get("targets", []) if t.get("observed") is None]
    return {"cause": failed.value.get("cause") or failure_cause(error), "error": error, "unmeasured": unmeasured}


def diagnosis(summary: dict[str, Any]) -> list[str]:
    """The sentences that say why: what a drill that did not recover was answered, why nothing was reconciled."""
    lines = []
    after = [r for r in summary.get("failure_reasons", []) if (r.get("last_s") or 0) >= 0]
    if summary.get("t0") is not None and summary.get("rto_s") is None and after:
        top = after[0]
        lines.append(f"the service did not recover: until {_at(top.get('last_s'))} it answered "
                     f"{top['reason']} ({top['count']} times from {_at(top.get('first_s'))})")
    rf = summary.get("reconcile_failed")
    if rf:
        left = ", ".join(rf["unmeasured"]) or "nothing"
        lines.append(f"the reconciliation could not run ({rf['cause']}: {rf['error']}); therefore not measured: {left}")
    return lines

"""The restore section of a drill's reports (report.md, report.html): what was restored, how long it took, and
the ledger's split of what the restored database lacks."""

from __future__ import annotations

from typing import Any

from gameday.report.words import full_scale

__all__ = ["restore_rows"]


def _span(b: dict[str, Any], scale: float) -> str:
    if not b["events"]:
        return "0"
    return f"{b['events']} (acknowledged over {full_scale(b['span_s'], scale)})"


def restore_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    """(measure, value) rows; none when the run restored nothing. Times are also given at full scale."""
    r = s.get("restore")
    if not r:
        return []
    scale = s.get("time_scale") or 1

    def t(v: float | None) -> str:
        return full_scale(v, scale)
    rows = [("restore", f"{r['kind']} from {r.get('source')} into {r.get('instance')}"),
            ("restore point (relative to T0)", t(r.get("restore_point_s"))),
            ("restore duration", t(r.get("restore_s"))),
            ("backup age at the fault (T0 - the base backup or snapshot)", t(r.get("backup_age_s"))),
            ("latest restorable time lag (when the restore began)", t(r.get("restorable_lag_s"))),
            ("writer swapped to the restored instance at", t(r.get("swapped_at_s")))]
    m = r.get("missing")
    if m is None:
        return [*rows, ("events the restored database lacks", "not measured (no reconciliation)")]
    return [*rows,
            ("missing, acknowledged at or before the restore point (a backup defect; must be 0)",
             _span(m["before_restore_point"], scale)),
            ("missing, acknowledged after the restore point, before the swap (the PITR price)",
             _span(m["pitr_price"], scale)),
            ("missing, acknowledged after the swap (lost; must be 0)", _span(m["after_swap"], scale))]

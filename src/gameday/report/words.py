"""The sentences a DR lead needs beside the figures: what the RPO means next to the lost events, what
"indeterminate" is, limits with their units, and every time also at full scale on a compressed
environment. Pure functions of report.json."""

from __future__ import annotations

from typing import Any

__all__ = ["seconds", "full_scale", "rpo_sentence", "indeterminate_sentence", "target_rows", "fmt"]


def fmt(v: Any) -> str:
    return "-" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def _human(s: float) -> str:
    if s < 60:
        return f"{s:.0f} s" if s >= 10 else f"{s:.2g} s"
    m, sec = divmod(round(s), 60)
    return f"{m} min {sec} s" if m < 60 and sec else (f"{m} min" if m < 60 else f"{m // 60} h {m % 60} min")


def seconds(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g} s"


def full_scale(v: float | None, scale: float) -> str:
    """``2.03 s`` and, on a compressed environment, ``(2 min 2 s at full scale)``."""
    if v is None:
        return "-"
    return seconds(v) if scale == 1 else f"{seconds(v)} ({_human(v / scale)} at full scale)"


def rpo_sentence(s: dict[str, Any]) -> str:
    lost, rpo = s.get("events_lost"), s.get("rpo_s")
    if lost is None or rpo is None:
        return "RPO could not be measured (no reconciliation, or no heartbeat reached the database)."
    limit = next((t.get("target_s") for t in s.get("targets", []) if t["name"] == "rpo"), None)
    within = "" if limit is None else (" That is within the RPO target of " if rpo <= limit else
                                       " That breaches the RPO target of ") + f"{seconds(limit)}."
    if not lost:
        return f"No acknowledged write was lost; the data the new primary lacked spans {seconds(rpo)}.{within}"
    window = s.get("lost_window_s")
    when = f", acknowledged in the last {seconds(window)} before the fault" if window is not None else ""
    return (f"{lost} acknowledged write(s) were lost{when}: they had not reached the new primary when it took "
            f"over. RPO {seconds(rpo)} is the data-time they span (the larger of the heartbeat and ledger measures)."
            f"{within}")


def indeterminate_sentence(s: dict[str, Any]) -> str:
    n, present = s.get("events_indeterminate"), s.get("indeterminate_present")
    if not n:
        return "Every request got an answer."
    return (f"{n} event(s) were sent in requests that got no answer (a timeout, a reset, or a 504): the client "
            f"cannot know whether they were written. Afterwards {present} of them are in the database (written, "
            f"the answer was lost) and {n - (present or 0)} are not (never written). Neither counts as lost.")


def target_rows(s: dict[str, Any]) -> list[dict[str, str]]:
    scale = s.get("time_scale") or 1
    rows = []
    for t in s.get("targets", []):
        timed = "target_s" in t
        limit = full_scale(t["target_s"], scale) if timed else f"{t.get('target')} events"
        observed = full_scale(t["observed"], scale) if timed else fmt(t["observed"])
        if t.get("never_recovered"):
            observed = f"not recovered in {seconds(t.get('observed_for_s'))}"
        rows.append({"name": t["name"].upper() if timed else t["name"].replace("_", " "), "limit": limit,
                     "observed": observed, "ok": "yes" if t["ok"] else "NO"})
    return rows

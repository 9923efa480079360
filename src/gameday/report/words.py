"""The sentences a DR lead needs beside the figures: what the RPO means next to the lost events, what
"indeterminate" is, limits with their units, and every time also at full scale on a compressed
environment. Pure functions of report.json."""

from __future__ import annotations

from typing import Any

__all__ = ["seconds", "full_scale", "rto_sentence", "rpo_sentence", "indeterminate_sentence", "target_rows", "fmt"]


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


def rto_sentence(s: dict[str, Any]) -> str:
    """How the recovery was measured: from the clients' evidence (probes and the load's own requests)."""
    scale = s.get("time_scale") or 1
    relapse = (f" After that, {s['relapses']} piece(s) of evidence failed again (a relapse, reported, not moving "
               "the recovery instant)." if s.get("relapses") else "")
    if s.get("no_outage"):
        return ("No client-visible outage: neither the probes nor the load saw a failure while the fault's effect "
                f"could show, so RTO is 0.{relapse}")
    if s.get("rto_s") is not None:
        return (f"Clients saw the outage {full_scale(s.get('t_detect_s'), scale)} after T0 (probes or the load's own "
                f"requests) and were served again from {full_scale(s.get('t_recovered_s'), scale)}: the start of the "
                f"run of successes that held for the required consecutive probes.{relapse}")
    if s.get("observed_for_s") is not None:
        return f"The service did not recover in the {seconds(s.get('observed_for_s'))} it was watched after T0."
    return "RTO could not be measured."


def rpo_sentence(s: dict[str, Any]) -> str:
    lost, rpo = s.get("events_lost"), s.get("rpo_s")
    if s.get("events_counted") is False and rpo is not None:  # no service.store: the heartbeat alone
        return f"RPO {seconds(rpo)}, from the heartbeat's gaps alone: {s.get('events_note')}.{_within(s, rpo)}"
    if rpo is None and s.get("rpo_why"):
        return f"RPO could not be measured: {s['rpo_why']}."
    if lost is None or rpo is None:
        why = s.get("reconcile_error")
        return ("RPO could not be measured: " + (f"the reconciliation failed ({why})." if why else
                                                  "there was no reconciliation against the new primary."))
    within = _within(s, rpo)
    if not lost:
        return f"No acknowledged write was lost; the data the new primary lacked spans {seconds(rpo)}.{within}"
    out = (f"{lost} acknowledged write(s) were lost: {_when_lost(s)}. RPO {seconds(rpo)} is the data-time they "
           f"span (the larger of the heartbeat and ledger measures).{within}")
    return out + (f" Note: {s['rpo_note']}." if s.get("rpo_note") else "")


def _within(s: dict[str, Any], rpo: float) -> str:
    limit = next((t.get("target_s") for t in s.get("targets", []) if t["name"] == "rpo"), None)
    return "" if limit is None else (" That is within the RPO target of " if rpo <= limit else
                                     " That breaches the RPO target of ") + f"{seconds(limit)}."


def _when_lost(s: dict[str, Any]) -> str:
    """When the lost writes had been acknowledged, relative to the fault and the recovery."""
    split = s.get("lost_split") or {}
    parts = []
    before, during, after = split.get("before_fault", 0), split.get("during_outage", 0), split.get("after_recovery", 0)
    first = s.get("lost_first_ack_s")
    if before:
        since = f" (from {seconds(-first)} before it)" if first is not None and first < 0 else ""
        parts.append(f"{before} acknowledged before the fault{since}, not yet on the new primary when it took over")
    if during:
        parts.append(f"{during} acknowledged during the outage")
    if after:
        settle = s.get("settle_s")
        parts.append(f"{after} acknowledged after recovery, possibly still in the service's pipeline when the "
                     f"reconciliation read (store.settle_s is {seconds(settle) if settle is not None else 'unset'}; "
                     "raise it if the service writes asynchronously)")
    return "; ".join(parts) if parts else "when, the ledger does not say"


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

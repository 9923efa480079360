"""What AWS itself reported during a drill, beside gameday's own measures (pure functions of the journal):

- ARC Region switch: each ``run_region_switch_plan`` step's execution, its state and ARC's own "actual recovery
  time" (the plan's run plus the time until its application health alarms were healthy again), next to the data
  RTO/RPO gameday measured around it;
- a region isolation by NACLs: RDS and Aurora replicate outside the VPC, so the DR replica kept receiving WAL and
  the measured RPO is a lower bound of a real region loss; the replica lag CloudWatch reported at T0 estimates what
  a real loss would have cost, and is judged against the RPO target (no datapoint: not measured);
- MSK consumer lag of the environment's consumer group, each reading (``observe.consumer_lag``) relative to T0.
"""

from __future__ import annotations

from typing import Any

from gameday.journal import Event

__all__ = ["aws_figures", "region_loss_target", "LOWER_BOUND"]

LOWER_BOUND = ("the NACL isolation does not stop the replication RDS/Aurora manage outside the VPC: the DR replica "
               "kept receiving WAL, so the measured RPO is a lower bound of a real region loss")


def _region_switch(events: list[Event]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        r = e.value.get("result") if e.kind == "step.end" else None
        if isinstance(r, dict) and str(r.get("plan", "")).startswith("arn:") and "execution_id" in r:
            out.append({"step": e.value["id"], **{k: r.get(k) for k in (
                "execution_id", "state", "action", "mode", "target_region", "actual_recovery_time",
                "actual_recovery_s")}})
    return out


def _isolation(applied: Event) -> dict[str, Any] | None:
    r = applied.value.get("result") or {}
    if applied.value.get("action") != "fail_region" or "managed_replication" not in r:
        return None
    lag = r.get("replica_lag_at_t0") or {}
    return {"lower_bound": LOWER_BOUND, "metric": lag.get("metric"), "replica_lag_s": lag.get("lag_s"),
            "why_none": lag.get("why_none")}


def aws_figures(events: list[Event], applied: Event, t0: float) -> dict[str, Any]:
    """``region_switch``, ``region_isolation`` and ``consumer_lag``, each only when the journal has it."""
    out: dict[str, Any] = {}
    switch = _region_switch(events)
    if switch:
        out["region_switch"] = switch
    iso = _isolation(applied)
    if iso is not None:
        out["region_isolation"] = iso
    lag = [{"t_s": round(e.t_wall - t0, 3), **{k: e.value.get(k) for k in ("max_offset_lag", "max_time_lag_s", "at")}}
           for e in events if e.kind == "observe.consumer_lag"]
    if lag:
        first = next(e.value for e in events if e.kind == "observe.consumer_lag")
        out["consumer_lag"] = {"consumer_group": first.get("consumer_group"), "topic": first.get("topic"),
                               "readings": lag,
                               "max_offset_lag": max((x["max_offset_lag"] for x in lag if x["max_offset_lag"] is not None),
                                                     default=None),
                               "max_time_lag_s": max((x["max_time_lag_s"] for x in lag if x["max_time_lag_s"] is not None),
                                                     default=None)}
    return out


def region_loss_target(figures: dict[str, Any], rpo_target_s: float, rpo_target_real_s: float) -> list[dict[str, Any]]:
    """The RPO target judged on the estimate of a real region loss too (an isolation by NACLs only)."""
    iso = figures.get("region_isolation")
    if iso is None:
        return []
    lag = iso["replica_lag_s"]
    return [{"name": "rpo_region_loss_estimate", "target_s": rpo_target_s, "target_real_s": rpo_target_real_s,
             "observed": lag, "ok": lag is not None and lag <= rpo_target_s}]

"""The report's lines for what AWS reported (``gameday.judge.aws_figures``): rows beside RTO/RPO, sentences
under them, and the consumer-lag readings. Pure functions of report.json."""

from __future__ import annotations

from typing import Any

from gameday.report.words import fmt, seconds

__all__ = ["aws_rows", "aws_sentences", "lag_rows"]


def aws_rows(s: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows for the figures table: ARC's actual recovery time, the region-loss RPO estimate."""
    rows = []
    for x in s.get("region_switch") or []:
        value = seconds(x.get("actual_recovery_s")) if x.get("actual_recovery_s") is not None else "not reported"
        rows.append((f"ARC Region switch actual recovery time (step {x['step']}: {x.get('state')}, "
                     f"{x.get('action')} {x.get('target_region')}, {x.get('mode')})", value))
    iso = s.get("region_isolation")
    if iso:
        rows.append((f"RPO estimate of a real region loss (CloudWatch {iso.get('metric') or 'replica lag'} at T0)",
                     seconds(iso.get("replica_lag_s")) if iso.get("replica_lag_s") is not None else "not reported"))
    lag = s.get("consumer_lag")
    if lag:
        rows.append((f"MSK consumer lag, max ({lag.get('consumer_group')} on {lag.get('topic')})",
                     f"{fmt(lag.get('max_offset_lag'))} messages / {seconds(lag.get('max_time_lag_s'))}"))
    return rows


def aws_sentences(s: dict[str, Any]) -> list[str]:
    out = []
    for x in s.get("region_switch") or []:
        out.append(f"ARC's actual recovery time is the Region switch plan's run plus the time until its application "
                   f"health alarms were healthy again (execution {x.get('execution_id')}); gameday's RTO and RPO are "
                   "measured by its own probes and data around the same runbook.")
    iso = s.get("region_isolation")
    if iso:
        est = (f"CloudWatch reported {iso['metric']} = {seconds(iso['replica_lag_s'])} at T0: what a real loss of the "
               "region would have cost in data" if iso.get("replica_lag_s") is not None
               else f"no estimate of a real loss: {iso.get('why_none') or 'CloudWatch reported no replica lag'}")
        out.append(f"Region isolation: {iso['lower_bound']}; {est}.")
    return out


def lag_rows(s: dict[str, Any]) -> list[dict[str, str]]:
    """One row per consumer-lag reading, its time relative to T0."""
    lag = s.get("consumer_lag") or {}
    return [{"t": f"{r['t_s']:+.1f} s", "offset": fmt(r.get("max_offset_lag")), "time": seconds(r.get("max_time_lag_s"))}
            for r in lag.get("readings", [])]

"""Lag as CloudWatch reports it: MSK consumer lag of the environment's consumer group (``AWS/Kafka``
``MaxOffsetLag`` / ``EstimatedMaxTimeLag``) and the DR database's replication lag (``AWS/RDS`` ``ReplicaLag`` of
the cross-region replica, or ``AuroraGlobalDBReplicationLag`` of the global database's secondary cluster).

Each reading is the newest datapoint of the last few periods (``GetMetricData``, newest first): CloudWatch's
own figure at its own time (``at``), never an interpolation; no datapoint is ``None`` and says why it may be.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gameday.errors import DriverError
from gameday.targets.aws.session import AwsSession

__all__ = ["consumer_lag", "replica_lag"]

_PERIODS = 5  # how far back the newest datapoint is looked for


def _latest(s: AwsSession, region: str, namespace: str, dims: dict[str, str], metrics: dict[str, str],
            period_s: int) -> dict[str, tuple[float, float] | None]:
    """{key: (value, its time) of the newest datapoint, or None} for each ``metrics`` key -> metric name."""
    now = datetime.now(UTC)
    dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
    queries = [{"Id": key, "ReturnData": True, "MetricStat": {"Period": period_s, "Stat": "Maximum", "Metric": {
        "Namespace": namespace, "MetricName": name, "Dimensions": dimensions}}} for key, name in metrics.items()]
    got = s.client("cloudwatch", region).get_metric_data(
        MetricDataQueries=queries, StartTime=now - timedelta(seconds=_PERIODS * period_s), EndTime=now,
        ScanBy="TimestampDescending")
    out: dict[str, tuple[float, float] | None] = dict.fromkeys(metrics)
    for r in got["MetricDataResults"]:
        pairs = sorted(zip(r.get("Timestamps", []), r.get("Values", []), strict=True), reverse=True)
        if pairs:
            out[r["Id"]] = (float(pairs[0][1]), pairs[0][0].timestamp())
    return out


def consumer_lag(s: AwsSession) -> dict[str, Any] | None:
    """The consumer group's lag on its topic now, None when the environment names no consumer group."""
    c = s.settings.msk_consumer_lag
    if c is None:
        return None
    cluster = c.cluster_name or str(s.settings.msk_cluster_arn).split("/")[1]
    got = _latest(s, s.settings.primary_region, "AWS/Kafka",
                  {"Cluster Name": cluster, "Consumer Group": c.consumer_group, "Topic": c.topic},
                  {"offset": "MaxOffsetLag", "time": "EstimatedMaxTimeLag"}, c.period_s)
    offset, time_lag = got["offset"], got["time"]
    out: dict[str, Any] = {"consumer_group": c.consumer_group, "topic": c.topic,
                           "max_offset_lag": offset[0] if offset else None,
                           "max_time_lag_s": time_lag[0] if time_lag else None,
                           "at": max((x[1] for x in (offset, time_lag) if x), default=None)}
    if offset is None and time_lag is None:
        out["why_none"] = (f"no datapoint in the last {_PERIODS} periods (MSK emits consumer lag only while the group "
                           "is STABLE or EMPTY and has committed offsets)")
    return out


def replica_lag(s: AwsSession) -> dict[str, Any]:
    """The DR database's replication lag as CloudWatch last reported it (seconds), or why it is unknown."""
    r, dr = s.settings.rds, s.settings.dr_region
    if r.global_cluster_id:
        metric, dims, scale = "AuroraGlobalDBReplicationLag", {"DBClusterIdentifier": str(r.dr_cluster_id)}, 0.001
    elif r.dr_replica_id:
        metric, dims, scale = "ReplicaLag", {"DBInstanceIdentifier": r.dr_replica_id}, 1.0
    else:
        return {"metric": None, "lag_s": None, "why_none": "no DR replica in the environment"}
    try:
        got = _latest(s, dr, "AWS/RDS", dims, {"lag": metric}, 60)["lag"]
    except DriverError as exc:  # the fault goes ahead: the estimate is missing, and says why
        return {"metric": metric, "lag_s": None, "why_none": str(exc)}
    if got is None:
        return {"metric": metric, "lag_s": None, "why_none": f"no {metric} datapoint in the last {_PERIODS} minutes"}
    return {"metric": metric, "lag_s": round(got[0] * scale, 3), "at": got[1]}

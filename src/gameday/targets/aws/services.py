"""ElastiCache, MSK, FIS, CloudWatch alarms: one function per abstract operation (boto3; chaosaws's
ElastiCache/MSK/FIS coverage does not fit a zone outage)."""

from __future__ import annotations

from functools import partial
from typing import Any

from gameday.targets.aws import wait
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["stop_fis", "elasticache_failover_in_zone", "msk_reboot_brokers_in_zone",
           "start_fis", "alarms_in_alarm"]


def elasticache_failover_in_zone(s: AwsSession, acts: Actions, zone: str) -> list[str]:
    group = s.settings.elasticache_replication_group
    if not group:
        return []
    ec = s.client("elasticache")
    rg = ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]
    hit = []
    for ng in rg.get("NodeGroups", []):
        primary = next((m for m in ng.get("NodeGroupMembers", []) if m.get("CurrentRole") == "primary"), None)
        if primary and primary.get("PreferredAvailabilityZone") == zone:
            acts.do("elasticache:TestFailover", f"{group}/{ng['NodeGroupId']}", lambda ng=ng: ec.test_failover(
                ReplicationGroupId=group, NodeGroupId=ng["NodeGroupId"]))
            hit.append(ng["NodeGroupId"])
    return hit


def _msk_operation(kafka: Any, op: str) -> dict[str, Any]:
    return dict(kafka.describe_cluster_operation(ClusterOperationArn=op)["ClusterOperationInfo"])


def _msk_state_is(kafka: Any, op: str, state: str | None) -> Any:
    """True when the operation is in ``state``; with None, the state."""
    now = _msk_operation(kafka, op).get("OperationState")
    return now == state if state else str(now)


def _msk_failed(kafka: Any, op: str) -> str | None:
    info = _msk_operation(kafka, op)
    if info.get("OperationState") not in ("UPDATE_FAILED", "REBOOT_FAILED"):
        return None
    err = info.get("ErrorInfo") or {}
    return f"the operation is {info['OperationState']} ({err.get('ErrorCode', '')} {err.get('ErrorString', '')})".strip()


def msk_reboot_brokers_in_zone(s: AwsSession, acts: Actions, zone: str) -> list[str]:
    """Reboot the zone's brokers one at a time (RebootBroker takes one broker per call), each waited for until
    its cluster operation is UPDATE_COMPLETE before the next (a failed operation fails the wait at once)."""
    arn = s.settings.msk_cluster_arn
    if not arn:
        return []
    kafka = s.client("kafka")
    subnet_zone = {x["SubnetId"]: x["AvailabilityZone"] for x in s.client("ec2").describe_subnets()["Subnets"]}
    nodes = [n for page in kafka.get_paginator("list_nodes").paginate(ClusterArn=arn) for n in page["NodeInfoList"]]
    ids = sorted((str(int(n["BrokerNodeInfo"]["BrokerId"])) for n in nodes
                  if subnet_zone.get(n["BrokerNodeInfo"].get("ClientSubnet")) == zone), key=int)
    for b in ids:
        out = acts.do("kafka:RebootBroker", arn, lambda b=b: kafka.reboot_broker(ClusterArn=arn, BrokerIds=[b]),
                      BrokerIds=[b])
        if out is not None:
            op = out["ClusterOperationArn"]
            wait.until(s, acts, f"the reboot of broker {b} of {arn} to complete",
                       partial(_msk_state_is, kafka, op, "UPDATE_COMPLETE"), partial(_msk_state_is, kafka, op, None),
                       terminal=partial(_msk_failed, kafka, op))
    return ids


def start_fis(s: AwsSession, acts: Actions, template_id: str, tag: str) -> str | None:
    fis = s.client("fis")
    out = acts.do("fis:StartExperiment", template_id, lambda: fis.start_experiment(
        experimentTemplateId=template_id, tags={"gameday": tag}))
    return out["experiment"]["id"] if out else None


def alarms_in_alarm(s: AwsSession) -> list[str]:
    names = s.settings.stop_condition_alarms
    if not names:
        return []
    cw = s.client("cloudwatch")
    return [a["AlarmName"] for a in cw.describe_alarms(AlarmNames=names)["MetricAlarms"] if a["StateValue"] == "ALARM"]


_FIS_LIVE = ("pending", "initiating", "running")
_FIS_OVER = ("completed", "stopped", "failed", "cancelled")


def _fis_templates(s: AwsSession) -> list[str]:
    c = s.settings
    return [t for t in (c.fis_az_template_id, c.fis_spot_template_id, c.fis_region_template_id) if t]


def _fis_state(fis: Any, i: str) -> str:
    return str(fis.get_experiment(id=i)["experiment"]["state"]["status"])


def _fis_over(fis: Any, i: str) -> bool:
    return _fis_state(fis, i) in _FIS_OVER


def stop_fis(s: AwsSession, acts: Actions) -> list[str]:
    """Stop every experiment gameday started (tagged ``gameday``, of the environment's templates) that still
    runs, and wait until FIS says each is over: from any process (``recover`` has only the journal), since
    the experiments are found by listing, not remembered."""
    if not _fis_templates(s):
        return []
    fis = s.client("fis")
    live = [e["id"] for t in _fis_templates(s)
            for page in fis.get_paginator("list_experiments").paginate(experimentTemplateId=t)
            for e in page["experiments"]
            if "gameday" in (e.get("tags") or {}) and e.get("state", {}).get("status") in _FIS_LIVE]
    for i in live:
        acts.do("fis:StopExperiment", i, lambda i=i: fis.stop_experiment(id=i))
    for i in live:
        wait.until(s, acts, f"the FIS experiment {i} to stop", partial(_fis_over, fis, i), partial(_fis_state, fis, i))
    return live

"""ElastiCache, MSK, FIS, CloudWatch alarms: one function per abstract operation (boto3; chaosaws's
ElastiCache/MSK/FIS coverage does not fit a zone outage)."""

from __future__ import annotations

from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["elasticache_failover_in_zone", "msk_reboot_brokers_in_zone",
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


def msk_reboot_brokers_in_zone(s: AwsSession, acts: Actions, zone: str) -> list[str]:
    arn = s.settings.msk_cluster_arn
    if not arn:
        return []
    kafka = s.client("kafka")
    subnet_zone = {x["SubnetId"]: x["AvailabilityZone"] for x in s.client("ec2").describe_subnets()["Subnets"]}
    nodes = kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    ids = [str(int(n["BrokerNodeInfo"]["BrokerId"])) for n in nodes
           if subnet_zone.get(n["BrokerNodeInfo"].get("ClientSubnet")) == zone]
    if ids:
        acts.do("kafka:RebootBroker", arn, lambda: kafka.reboot_broker(ClusterArn=arn, BrokerIds=ids), BrokerIds=ids)
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

"""ElastiCache replication groups, MSK clusters and CloudWatch alarms carrying the tag (read-only)."""

from __future__ import annotations

from gameday.discover.facts import Fact, Scope, one_of, tagged, todo

__all__ = ["discover_cache", "discover_msk", "discover_alarms"]


def discover_cache(scope: Scope) -> Fact:
    """``aws.elasticache_replication_group``: the tagged replication group of the primary region."""
    ec = scope.clients("elasticache", scope.primary)
    groups = [g for page in ec.get_paginator("describe_replication_groups").paginate()
              for g in page.get("ReplicationGroups", [])]
    names = [g["ReplicationGroupId"] for g in groups
             if g.get("ARN") and tagged(ec.list_tags_for_resource(ResourceName=g["ARN"]).get("TagList"), scope)]
    return one_of(names, "replication groups", f"elasticache:DescribeReplicationGroups {scope.primary}, tag {scope.tag}",
                  none=f"no ElastiCache replication group with tag {scope.tag} in {scope.primary} (none: leave it out)")


def discover_msk(scope: Scope) -> Fact:
    """``aws.msk_cluster_arn``: the tagged MSK cluster of the primary region."""
    kafka = scope.clients("kafka", scope.primary)
    clusters = [c for page in kafka.get_paginator("list_clusters_v2").paginate() for c in page.get("ClusterInfoList", [])]
    arns = [c["ClusterArn"] for c in clusters if tagged(c.get("Tags"), scope)]
    return one_of(arns, "MSK clusters", f"kafka:ListClustersV2 {scope.primary}, tag {scope.tag}",
                  none=f"no MSK cluster with tag {scope.tag} in {scope.primary} (none: leave it out)")


def _alarms(scope: Scope, region: str) -> tuple[list[str], list[str]]:
    """(metric alarms, composite alarms) of ``region`` carrying the tag."""
    cw = scope.clients("cloudwatch", region)
    metric: list[str] = []
    composite: list[str] = []
    for page in cw.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
        for kind, bucket in (("MetricAlarms", metric), ("CompositeAlarms", composite)):
            for a in page.get(kind, []):
                if tagged(cw.list_tags_for_resource(ResourceARN=a["AlarmArn"]).get("Tags"), scope):
                    bucket.append(a["AlarmName"])
    return metric, composite


def discover_alarms(scope: Scope) -> Fact:
    """``aws.stop_condition_alarms``: the primary region's tagged metric alarms (a drill stops when one is in
    ALARM; gameday reads the primary region's metric alarms). Others are noted, not used."""
    metric, composite = _alarms(scope, scope.primary)
    dr_metric, dr_composite = _alarms(scope, scope.dr)
    if composite:
        scope.notes.append(f"composite alarms with the tag in {scope.primary} (not read as stop conditions): "
                           f"{', '.join(sorted(composite))}")
    if dr_metric or dr_composite:
        scope.notes.append(f"alarms with the tag in {scope.dr} (stop conditions are read in {scope.primary}): "
                           f"{', '.join(sorted(dr_metric + dr_composite))}")
    src = f"cloudwatch:DescribeAlarms {scope.primary}, tag {scope.tag}"
    if not metric:
        return todo(f"no metric alarm with tag {scope.tag} in {scope.primary}: name the alarms that must stop a "
                    "drill", value=[], source=src)
    return Fact(sorted(metric), src, "check that each alarm's ALARM state means: stop the drill")

"""The cache tier on AWS: ElastiCache (Valkey/Redis OSS) replication groups found by the environment's tag
filter, their Multi-AZ failover (``TestFailover``, or an FIS template using
``aws:elasticache:replicationgroup-interrupt-az-power``) and the Global Datastore's failover to the DR
region (``FailoverGlobalReplicationGroup``), each waited for (botocore's ``replication_group_available``;
a Global Datastore's new primary has no botocore waiter, so that wait is ``wait.until``'s poll)."""

from __future__ import annotations

from typing import Any

from gameday.errors import ConfigError
from gameday.targets.aws import services, wait
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["enabled", "preflight", "replication_group", "fail_primary", "global_failover", "primary_url"]


def enabled(s: AwsSession) -> bool:
    return bool(s.settings.elasticache or s.settings.elasticache_replication_group)


def _tagged(ec: Any, arn: str, key: str, value: str) -> bool:
    return {"Key": key, "Value": value} in ec.list_tags_for_resource(ResourceName=arn).get("TagList", [])


def replication_group(s: AwsSession, region: str, *, required: bool = True) -> dict[str, Any] | None:
    """The replication group of ``region`` carrying the tag filter (in the primary region, the one
    ``aws.elasticache_replication_group`` names, when it does); ConfigError when none or several do."""
    ec, tf = s.client("elasticache", region), s.settings.tag_filter
    groups = [g for page in ec.get_paginator("describe_replication_groups").paginate()
              for g in page["ReplicationGroups"]]
    named = s.settings.elasticache_replication_group if region == s.settings.primary_region else None
    if named:
        groups = [g for g in groups if g["ReplicationGroupId"] == named]
    tagged = [g for g in groups if _tagged(ec, g["ARN"], tf.key, tf.value)]
    if len(tagged) == 1:
        return dict(tagged[0])
    if not tagged and not required:
        return None
    what = f"replication group {named!r}" if named else "ElastiCache replication group"
    if not tagged:
        raise ConfigError(f"no {what} in {region} carries {tf.key}={tf.value}: the cache fault would touch nothing",
                          field="aws.tag_filter")
    ids = ", ".join(g["ReplicationGroupId"] for g in tagged)
    raise ConfigError(f"{len(tagged)} replication groups in {region} carry {tf.key}={tf.value} ({ids}): name one "
                      "in aws.elasticache_replication_group", field="aws.elasticache_replication_group")


def primary_url(s: AwsSession) -> str | None:
    """The primary endpoint of the primary region's group, as a client URL (``rediss://`` with TLS)."""
    if not enabled(s):
        return None
    rg = replication_group(s, s.settings.primary_region, required=False)
    ng = (rg or {}).get("NodeGroups") or [{}]
    ep = ng[0].get("PrimaryEndpoint") or (rg or {}).get("ConfigurationEndpoint")
    if not rg or not ep:
        return None
    return f"{'rediss' if rg.get('TransitEncryptionEnabled') else 'redis'}://{ep['Address']}:{ep['Port']}"


def preflight(s: AwsSession) -> None:
    """ConfigError before anything changes: no cache tier configured, or no group to fail over."""
    if not enabled(s):
        raise ConfigError("the environment has no cache: set aws.elasticache (the replication groups carrying the "
                          "tag filter) or aws.elasticache_replication_group", field="aws.elasticache")
    replication_group(s, s.settings.primary_region)


def fail_primary(s: AwsSession, acts: Actions, run_id: str) -> dict[str, Any]:
    """Multi-AZ failover of the group's first node group (shard): ``TestFailover``, waited until the group is
    available again; or the environment's FIS template (an AZ power interruption of the group)."""
    region = s.settings.primary_region
    rg = replication_group(s, region)
    assert rg is not None
    gid = rg["ReplicationGroupId"]
    if rg.get("AutomaticFailover") not in ("enabled", "enabling"):
        raise ConfigError(f"replication group {gid} has no automatic failover (Multi-AZ): TestFailover needs it",
                          field="aws.elasticache_replication_group")
    if s.settings.fis_cache_template_id:
        return {"replication_group": gid, "fis_experiment": services.start_fis(s, acts, s.settings.fis_cache_template_id,
                                                                               run_id)}
    ng = rg["NodeGroups"][0]
    primary: dict[str, Any] = next((m for m in ng.get("NodeGroupMembers", []) if m.get("CurrentRole") == "primary"), {})
    ec = s.client("elasticache", region)
    acts.do("elasticache:TestFailover", f"{gid}/{ng['NodeGroupId']}",
            lambda: ec.test_failover(ReplicationGroupId=gid, NodeGroupId=ng["NodeGroupId"]),
            ReplicationGroupId=gid, NodeGroupId=ng["NodeGroupId"])
    wait.waiter(s, acts, "elasticache", region, "replication_group_available",
                f"replication group {gid} available after the failover", ReplicationGroupId=gid)
    return {"replication_group": gid, "node_group": ng["NodeGroupId"], "old_primary": primary.get("CacheClusterId"),
            "old_primary_zone": primary.get("PreferredAvailabilityZone")}


def _global_primary_region(ec: Any, gid: str) -> str | None:
    g = ec.describe_global_replication_groups(GlobalReplicationGroupId=gid, ShowMemberInfo=True)
    members = g["GlobalReplicationGroups"][0].get("Members", [])
    return next((m.get("ReplicationGroupRegion") for m in members
                 if m.get("Role") == "PRIMARY" and m.get("Status") in (None, "associated")), None)


def global_failover(s: AwsSession, acts: Actions, region: str) -> dict[str, Any]:
    """The Global Datastore's failover to ``region``'s group (``FailoverGlobalReplicationGroup``): the DR
    region's in a region failover (``promote_cache``), the primary region's in the failback
    (``return_primary_cache``); waited until that group is the primary and available. No cache tier, or no
    tagged group in the DR region: nothing to fail over (``skipped``)."""
    if not enabled(s):
        return {"skipped": "the environment has no cache (aws.elasticache)"}
    dr = s.settings.dr_region
    if replication_group(s, dr, required=False) is None:
        tf = s.settings.tag_filter
        return {"skipped": f"no replication group in {dr} carries {tf.key}={tf.value}"}
    rg = replication_group(s, region)
    assert rg is not None
    gid_to = rg["ReplicationGroupId"]
    info = rg.get("GlobalReplicationGroupInfo") or {}
    gid = info.get("GlobalReplicationGroupId")
    if not gid:
        raise ConfigError(f"replication group {gid_to} in {region} is not a Global Datastore member: nothing to "
                          "fail over to", field="aws.tag_filter")
    ec = s.client("elasticache", region)
    if _global_primary_region(ec, gid) == region:
        return {"global_datastore": gid, "primary": gid_to, "region": region, "already": True}
    acts.do("elasticache:FailoverGlobalReplicationGroup", gid,
            lambda: ec.failover_global_replication_group(GlobalReplicationGroupId=gid, PrimaryRegion=region,
                                                         PrimaryReplicationGroupId=gid_to),
            GlobalReplicationGroupId=gid, PrimaryRegion=region, PrimaryReplicationGroupId=gid_to)
    wait.until(s, acts, f"Global Datastore {gid}'s primary in {region}", lambda: _global_primary_region(ec, gid) == region,
               describe=lambda: f"primary in {_global_primary_region(ec, gid)}")
    wait.waiter(s, acts, "elasticache", region, "replication_group_available", f"replication group {gid_to} available",
                ReplicationGroupId=gid_to)
    return {"global_datastore": gid, "primary": gid_to, "region": region}

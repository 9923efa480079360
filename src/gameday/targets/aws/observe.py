"""The typed status on AWS: nodes per region, zone and capacity type with their readiness (EKS nodes where
the environment names a cluster, else the tagged EC2 instances and the DR node group's), the database
roles (RDS instances, an Aurora cluster, or an Aurora global database's member clusters) and the DNS
answer. Probes and waits read it the same way on every driver."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from urllib3.exceptions import MaxRetryError

from gameday.targets.aws import asg, aurora, dns, ec2, rds
from gameday.targets.aws.k8s import Kube
from gameday.targets.aws.session import AwsSession
from gameday.targets.base import DbStatus, EnvironmentStatus, NodeStatus

__all__ = ["status", "nodes", "databases"]

# a region whose API does not answer is observed as down (its nodes absent, its databases down), as a lost
# region is; any other error (access denied, throttling) is raised
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, MaxRetryError)
_DOWN = {"stopped", "stopping", "failed", "deleting", "inaccessible-encryption-credentials", "incompatible-parameters",
         "incompatible-restore", "storage-full", "incompatible-network"}


def _ec2_nodes(s: AwsSession, region: str) -> list[NodeStatus]:
    cut = ec2.blackholed_subnets(s, region)
    out = {i["InstanceId"]: NodeStatus(
        name=i["InstanceId"], region=region, zone=i["Placement"]["AvailabilityZone"],
        capacity_type="spot" if i.get("InstanceLifecycle") == "spot" else "on-demand",
        healthy=i.get("State", {}).get("Name") == "running" and i.get("SubnetId") not in cut)
        for i in ec2.tagged_instances(s, region=region, states=("pending", "running", "stopping", "stopped"))}
    group = s.settings.dr_node_group_asg
    if region == s.settings.dr_region and group:  # the DR node group's instances, tagged or not
        members = {i["InstanceId"]: i for g in asg.groups(s, region, [group]) for i in g.get("Instances", [])}
        for i in ec2.instances(s, region, list(members)):
            m = members[i["InstanceId"]]
            out[i["InstanceId"]] = NodeStatus(
                name=i["InstanceId"], region=region, zone=m["AvailabilityZone"],
                capacity_type="spot" if i.get("InstanceLifecycle") == "spot" else "on-demand",
                healthy=m["LifecycleState"] == "InService" and m["HealthStatus"] == "Healthy"
                and i.get("SubnetId") not in cut)
    return list(out.values())


def nodes(s: AwsSession, kube: Callable[[str], Kube | None], unreachable: set[str]) -> list[NodeStatus]:
    out: list[NodeStatus] = []
    for region in (s.settings.primary_region, s.settings.dr_region):
        if region in unreachable:
            continue
        k = kube(region)
        try:
            if k is None:
                out.extend(_ec2_nodes(s, region))
                continue
            out.extend(NodeStatus(name=name, region=region, zone=zone, healthy=ready,
                                  capacity_type="spot" if cap == "spot" else "on-demand")
                       for name, zone, cap, ready in k.node_states())
        except _UNREACHABLE:
            continue
    return out


def _instance_role(inst: dict[str, Any], isolated: bool) -> str:
    if isolated or inst.get("DBInstanceStatus") in _DOWN:
        return "down"
    return "standby" if rds.is_replica(inst) else "primary"


def _rds_instances(s: AwsSession, isolated: set[str], unreachable: set[str]) -> list[DbStatus]:
    """The primary's and the DR replica's roles; of two standalone instances, the one gameday promoted last is
    the writer and the other is fenced (no endpoint gameday manages points to it)."""
    cfg, r = s.settings, s.settings.rds
    found: list[tuple[DbStatus, float]] = []
    for region, ident in ((cfg.primary_region, r.instance_id), (cfg.dr_region, r.dr_replica_id)):
        if ident and region in unreachable:
            found.append((DbStatus(name=ident, region=region, zone=region, role="down"), 0.0))
            continue
        inst = rds.instance(s, region, ident) if ident else None
        if inst is None:
            continue
        role = _instance_role(inst, region in isolated)
        port = inst.get("Endpoint", {}).get("Port")
        found.append((DbStatus(name=str(ident), region=region, zone=inst.get("AvailabilityZone") or region, role=role,
                               port=int(port) if port else None), rds.promoted_at(inst) or 0.0))
    writers = [(d, t) for d, t in found if d.role == "primary"]
    if len(writers) > 1:
        latest = max(writers, key=lambda x: x[1])[0]
        found = [(d.model_copy(update={"role": "fenced"}) if d.role == "primary" and d is not latest else d, t)
                 for d, t in found]
    return [d for d, _ in found]


def _aurora_cluster(s: AwsSession) -> list[DbStatus]:
    cfg = s.settings
    c = rds.describe_primary(s)
    out = []
    for m in c["DBClusterMembers"]:
        inst = s.client("rds").describe_db_instances(DBInstanceIdentifier=m["DBInstanceIdentifier"])["DBInstances"][0]
        out.append(DbStatus(name=m["DBInstanceIdentifier"], region=cfg.primary_region,
                            zone=inst.get("AvailabilityZone") or cfg.primary_region,
                            role="primary" if m["IsClusterWriter"] else "standby"))
    return out


def _aurora_global(s: AwsSession, isolated: set[str]) -> list[DbStatus]:
    cfg, r = s.settings, s.settings.rds
    by_arn = {m["DBClusterArn"]: m for m in aurora.members(s)}
    out = []
    for region, ident in ((cfg.primary_region, r.cluster_id), (cfg.dr_region, r.dr_cluster_id)):
        arn = aurora.cluster_arn(s, region)
        m = by_arn.get(arn)
        role = "down" if m is None or region in isolated else ("primary" if m.get("IsWriter") else "standby")
        out.append(DbStatus(name=str(ident), region=region, zone=region, role=role))
    return out


def databases(s: AwsSession, isolated: set[str], unreachable: frozenset[str] = frozenset()) -> list[DbStatus]:
    r = s.settings.rds
    if r.global_cluster_id:
        return _aurora_global(s, isolated | unreachable)
    if r.cluster_id:
        return [] if s.settings.primary_region in unreachable else _aurora_cluster(s)
    return _rds_instances(s, isolated, set(unreachable))


def status(s: AwsSession, kube: Callable[[str], Kube | None]) -> EnvironmentStatus:
    cfg = s.settings
    isolated, unreachable = set(), set()
    for region in (cfg.primary_region, cfg.dr_region):
        try:
            if ec2.region_isolated(s, region):
                isolated.add(region)
        except _UNREACHABLE:
            unreachable.add(region)
    dbs = databases(s, isolated, frozenset(unreachable))
    writer = next((d.region for d in dbs if d.role == "primary"), None)
    dns_region = dns.pointing_at(s)
    return EnvironmentStatus(primary_region=cfg.primary_region, dr_region=cfg.dr_region, zones=list(cfg.zones),
                             nodes=nodes(s, kube, unreachable), dbs=dbs, dns_region=dns_region,
                             dr_promoted=writer == cfg.dr_region,
                             writer_region=writer)

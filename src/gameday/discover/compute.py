"""EKS clusters with their node groups' Auto Scaling groups, and the primary region's zones (the tagged
subnets the zone faults act on). Read-only: List* and Describe* calls only."""

from __future__ import annotations

from typing import Any

from gameday.discover.facts import Fact, Scope, found, one_of, tagged, todo

__all__ = ["discover_eks", "discover_zones", "discover_dr_node_group", "note_primary_node_groups"]


def _eks_clusters(scope: Scope, region: str) -> list[dict[str, Any]]:
    eks = scope.clients("eks", region)
    names = [n for page in eks.get_paginator("list_clusters").paginate() for n in page.get("clusters", [])]
    clusters = [eks.describe_cluster(name=n)["cluster"] for n in names]
    return [c for c in clusters if tagged(c.get("tags"), scope)]


def discover_eks(scope: Scope) -> dict[str, dict[str, Fact]]:
    """``aws.eks``: per region, the tagged cluster (with the kube context `aws eks update-kubeconfig` names)."""
    out: dict[str, dict[str, Fact]] = {}
    for region in (scope.primary, scope.dr):
        clusters = _eks_clusters(scope, region)
        src = f"eks:DescribeCluster {region}, tag {scope.tag}"
        fact = one_of([c["name"] for c in clusters], f"EKS clusters in {region}", src,
                      none=f"no EKS cluster with tag {scope.tag} in {region}")
        if not fact.decided:  # none or several: say so, decide nothing
            out[region] = {"cluster": fact}
            continue
        arn = clusters[0].get("arn")
        out[region] = {
            "cluster": fact,
            "kube_context": (todo("the kubeconfig context of this cluster: the name `aws eks update-kubeconfig` "
                                  "gives it; change it if yours differs", value=arn, source=f"the cluster's ARN ({src})")
                             if arn else todo("the kubeconfig context of this cluster")),
        }
        # scale_dr scales the DR region's deployment: each region's is a TODO (gameday's defaults are only a guess)
        what = "; scale_dr scales this one" if region == scope.dr else ""
        out[region]["ingest_namespace"] = todo(f"the namespace of the ingest deployment (Kubernetes, not AWS){what}")
        out[region]["ingest_deployment"] = todo(f"the ingest deployment's name (Kubernetes, not AWS){what}")
    return out


def _node_group_asgs(scope: Scope, region: str, cluster: str) -> list[str]:
    eks = scope.clients("eks", region)
    groups = [g for page in eks.get_paginator("list_nodegroups").paginate(clusterName=cluster)
              for g in page.get("nodegroups", [])]
    asgs: list[str] = []
    for g in groups:
        ng = eks.describe_nodegroup(clusterName=cluster, nodegroupName=g)["nodegroup"]
        asgs += [a["name"] for a in (ng.get("resources") or {}).get("autoScalingGroups", []) if a.get("name")]
    return asgs


def _existing_asgs(scope: Scope, region: str, names: list[str]) -> list[str]:
    if not names:
        return []
    asc = scope.clients("autoscaling", region)
    return [g["AutoScalingGroupName"] for page in asc.get_paginator("describe_auto_scaling_groups").paginate(
        AutoScalingGroupNames=names) for g in page.get("AutoScalingGroups", [])]


def _tagged_asgs(scope: Scope, region: str) -> list[str]:
    asc = scope.clients("autoscaling", region)
    filters = [{"Name": f"tag:{scope.tag_key}", "Values": [scope.tag_value]}]
    return [g["AutoScalingGroupName"] for page in asc.get_paginator("describe_auto_scaling_groups").paginate(Filters=filters)
            for g in page.get("AutoScalingGroups", [])]


def discover_dr_node_group(scope: Scope, eks: dict[str, dict[str, Fact]]) -> Fact:
    """``aws.dr_node_group_asg``: the Auto Scaling group scale_dr grows, from the DR cluster's node groups
    (EKS names their groups), else the DR region's tagged Auto Scaling groups."""
    dr = eks.get(scope.dr, {}).get("cluster")
    if dr is not None and dr.decided:
        named = _node_group_asgs(scope, scope.dr, dr.value)
        asgs = _existing_asgs(scope, scope.dr, named)
        if named and not asgs:  # EKS names groups Auto Scaling does not have (moto's node groups do that)
            return todo(f"the node groups of {dr.value} name Auto Scaling groups {', '.join(named)} that "
                        f"autoscaling:DescribeAutoScalingGroups does not find in {scope.dr}: the group scale_dr grows")
        if asgs:
            return one_of(asgs, f"node group Auto Scaling groups of {dr.value}",
                          f"eks:DescribeNodegroup, autoscaling:DescribeAutoScalingGroups {scope.dr} "
                          f"(cluster {dr.value})", none="")
    asgs = _tagged_asgs(scope, scope.dr)
    return one_of(asgs, f"Auto Scaling groups in {scope.dr}", f"autoscaling:DescribeAutoScalingGroups {scope.dr}, "
                  f"tag {scope.tag}", none=f"no node group or Auto Scaling group found in {scope.dr}: the group "
                  "scale_dr grows")


def discover_zones(scope: Scope) -> Fact:
    """``aws.zones``: the zones of the primary region's tagged subnets (the zone faults act on those)."""
    ec2 = scope.clients("ec2", scope.primary)
    filters = [{"Name": f"tag:{scope.tag_key}", "Values": [scope.tag_value]}]
    zones = sorted({s["AvailabilityZone"] for page in ec2.get_paginator("describe_subnets").paginate(Filters=filters)
                    for s in page.get("Subnets", [])})
    src = f"ec2:DescribeSubnets {scope.primary}, tag {scope.tag}"
    if len(zones) >= 2:
        return found(zones, src)
    return todo(f"the primary region's zones (at least two); the tagged subnets span {zones or 'none'}",
                source=src)


def note_primary_node_groups(scope: Scope, eks: dict[str, dict[str, Fact]]) -> None:
    """The primary cluster's node group Auto Scaling groups, noted: the zone faults act on the Auto Scaling groups
    carrying the tag, so a group without it keeps replacing a lost zone's nodes during a drill."""
    cluster = eks.get(scope.primary, {}).get("cluster")
    if cluster is None or not cluster.decided:
        return
    named = _node_group_asgs(scope, scope.primary, cluster.value)
    untagged = sorted(set(named) - set(_tagged_asgs(scope, scope.primary)))
    if named:
        scope.notes.append(f"node group Auto Scaling groups of {cluster.value}: {', '.join(sorted(named))}"
                           + (f"; without tag {scope.tag} (the zone faults leave them alone): {', '.join(untagged)}"
                              if untagged else ""))

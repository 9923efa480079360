"""Auto Scaling: keep ASGs from replacing a lost zone's capacity there (suspend AZRebalance, remove the
zone's subnets), and undo it. The original subnets are kept in an ASG tag."""

from __future__ import annotations

from typing import Any

from gameday.errors import ConfigError
from gameday.targets.aws import wait
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["tagged_asgs", "exclude_zone", "include_zone", "scale_asg", "groups", "in_service", "MARK_SUBNETS",
           "MARK_SIZE"]

MARK_SUBNETS = "gameday:original-subnets"
MARK_SIZE = "gameday:original-size"  # "min,max,desired" before gameday first scaled the group
MARK_SUSPENDED = "gameday:suspended-azrebalance"  # gameday suspended AZRebalance (it was not before)


def tagged_asgs(s: AwsSession, region: str | None = None) -> list[dict[str, Any]]:
    tf = s.settings.tag_filter
    out = []
    for page in s.client("autoscaling", region).get_paginator("describe_auto_scaling_groups").paginate(
            Filters=[{"Name": f"tag:{tf.key}", "Values": [tf.value]}]):
        out.extend(page["AutoScalingGroups"])
    return out


def _subnet_zones(s: AwsSession, subnet_ids: list[str]) -> dict[str, str]:
    if not subnet_ids:
        return {}
    subnets = s.client("ec2").describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    return {x["SubnetId"]: x["AvailabilityZone"] for x in subnets}


def exclude_zone(s: AwsSession, acts: Actions, zone: str) -> list[str]:
    from chaosaws.asg.actions import suspend_processes

    names = []
    asc = s.client("autoscaling")
    for g in tagged_asgs(s):
        subnets = [x for x in g.get("VPCZoneIdentifier", "").split(",") if x]
        zones = _subnet_zones(s, subnets)
        keep = [x for x in subnets if zones.get(x) != zone]
        if len(keep) == len(subnets):
            continue
        name = g["AutoScalingGroupName"]
        names.append(name)
        was = "AZRebalance" in [p["ProcessName"] for p in g.get("SuspendedProcesses", [])]
        if not was:  # one a team suspended stays suspended after the drill
            acts.do("autoscaling:SuspendProcesses", name, lambda name=name: suspend_processes(
                asg_names=[name], process_names=["AZRebalance"],
                configuration=s.chaosaws_configuration(s.settings.primary_region)), process="AZRebalance")
        marks = {MARK_SUBNETS: ",".join(subnets), **({} if was else {MARK_SUSPENDED: "true"})}
        acts.do("autoscaling:CreateOrUpdateTags", name, lambda name=name, marks=marks: asc.create_or_update_tags(Tags=[{
            "ResourceId": name, "ResourceType": "auto-scaling-group", "Key": k, "Value": v, "PropagateAtLaunch": False}
            for k, v in marks.items()]))
        # boto3: chaosaws's change_subnets needs the full list; this keeps every other zone's subnet
        acts.do("autoscaling:UpdateAutoScalingGroup", name, lambda name=name, keep=keep: asc.update_auto_scaling_group(
            AutoScalingGroupName=name, VPCZoneIdentifier=",".join(keep)), VPCZoneIdentifier=",".join(keep))
    return names


def include_zone(s: AwsSession, acts: Actions) -> list[str]:
    from chaosaws.asg.actions import resume_processes

    asc = s.client("autoscaling")
    names = []
    for g in tagged_asgs(s):
        orig = next((t["Value"] for t in g.get("Tags", []) if t["Key"] == MARK_SUBNETS), None)
        if orig is None:
            continue
        name = g["AutoScalingGroupName"]
        names.append(name)
        acts.do("autoscaling:UpdateAutoScalingGroup", name, lambda name=name, orig=orig: asc.update_auto_scaling_group(
            AutoScalingGroupName=name, VPCZoneIdentifier=orig), VPCZoneIdentifier=orig)
        suspended = _tag(g, MARK_SUSPENDED) is not None
        if suspended:
            acts.do("autoscaling:ResumeProcesses", name, lambda name=name: resume_processes(
                asg_names=[name], process_names=["AZRebalance"],
                configuration=s.chaosaws_configuration(s.settings.primary_region)))
        acts.do("autoscaling:DeleteTags", name, lambda name=name, suspended=suspended: asc.delete_tags(Tags=[{
            "ResourceId": name, "ResourceType": "auto-scaling-group", "Key": k}
            for k in (MARK_SUBNETS, *([MARK_SUSPENDED] if suspended else []))]))
    return names


def groups(s: AwsSession, region: str, names: list[str]) -> list[dict[str, Any]]:
    return list(s.client("autoscaling", region).describe_auto_scaling_groups(AutoScalingGroupNames=names)
                ["AutoScalingGroups"])


def in_service(s: AwsSession, region: str, name: str) -> int:
    return sum(1 for g in groups(s, region, [name]) for i in g.get("Instances", [])
               if i["LifecycleState"] == "InService" and i["HealthStatus"] == "Healthy")


def _tag(g: dict[str, Any], key: str) -> str | None:
    return next((t["Value"] for t in g.get("Tags", []) if t["Key"] == key), None)


def _limits(g: dict[str, Any]) -> dict[str, int]:
    return {k: int(g[k]) for k in ("MinSize", "MaxSize", "DesiredCapacity")}


def scale_asg(s: AwsSession, acts: Actions, name: str, region: str, desired: int) -> dict[str, Any]:
    """Set the group's desired capacity (its MinSize / MaxSize widened only as far as ``desired`` needs), then
    wait until ``desired`` instances are in service and healthy (no botocore waiter exists for Auto Scaling).

    The limits before the first scale are kept in a tag on the group (``gameday:original-size``, read by the
    next run: the failback is another drill) and in the result (the journal's step). Scaling back to the
    original desired capacity puts MinSize, MaxSize and DesiredCapacity back exactly and removes the tag."""
    asc = s.client("autoscaling", region)
    found = groups(s, region, [name])
    if not found:
        raise ConfigError(f"no Auto Scaling group {name} in {region}", field="aws.dr_node_group_asg")
    g = found[0]
    now, kept = _limits(g), _tag(g, MARK_SIZE)
    original = dict(zip(("MinSize", "MaxSize", "DesiredCapacity"), map(int, kept.split(",")), strict=True)) \
        if kept else now
    if desired == original["DesiredCapacity"]:
        target = original
    else:
        target = {"MinSize": min(original["MinSize"], desired), "MaxSize": max(original["MaxSize"], desired),
                  "DesiredCapacity": desired}
    acts.do("autoscaling:UpdateAutoScalingGroup", name, lambda: asc.update_auto_scaling_group(
        AutoScalingGroupName=name, **target), **target)
    tag = {"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": MARK_SIZE}
    if target == original and kept:
        acts.do("autoscaling:DeleteTags", name, lambda: asc.delete_tags(Tags=[tag]))
    elif target != original and not kept:
        value = ",".join(str(original[k]) for k in ("MinSize", "MaxSize", "DesiredCapacity"))
        acts.do("autoscaling:CreateOrUpdateTags", name, lambda: asc.create_or_update_tags(Tags=[{
            **tag, "Value": value, "PropagateAtLaunch": False}]), Value=value)
    wait.until(s, acts, f"{desired} healthy in-service instance(s) in the Auto Scaling group {name} ({region})",
               lambda: in_service(s, region, name) == desired,
               lambda: f"{in_service(s, region, name)} in service")
    return {"before": now, "after": target, "original": original}

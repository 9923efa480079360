"""Auto Scaling: keep ASGs from replacing a lost zone's capacity there (suspend AZRebalance, remove the
zone's subnets), and undo it. The original subnets are kept in an ASG tag."""

from __future__ import annotations

from typing import Any

from gameday.targets.aws import wait
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["tagged_asgs", "exclude_zone", "include_zone", "scale_asg", "groups", "in_service", "MARK_SUBNETS"]

MARK_SUBNETS = "gameday:original-subnets"


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
        acts.do("autoscaling:SuspendProcesses", name, lambda name=name: suspend_processes(
            asg_names=[name], process_names=["AZRebalance"],
            configuration=s.chaosaws_configuration(s.settings.primary_region)), process="AZRebalance")
        acts.do("autoscaling:CreateOrUpdateTags", name, lambda name=name, subnets=subnets: asc.create_or_update_tags(Tags=[{
            "ResourceId": name, "ResourceType": "auto-scaling-group", "Key": MARK_SUBNETS,
            "Value": ",".join(subnets), "PropagateAtLaunch": False}]))
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
        acts.do("autoscaling:ResumeProcesses", name, lambda name=name: resume_processes(
            asg_names=[name], process_names=["AZRebalance"],
            configuration=s.chaosaws_configuration(s.settings.primary_region)))
        acts.do("autoscaling:DeleteTags", name, lambda name=name: asc.delete_tags(Tags=[{
            "ResourceId": name, "ResourceType": "auto-scaling-group", "Key": MARK_SUBNETS}]))
    return names


def groups(s: AwsSession, region: str, names: list[str]) -> list[dict[str, Any]]:
    return list(s.client("autoscaling", region).describe_auto_scaling_groups(AutoScalingGroupNames=names)
                ["AutoScalingGroups"])


def in_service(s: AwsSession, region: str, name: str) -> int:
    return sum(1 for g in groups(s, region, [name]) for i in g.get("Instances", [])
               if i["LifecycleState"] == "InService" and i["HealthStatus"] == "Healthy")


def scale_asg(s: AwsSession, acts: Actions, name: str, region: str, desired: int) -> None:
    """Set the group's size, then wait until ``desired`` instances are in service and healthy (no botocore
    waiter exists for Auto Scaling)."""
    asc = s.client("autoscaling", region)
    acts.do("autoscaling:UpdateAutoScalingGroup", name, lambda: asc.update_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=desired, DesiredCapacity=desired, MaxSize=max(desired, desired * 2)),
        DesiredCapacity=desired)
    wait.until(s, acts, f"{desired} healthy in-service instance(s) in the Auto Scaling group {name} ({region})",
               lambda: in_service(s, region, name) == desired,
               lambda: f"{in_service(s, region, name)} in service")

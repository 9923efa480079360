"""Auto Scaling groups are put back exactly as they were (moto): the DR node group's limits after a scale up
and back, and a zone's AZRebalance that a team had suspended stays suspended."""

from __future__ import annotations

import boto3
import pytest

from gameday.config import load_environment
from gameday.targets.aws.target import AwsTarget
from targets.conftest import AMI, TAG, environment_yaml


def _dr_group(min_size: int, max_size: int, desired: int) -> None:
    ec2 = boto3.client("ec2", region_name="us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.214.0.0/16")["Vpc"]["VpcId"]
    sn = ec2.create_subnet(VpcId=vpc, CidrBlock="10.214.0.0/24", AvailabilityZone="us-west-2a")["Subnet"]["SubnetId"]
    asc = boto3.client("autoscaling", region_name="us-west-2")
    asc.create_launch_configuration(LaunchConfigurationName="lc-dr", ImageId=AMI, InstanceType="t3.micro")
    asc.create_auto_scaling_group(AutoScalingGroupName="ingest-dr-nodes", LaunchConfigurationName="lc-dr",
                                  MinSize=min_size, MaxSize=max_size, DesiredCapacity=desired, VPCZoneIdentifier=sn,
                                  Tags=[{**TAG, "PropagateAtLaunch": False, "ResourceId": "ingest-dr-nodes",
                                         "ResourceType": "auto-scaling-group"}])


def _limits() -> tuple[tuple[int, int, int], list[str]]:
    g = boto3.client("autoscaling", region_name="us-west-2").describe_auto_scaling_groups(
        AutoScalingGroupNames=["ingest-dr-nodes"])["AutoScalingGroups"][0]
    return (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]), sorted(t["Key"] for t in g["Tags"])


def _target(tmp_path) -> AwsTarget:
    zone = boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="a")["HostedZone"]["Id"]
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml({"zone_id": zone.split("/")[-1]}))
    return AwsTarget(load_environment(env))


@pytest.mark.parametrize("limits", [(1, 2, 1), (0, 8, 1)])
def test_the_dr_group_is_scaled_and_its_limits_put_back_exactly(moto, tmp_path, limits):
    _dr_group(*limits)
    before = _limits()
    out = _target(tmp_path).scale_dr(3)
    (mn, mx, desired), _ = _limits()
    assert desired == 3 and mn == limits[0] and mx == max(limits[1], 3), "only widened as far as 3 needs"
    assert out["asg"]["before"] == dict(zip(("MinSize", "MaxSize", "DesiredCapacity"), limits, strict=True))
    back = _target(tmp_path).scale_dr(1)  # the failback: another run, another process
    assert _limits() == before, "MinSize, MaxSize, DesiredCapacity as they were, and the tag gone"
    assert back["asg"]["after"] == back["asg"]["original"]


def test_a_suspended_azrebalance_stays_suspended_after_the_zone_is_restored(moto, tmp_path):
    from targets.conftest import seed

    s = seed()
    asc = boto3.client("autoscaling", region_name="us-east-1")
    asc.suspend_processes(AutoScalingGroupName="ingest-nodes", ScalingProcesses=["AZRebalance"])
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s))
    t = AwsTarget(load_environment(env))
    t.fail_zone("us-east-1b")
    t.restore_zone("us-east-1b")
    g = asc.describe_auto_scaling_groups(AutoScalingGroupNames=["ingest-nodes"])["AutoScalingGroups"][0]
    assert [p["ProcessName"] for p in g["SuspendedProcesses"]] == ["AZRebalance"]
    assert [t["Key"] for t in g["Tags"]] == [TAG["Key"]]
    assert "autoscaling:ResumeProcesses" not in [c["api"] for c in t.actions.calls]

"""`gameday iam-policy`, read the way IAM reads it: the document is evaluated (tests/targets/iam_eval.py) for
calls on tagged and untagged resources. That it covers every call the driver makes is checked after every
moto test (the ``iam_calls`` fixture in tests/targets/conftest.py)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from gameday.config import load_environment
from gameday.targets.aws.iam import iam_policy
from targets.iam_eval import allows

TAGGED = {"aws:ResourceTag/gameday:target": "staging"}
ACCT = "123456789012"


@pytest.fixture
def policy():
    env = load_environment(ROOT / "environments" / "aws-staging.example.yaml")
    assert env.aws is not None
    return iam_policy(env.aws), env.aws.account_id


def test_a_subnet_without_the_tag_cannot_be_cut_off(policy):
    p, acct = policy
    subnet = f"arn:aws:ec2:us-east-1:{acct}:subnet/subnet-0abc"
    assert allows(p, "ec2:ReplaceNetworkAclAssociation", subnet, TAGGED)
    assert not allows(p, "ec2:ReplaceNetworkAclAssociation", subnet, {})
    assert not allows(p, "ec2:ReplaceNetworkAclAssociation", subnet, {"aws:ResourceTag/gameday:target": "prod"})
    assert not allows(p, "ec2:ReplaceNetworkAclAssociation", f"arn:aws:ec2:eu-west-1:{acct}:subnet/subnet-0abc", TAGGED)


def test_only_nacls_created_with_the_tag_are_changed_or_deleted(policy):
    p, acct = policy
    acl = f"arn:aws:ec2:us-west-2:{acct}:network-acl/acl-0abc"
    assert allows(p, "ec2:CreateNetworkAcl", acl, {"aws:RequestTag/gameday:target": "staging"})
    assert not allows(p, "ec2:CreateNetworkAcl", acl, {})  # created without the tag: refused
    for action in ("ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"):
        assert allows(p, action, acl, TAGGED)
        assert not allows(p, action, acl, {}), f"{action} on a team's own (untagged) NACL"
    assert allows(p, "ec2:CreateTags", acl, {"ec2:CreateAction": "CreateNetworkAcl"})
    assert not allows(p, "ec2:CreateTags", acl, {}), "tags only at creation: no retagging a team's NACL"


def test_instances_and_groups_without_the_tag_are_not_touched(policy):
    p, acct = policy
    inst = f"arn:aws:ec2:us-east-1:{acct}:instance/i-0abc"
    assert allows(p, "ec2:StopInstances", inst, TAGGED) and not allows(p, "ec2:StopInstances", inst, {})
    asg = f"arn:aws:autoscaling:us-east-1:{acct}:autoScalingGroup:u-1:autoScalingGroupName/other"
    assert not allows(p, "autoscaling:UpdateAutoScalingGroup", asg, {})


def test_fis_experiments_can_be_stopped_and_the_dns_mode_decides_the_route53_grants(policy, tmp_path):
    _, acct = policy
    text = (ROOT / "environments" / "aws-staging.example.yaml").read_text()
    head, _, rest = text.partition("  route53:\n")
    rest = rest[rest.index("  public_url:"):]
    env = tmp_path / "env.yaml"
    env.write_text(head + "  route53:\n    mode: failover\n    hosted_zone_id: Z1\n    name: ingest.example.com\n"
                   "    primary_health_check_id: hc-1\n  fis_az_template_id: EXT1\n" + rest)
    aws = load_environment(env).aws
    assert aws is not None
    fp = iam_policy(aws)
    assert allows(fp, "fis:StopExperiment", f"arn:aws:fis:us-east-1:{acct}:experiment/EXP1")
    assert allows(fp, "route53:UpdateHealthCheck", "arn:aws:route53:::healthcheck/hc-1")
    assert not allows(fp, "route53:UpdateHealthCheck", "arn:aws:route53:::healthcheck/hc-2")
    assert not allows(fp, "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z1"), \
        "the failover mode never changes a record"


def test_the_region_switch_plan_and_the_isolation_record_are_the_only_ones_granted(policy, tmp_path):
    _, acct = policy
    text = (ROOT / "environments" / "aws-staging.example.yaml").read_text()
    plan = f"arn:aws:arc-region-switch::{acct}:plan/ingest-failover/abc123"
    env = tmp_path / "env.yaml"
    env.write_text(text.replace("  public_url:", f"  region_switch: {{plan_arn: '{plan}'}}\n  public_url:", 1))
    aws = load_environment(env).aws
    assert aws is not None
    p = iam_policy(aws)
    for action in ("arc-region-switch:StartPlanExecution", "arc-region-switch:GetPlanExecution"):
        assert allows(p, action, plan)
        assert not allows(p, action, f"arn:aws:arc-region-switch::{acct}:plan/another-team/def456")
    assert not allows(iam_policy(load_environment(ROOT / "environments" / "aws-staging.example.yaml").aws),
                      "arc-region-switch:StartPlanExecution", plan), "no plan in the environment: no grant"
    record = f"arn:aws:ssm:us-east-1:{acct}:parameter/gameday/{aws.tag_filter.value}/isolation/us-east-1"
    for action in ("ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter"):
        assert allows(p, action, record)
        assert not allows(p, action, f"arn:aws:ssm:us-east-1:{acct}:parameter/prod/db-password"), "a team's parameter"


def test_only_tagged_replication_groups_are_failed_over_and_the_global_datastore_only_to_a_tagged_group(policy):
    p, acct = policy
    group = f"arn:aws:elasticache:us-east-1:{acct}:replicationgroup:sessions-staging"
    assert allows(p, "elasticache:TestFailover", group, TAGGED)
    assert not allows(p, "elasticache:TestFailover", group, {}), "a team's untagged group"
    assert not allows(p, "elasticache:TestFailover", f"arn:aws:elasticache:eu-west-1:{acct}:replicationgroup:x", TAGGED)
    dr = f"arn:aws:elasticache:us-west-2:{acct}:replicationgroup:sessions-dr"
    assert allows(p, "elasticache:FailoverGlobalReplicationGroup", dr, TAGGED)
    assert not allows(p, "elasticache:FailoverGlobalReplicationGroup", dr, {})
    assert allows(p, "elasticache:FailoverGlobalReplicationGroup", f"arn:aws:elasticache::{acct}:globalreplicationgroup:x")
    assert allows(p, "elasticache:ListTagsForResource", group), "the groups are found by their tags"

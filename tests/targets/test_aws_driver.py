"""The AWS driver against a moto server over HTTP: exactly the tagged resources change, inverses undo them,
guardrails refuse, plans change nothing."""

from __future__ import annotations

import json

import boto3
import psycopg
import pytest

from conftest import ROOT
from gameday.config import load_environment
from gameday.errors import ConfigError
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml, seed, service_yaml


def _target(tmp_path, seeded, **kw) -> AwsTarget:
    env = tmp_path / "aws.yaml"
    keys = ("account", "protected", "extra", "wait_timeout_s", "service")
    env.write_text(environment_yaml(seeded, **{k: v for k, v in kw.items() if k in keys}))
    return AwsTarget(load_environment(env), **{k: v for k, v in kw.items() if k in ("confirm", "plan_only")})


def _states(ids):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return {i["InstanceId"]: i["State"]["Name"]
            for r in ec2.describe_instances(InstanceIds=ids)["Reservations"] for i in r["Instances"]}


def test_zone_outage_stops_exactly_the_tagged_instances_of_the_zone_and_its_inverse_restores_them(moto, tmp_path):
    s = seed()
    t = _target(tmp_path, s)
    out = t.fail_zone("us-east-1b").detail
    assert sorted(out["stopped"]) == sorted(s["tagged"]["us-east-1b"])
    states = _states(sum(s["tagged"].values(), []) + s["untagged"])
    assert {states[i] for i in s["tagged"]["us-east-1b"]} == {"stopped"}
    assert {states[i] for i in s["tagged"]["us-east-1a"] + s["tagged"]["us-east-1c"]} == {"running"}
    assert states[s["untagged"][0]] == "running", "an untagged instance is never touched"
    back = t.restore_zone("us-east-1b")
    assert sorted(back["started"]) == sorted(s["tagged"]["us-east-1b"])
    assert {v for k, v in _states(s["tagged"]["us-east-1b"]).items()} == {"running"}


def test_zone_outage_changes_the_asg_and_nacls_and_the_inverse_undoes_them(moto, tmp_path):
    s = seed()
    t = _target(tmp_path, s)
    asc, ec2 = boto3.client("autoscaling", region_name="us-east-1"), boto3.client("ec2", region_name="us-east-1")
    acl_before = {a["SubnetId"]: acl["NetworkAclId"] for acl in ec2.describe_network_acls()["NetworkAcls"]
                  for a in acl["Associations"]}
    t.fail_zone("us-east-1b")
    g = asc.describe_auto_scaling_groups(AutoScalingGroupNames=["ingest-nodes"])["AutoScalingGroups"][0]
    assert s["subnets"]["us-east-1b"] not in g["VPCZoneIdentifier"].split(",")
    assert "AZRebalance" in [p["ProcessName"] for p in g["SuspendedProcesses"]]
    acl_during = {a["SubnetId"]: acl["NetworkAclId"] for acl in ec2.describe_network_acls()["NetworkAcls"]
                  for a in acl["Associations"]}
    assert acl_during[s["subnets"]["us-east-1b"]] != acl_before[s["subnets"]["us-east-1b"]]
    assert acl_during[s["subnets"]["us-east-1a"]] == acl_before[s["subnets"]["us-east-1a"]]
    t.restore_zone("us-east-1b")
    g = asc.describe_auto_scaling_groups(AutoScalingGroupNames=["ingest-nodes"])["AutoScalingGroups"][0]
    assert sorted(g["VPCZoneIdentifier"].split(",")) == sorted(s["subnets"].values())
    assert "AZRebalance" not in [p["ProcessName"] for p in g["SuspendedProcesses"]]
    acl_after = {a["SubnetId"]: acl["NetworkAclId"] for acl in ec2.describe_network_acls()["NetworkAcls"]
                 for a in acl["Associations"]}
    assert acl_after == acl_before


def test_region_runbook_promotes_the_replica_and_flips_the_record(moto, pg, tmp_path):
    s = seed()
    t = _target(tmp_path, s, service=service_yaml("http://127.0.0.1:9", pg))
    rds_dr = boto3.client("rds", region_name="us-west-2")
    before = rds_dr.describe_db_instances(DBInstanceIdentifier="ingest-db-dr")["DBInstances"][0]
    assert before.get("ReadReplicaSourceDBInstanceIdentifier")
    assert {d.region: d.role for d in t.status().dbs} == {"us-east-1": "primary", "us-west-2": "standby"}
    t.promote_dr_db()
    after = rds_dr.describe_db_instances(DBInstanceIdentifier="ingest-db-dr")["DBInstances"][0]
    assert after["BackupRetentionPeriod"] == 7  # what the promotion set (moto keeps the source field)
    with psycopg.connect(pg) as c:  # the promotion waited until the new writer accepted a heartbeat
        assert c.execute("SELECT count(*) FROM gameday.heartbeat WHERE run_id = %s",
                         (f"gameday-check-{t.run_id}",)).fetchone()[0] >= 1
    st = t.status()
    assert st.writer_region == "us-west-2" and st.dr_promoted
    assert {d.region: d.role for d in st.dbs} == {"us-east-1": "fenced", "us-west-2": "primary"}
    t.switch_dns("us-west-2")
    sets = boto3.client("route53").list_resource_record_sets(HostedZoneId=s["zone_id"])["ResourceRecordSets"]
    rec = next(r for r in sets if r["Name"].startswith("ingest.example.com"))
    assert rec["ResourceRecords"][0]["Value"] == "ingest-usw2.example.com"
    assert "ingest-db-dr" in t.primary_dsn() or "us-west-2" in t.primary_dsn()


def test_a_wrong_account_refuses_to_run(moto, tmp_path):
    s = seed()
    with pytest.raises(ConfigError, match="account 123456789012.*refusing"):
        _target(tmp_path, s, account="999999999999")


def test_a_protected_environment_needs_confirmation(moto, tmp_path):
    s = seed()
    with pytest.raises(ConfigError, match="--confirm aws-staging"):
        _target(tmp_path, s, protected=True)
    assert _target(tmp_path, s, protected=True, confirm="aws-staging").name == "aws-staging"


def test_a_plan_lists_the_calls_and_changes_nothing(moto, tmp_path):
    s = seed()
    t = _target(tmp_path, s, plan_only=True)
    before = _states(sum(s["tagged"].values(), []))
    t.fail_zone("us-east-1b")
    apis = [c["api"] for c in t.actions.calls]
    assert "ec2:StopInstances" in apis and "autoscaling:SuspendProcesses" in apis and "ec2:CreateNetworkAcl" in apis
    stop = next(c for c in t.actions.calls if c["api"] == "ec2:StopInstances")
    assert sorted(stop["resources"]) == sorted(s["tagged"]["us-east-1b"]) and not stop["executed"]
    assert _states(sum(s["tagged"].values(), [])) == before, "a plan changes nothing"


def test_a_zone_with_no_tagged_instance_is_an_error(moto, tmp_path):
    s = seed()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.delete_tags(Resources=s["tagged"]["us-east-1c"], Tags=[{"Key": "gameday:target"}])
    t = _target(tmp_path, s)
    with pytest.raises(ConfigError, match="would touch nothing"):
        t.fail_zone("us-east-1c")


def test_gameday_plan_prints_the_calls_and_moto_state_is_unchanged(moto, tmp_path, capsys):
    from gameday.cli import main

    s = seed()
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, protected=True))
    drill = tmp_path / "drill.yaml"
    drill.write_text(f"""
name: az
environment: {env}
runbook: {tmp_path / 'rb.yaml'}
fault: {{action: fail_zone, args: {{zone: us-east-1b}}}}
targets: {{rto_s: 300, rpo_s: 0}}
""")
    (tmp_path / "rb.yaml").write_text("""
name: rb
title: region
steps:
  - {id: promote, name: Promote, kind: action, call: promote_dr_db, budget_s: 600, done_when: promoted}
  - {id: dns, name: DNS, kind: action, call: switch_dns, args: {region: "{dr_region}"}, budget_s: 120, done_when: flipped}
""")
    before = _states(sum(s["tagged"].values(), []))
    with pytest.raises(SystemExit) as info:
        main(["plan", str(drill), "--env", str(env)])
    assert info.value.code == 2 and "--confirm aws-staging" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["plan", str(drill), "--env", str(env), "--confirm", "aws-staging", "--json"])
    assert info.value.code == 0
    calls = json.loads(capsys.readouterr().out)
    apis = [c["api"] for c in calls]
    assert {"ec2:StopInstances", "autoscaling:UpdateAutoScalingGroup", "rds:PromoteReadReplica",
            "route53:ChangeResourceRecordSets"} <= set(apis)
    assert not any(c["executed"] for c in calls)
    assert _states(sum(s["tagged"].values(), [])) == before
    dr = boto3.client("rds", region_name="us-west-2").describe_db_instances(DBInstanceIdentifier="ingest-db-dr")
    assert dr["DBInstances"][0].get("BackupRetentionPeriod") != 7, "the replica was not promoted"


def test_iam_policy_limits_changes_to_tagged_resources(tmp_path, capsys):
    from gameday.cli import main

    with pytest.raises(SystemExit) as info:
        main(["iam-policy", "--env", str(ROOT / "environments" / "aws-staging.example.yaml")])
    assert info.value.code == 0
    policy = json.loads(capsys.readouterr().out)
    tagged = next(st for st in policy["Statement"] if st["Sid"] == "TaggedInstancesOnly")
    assert tagged["Condition"] == {"StringEquals": {"aws:ResourceTag/gameday:target": "staging"}}
    assert "ec2:StopInstances" in tagged["Action"]
    assert all("*" not in a for st in policy["Statement"] for a in st["Action"])


def test_a_stop_condition_alarm_in_alarm_refuses_the_fault(moto, tmp_path):
    from gameday.errors import Aborted

    s = seed()
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    cw.put_metric_alarm(AlarmName="ingest-5xx", MetricName="5xx", Namespace="ingest", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    t = _target(tmp_path, s, extra="  stop_condition_alarms: [ingest-5xx]\n")
    cw.set_alarm_state(AlarmName="ingest-5xx", StateValue="ALARM", StateReason="test")
    before = _states(sum(s["tagged"].values(), []))
    with pytest.raises(Aborted, match="ingest-5xx"):
        t.fail_zone("us-east-1b")
    assert _states(sum(s["tagged"].values(), [])) == before


def test_the_fis_az_scenario_is_started_instead_of_the_per_service_faults(moto, tmp_path, httpserver, monkeypatch):
    """moto does not model FIS experiments: a stub answers, and the test checks the request gameday sends."""
    from werkzeug import Response

    s = seed()
    sent = []

    def start(request):
        sent.append((request.method, request.path, request.get_json()))
        return Response(json.dumps({"experiment": {"id": "EXP1", "experimentTemplateId": "EXT1",
                                                   "state": {"status": "initiating"}}}), content_type="application/json")

    httpserver.expect_request("/experiments", method="POST").respond_with_handler(start)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIS", httpserver.url_for(""))
    t = _target(tmp_path, s, extra="  fis_az_template_id: EXT1\n")
    before = _states(sum(s["tagged"].values(), []))
    out = t.fail_zone("us-east-1b").detail
    assert out["fis_experiment"] == "EXP1"
    assert [c["api"] for c in t.actions.calls] == ["fis:StartExperiment"]
    (method, path, body), = sent
    assert body["experimentTemplateId"] == "EXT1" and body["tags"] == {"gameday": t.run_id} and body["clientToken"]
    assert _states(sum(s["tagged"].values(), [])) == before, "FIS does the work; gameday touches nothing else"

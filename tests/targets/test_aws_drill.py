"""The monthly region-failover drill end to end on an ``aws`` environment against a moto server: a plan that
changes nothing, then the run with the real runbook (runbooks/region-failover.yaml). The data plane's
answers follow moto's state (tests/targets/dataplane.py); heartbeat and reconciliation use a local
PostgreSQL through ``service.store.dsn`` (one DSN per region)."""

from __future__ import annotations

import boto3
import psycopg

from conftest import ROOT
from gameday.journal import read_journal
from targets.conftest import environment_yaml, seed, service_yaml
from targets.dataplane import DataPlane


def _associations() -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return {a["SubnetId"]: acl["NetworkAclId"] for acl in ec2.describe_network_acls()["NetworkAcls"]
            for a in acl["Associations"]}


def _files(tmp_path, s, url: str, pg: str):
    env = tmp_path / "aws.yaml"
    stores = {"us-east-1": f"{pg} application_name=gameday-primary", "us-west-2": f"{pg} application_name=gameday-dr"}
    env.write_text(environment_yaml(s, wait_timeout_s=30, service=service_yaml(url, stores)))
    drill = tmp_path / "drill.yaml"
    drill.write_text(f"""
name: region-failover-aws
environment: {env}
runbook: {ROOT / 'runbooks' / 'region-failover.yaml'}
load: {{rate: 20, batch: 1}}
fault: {{action: fail_region, args: {{region: "{{primary_region}}"}}, effect_within_s: 2}}  # moto's NACLs bite at once
targets: {{rto_s: 1800, rpo_s: 300}}
probe: {{interval_s: 0.2, consecutive: 5, timeout_s: 1}}
warmup_s: 1
cooldown_s: 0.5
manual_confirm_s: 0.1
recovery_timeout_s: 30
""")
    return env, drill


def test_the_region_failover_drill_runs_end_to_end_on_aws(moto, pg, tmp_path):
    from gameday.api.drill import run_drill
    from gameday.api.plan import aws_plan

    s = seed()
    ec2 = boto3.client("ec2", region_name="us-east-1")
    untagged = ec2.create_subnet(VpcId=s["vpc"], CidrBlock="10.213.9.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    before = _associations()
    boto3.client("cloudwatch", region_name="us-west-2").put_metric_data(Namespace="AWS/RDS", MetricData=[{
        "MetricName": "ReplicaLag", "Value": 1.5, "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "ingest-db-dr"}]}])
    with DataPlane(pg, s["zone_id"]) as plane:
        env, drill = _files(tmp_path, s, plane.url, pg)
        calls = aws_plan(drill, env)
        apis = {c["api"] for c in calls}
        assert {"ec2:CreateNetworkAcl", "ec2:ReplaceNetworkAclAssociation", "rds:PromoteReadReplica",
                "route53:ChangeResourceRecordSets", "autoscaling:UpdateAutoScalingGroup"} <= apis
        assert not any(c["executed"] for c in calls) and _associations() == before, "the plan changed nothing"
        assert plane.serving

        summary = run_drill(drill, out_dir=tmp_path / "out")
        answers = dict(plane.answers)
    events = read_journal(tmp_path / "out" / "journal.jsonl")
    assert summary["verdict"] == "pass", summary.get("reasons")
    report = (tmp_path / "out" / "report.md").read_text()  # the NACL left RDS replication running: said, estimated
    assert "the measured RPO is a lower bound of a real region loss" in report
    assert "| RPO estimate of a real region loss (CloudWatch ReplicaLag at T0) | 1.5 s |" in report
    assert answers.get(503) and answers.get(202), "the service was down during the isolation and served after"
    applied = next(e for e in events if e.kind == "fault.applied")
    assert sorted(applied.value["result"]["isolated_subnets"]) == sorted(s["subnets"].values())
    ends = {e.value["id"]: e.value for e in events if e.kind == "step.end"}
    assert all(st["ok"] for st in ends.values()), ends
    assert "RDS instance ingest-db-dr (us-west-2) available" in ends["promote"]["detail"]
    assert "to accept a heartbeat write" in ends["promote"]["detail"]
    assert "INSYNC" in ends["dns"]["detail"]
    assert "3 healthy in-service instance(s)" in ends["scale"]["detail"] and "dr_nodes_healthy: true" in ends["scale"]["detail"]
    rec = next(e for e in events if e.kind == "reconcile").value
    assert rec["events_acked"] > 0 and rec["events_lost"] == 0 and rec["heartbeats_present"] > 0
    assert any(e.kind == "fault.inverse_applied" for e in events)
    assert _associations() == before, "the original NACL associations are back"
    assert _associations()[untagged] == before[untagged]
    with psycopg.connect(pg) as c:  # the heartbeat went through the primary region's DSN
        assert c.execute("SELECT count(*) FROM gameday.heartbeat WHERE run_id = %s",
                         (events[0].value["run_id"],)).fetchone()[0] > 0


def test_drill_run_refuses_with_exit_2_when_the_runner_sits_in_a_subnet_it_would_isolate(moto, pg, tmp_path, capsys):
    import pytest

    from gameday.cli import main

    s = seed()
    env, drill = _files(tmp_path, s, "http://127.0.0.1:9", pg)
    env.write_text(env.read_text().replace("  waiter_delay_s:", "  runner_addresses: [10.213.2.40]\n  waiter_delay_s:"))
    before = _associations()
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(drill), "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "10.213.2.40 lies in subnet" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out" / "journal.jsonl").exists(), "refused before the run began"
    assert _associations() == before

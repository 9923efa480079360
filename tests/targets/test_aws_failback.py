"""The failback actions on RDS against moto (runbooks/region-failback.yaml's action steps, run as a drill runs
them), and what a wait that runs out does to a step."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

import boto3
import psycopg

from conftest import ROOT
from gameday.config import load_environment
from gameday.drill.models import Step, load_runbook
from gameday.drill.steps import StepContext, StepOutcome, run_step
from gameday.targets.aws.iam import iam_policy
from gameday.targets.aws.target import AwsTarget
from targets.conftest import _IAM_PREFIX, environment_yaml, seed, service_yaml


def _target(tmp_path, s, pg: str | dict[str, str], **kw) -> AwsTarget:
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, service=service_yaml("http://127.0.0.1:9", pg), **kw))
    return AwsTarget(load_environment(env))


def _ctx(t: AwsTarget) -> StepContext:
    return StepContext(t, SimpleNamespace(probe_log=[]), 5, 0.0, {"primary_region": "us-east-1", "dr_region": "us-west-2"},
                       lambda step: StepOutcome(True, "confirmed"))


def _db(region: str, ident: str) -> dict:
    return boto3.client("rds", region_name=region).describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]


def _record(zone_id: str) -> str:
    sets = boto3.client("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return next(r for r in sets if r["Name"].startswith("ingest.example.com"))["ResourceRecords"][0]["Value"]


def _two_databases(pg: str) -> dict[str, str]:
    """The DR writer's and the primary region's databases as two databases of the test PostgreSQL."""
    with psycopg.connect(pg, autocommit=True) as c:
        for name in ("dr_side", "primary_side"):
            c.execute(f"DROP DATABASE IF EXISTS {name}")
            c.execute(f"CREATE DATABASE {name}")
    base = pg.replace("dbname=postgres", "")
    return {"us-west-2": f"{base} dbname=dr_side", "us-east-1": f"{base} dbname=primary_side"}


@contextmanager
def _replicating(dsns: dict[str, str], lag_s: float):
    """Stands in for RDS replication (moto has none): heartbeat rows committed on the DR side appear on the
    primary side ``lag_s`` later, until the block ends. Bounded: it stops with the block, or after 60 s."""
    stop = threading.Event()

    def copy() -> None:
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(lag_s)
            try:
                with psycopg.connect(dsns["us-west-2"]) as src, psycopg.connect(dsns["us-east-1"]) as dst:
                    rows = src.execute("SELECT run_id, seq, ts FROM gameday.heartbeat").fetchall()
                    dst.execute("CREATE SCHEMA IF NOT EXISTS gameday")
                    dst.execute("CREATE TABLE IF NOT EXISTS gameday.heartbeat (run_id text, seq bigint, ts float8, "
                                "PRIMARY KEY (run_id, seq))")
                    for r in rows:
                        dst.execute("INSERT INTO gameday.heartbeat VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", r)
            except psycopg.Error:
                continue  # the table is not there yet
    th = threading.Thread(target=copy, daemon=True)
    th.start()
    try:
        yield
    finally:
        stop.set()
        th.join(10)


def test_failback_rebuilds_the_primary_as_a_replica_returns_the_writer_restores_the_record_and_the_dr_replica(
        moto, pg, tmp_path):
    s = seed()
    dsns = _two_databases(pg)
    t = _target(tmp_path, s, dsns)
    sent: set[str] = set()  # every AWS call the driver's own clients make, reads and waiters included
    t.session.session.events.register("before-call", lambda model, **kw: sent.add(  # IAM's prefix (cloudwatch)
        f"{_IAM_PREFIX.get(model.service_model.signing_name, model.service_model.signing_name)}:{model.name}"))
    t.fail_region("us-east-1")  # the failover first, as the region drill leaves it
    t.promote_dr_db()
    t.switch_dns("us-west-2")
    t.restore()
    assert t.status().writer_region == "us-west-2"
    dr_arn = _db("us-west-2", "ingest-db-dr")["DBInstanceArn"]
    assert _db("us-west-2", "ingest-db-dr")["MultiAZ"] is False and _db("us-east-1", "ingest-db")["MultiAZ"] is True

    ctx = _ctx(t)
    steps = {st.id: st for st in load_runbook(ROOT / "runbooks" / "region-failback.yaml").steps}
    out = run_step(steps["rebuild"], ctx)
    assert out.ok, out.detail
    primary = _db("us-east-1", "ingest-db")
    assert primary["ReadReplicaSourceDBInstanceIdentifier"] == dr_arn, "a cross-region replica of the DR writer"
    assert primary["MultiAZ"] is True, "the replica keeps the shape of the instance it replaces"
    assert _db("us-east-1", f"ingest-db-pre-failback-{t.run_id}"), "the old primary is kept, renamed, never deleted"
    assert "the replica ingest-db (us-east-1) available" in out.detail
    assert {d.region: d.role for d in t.status().dbs} == {"us-east-1": "standby", "us-west-2": "primary"}

    before = time.monotonic()
    with _replicating(dsns, lag_s=1.0):  # the marker reaches the replica a second after it is committed
        out = run_step(steps["switchover"], ctx)
    assert out.ok, out.detail
    assert time.monotonic() - before >= 1.0, "promoted before the marker had reached the replica"
    assert "(replica lag 0)" in out.detail and "to accept a heartbeat write" in out.detail
    st = t.status()
    assert st.writer_region == "us-east-1" and not st.dr_promoted
    assert {d.region: d.role for d in st.dbs} == {"us-east-1": "primary", "us-west-2": "fenced"}

    assert run_step(steps["dns"], ctx).ok
    assert _record(s["zone_id"]) == "ingest-use1.example.com", "the record answers the primary region again"

    out = run_step(steps["dr-replica"], ctx)
    assert out.ok, out.detail
    dr = _db("us-west-2", "ingest-db-dr")
    assert dr["ReadReplicaSourceDBInstanceIdentifier"] == primary["DBInstanceArn"], "the DR replica re-created"
    assert _db("us-west-2", f"ingest-db-dr-pre-failback-{t.run_id}")
    assert {d.region: d.role for d in t.status().dbs} == {"us-east-1": "primary", "us-west-2": "standby"}
    assert run_step(steps["scale-down"], ctx).ok
    assert len(t.status().healthy_nodes(region="us-west-2")) == 1
    with psycopg.connect(dsns["us-east-1"]) as c:  # the catch-up marker written on the DR writer, read on the replica
        assert c.execute("SELECT count(*) FROM gameday.heartbeat WHERE run_id = %s",
                         (f"gameday-check-{t.run_id}",)).fetchone()[0] >= 3
    # `gameday iam-policy` allows every call made (chaosaws's own clients: the calls Actions recorded)
    allowed = {a for st in iam_policy(t.settings)["Statement"] for a in st["Action"]}
    made = sent | {c["api"] for c in t.actions.calls}
    assert {"rds:CreateDBInstanceReadReplica", "route53:GetChange", "ec2:CreateNetworkAclEntry"} <= made
    assert made <= allowed, f"missing from the IAM policy: {sorted(made - allowed)}"


def test_a_wait_that_runs_out_fails_the_step_naming_what_it_waited_for(moto, tmp_path):
    """moto never moves an instance to another zone on a reboot with failover: the wait runs out."""
    s = seed()
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, wait_timeout_s=0.5))
    t = AwsTarget(load_environment(env))
    import pytest

    from gameday.errors import DriverError
    with pytest.raises(DriverError, match=r"timed out after \d+ s waiting for RDS instance ingest-db available in a "
                                          r"zone other than us-east-1a") as info:
        t.fail_over_db()
    assert info.value.code == "WaitTimeout"
    # a runbook step's timeout_s bounds the driver's wait (here the promoted replica's write check: no database)
    step = Step(id="promote", name="Promote", kind="action", call="promote_dr_db", budget_s=600, done_when="promoted",
                timeout_s=1)
    out = run_step(step, _ctx(t))
    assert not out.ok
    assert "timed out after 1 s waiting for the promoted ingest-db-dr (us-west-2) to accept a heartbeat write" in out.detail


def test_aurora_failover_waits_until_the_writer_changed(moto, tmp_path):
    s = seed()
    rds = boto3.client("rds", region_name="us-east-1")
    rds.create_db_cluster(DBClusterIdentifier="ingest-aurora", Engine="aurora-postgresql", MasterUsername="gameday",
                          MasterUserPassword="secret123")
    for name, zone in (("ingest-aurora-1", "us-east-1a"), ("ingest-aurora-2", "us-east-1b")):
        rds.create_db_instance(DBInstanceIdentifier=name, DBClusterIdentifier="ingest-aurora", Engine="aurora-postgresql",
                               DBInstanceClass="db.r6g.large", AvailabilityZone=zone)
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s).replace("rds: {instance_id: ingest-db, dr_replica_id: ingest-db-dr}",
                                               "rds: {cluster_id: ingest-aurora}"))
    t = AwsTarget(load_environment(env))
    assert t.status().writer_zone() == "us-east-1a"
    out = t.fail_over_db().detail
    assert out["new_writer"] == "ingest-aurora-2"
    assert "Aurora cluster ingest-aurora's writer to become ingest-aurora-2" in out["waited_for"][0]
    st = t.status()
    assert st.writer_zone() == "us-east-1b"
    assert {d.name: d.role for d in st.dbs} == {"ingest-aurora-1": "standby", "ingest-aurora-2": "primary"}


def test_a_multi_az_failover_returns_once_the_writer_is_available_in_another_zone(moto, tmp_path, httpserver,
                                                                                     monkeypatch):
    """moto does not move an instance on a reboot with failover: a recording stub of the RDS API answers,
    rebooting for a few polls and then available in the other zone, as RDS does."""
    from urllib.parse import parse_qs

    from werkzeug import Response

    s = seed()
    state = {"zone": "us-east-1a", "status": "available", "polls": 0}
    sent: list[str] = []

    def handle(request):
        form = {k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
        sent.append(form["Action"])
        if form["Action"] == "RebootDBInstance":
            assert form["ForceFailover"] == "true"
            state.update(status="rebooting", polls=3)
        elif state["polls"]:
            state["polls"] -= 1
            if not state["polls"]:
                state.update(status="available", zone="us-east-1b")
        inst = (f"<DBInstance><DBInstanceIdentifier>ingest-db</DBInstanceIdentifier><DBInstanceStatus>{state['status']}"
                f"</DBInstanceStatus><AvailabilityZone>{state['zone']}</AvailabilityZone></DBInstance>")
        body = inst if form["Action"] == "RebootDBInstance" else f"<DBInstances>{inst}</DBInstances>"
        a = form["Action"]
        return Response(f'<{a}Response xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><{a}Result>{body}</{a}Result>'
                        f"</{a}Response>", content_type="text/xml")

    httpserver.expect_request("/").respond_with_handler(handle)
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", httpserver.url_for("/"))
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s))
    t = AwsTarget(load_environment(env))
    out = t.fail_over_db().detail
    assert out["zone_before"] == "us-east-1a" and state["zone"] == "us-east-1b" and state["status"] == "available"
    assert sent.index("RebootDBInstance") < len(sent) - 3, "it kept asking until the instance had moved"
    assert "RDS instance ingest-db available in a zone other than us-east-1a" in out["waited_for"][0]


def test_the_rebuilt_primary_keeps_the_original_class_groups_and_storage_not_the_dr_instances(moto, tmp_path):
    """The DR replica is smaller (db.r6g.large, default groups); the primary region's original was db.r6g.xlarge
    with its own parameter group and 200 GB gp3: the rebuilt replica is created like the original (moto records
    what CreateDBInstanceReadReplica was given)."""
    from gameday.targets.aws import rds

    s = seed()
    east = boto3.client("rds", region_name="us-east-1")
    east.create_db_parameter_group(DBParameterGroupName="ingest-pg16", DBParameterGroupFamily="postgres16",
                                   Description="ingest")
    east.modify_db_instance(DBInstanceIdentifier="ingest-db", DBInstanceClass="db.r6g.xlarge", ApplyImmediately=True,
                            DBParameterGroupName="ingest-pg16", AllocatedStorage=200, StorageType="gp3")
    t = _target(tmp_path, s, "host=127.0.0.1 port=9 dbname=x")
    rds.promote(t.session, t.actions, "us-west-2", "ingest-db-dr", lambda: None)  # the failover
    out = t.rebuild_primary_region()
    assert out["kept_as"] == f"ingest-db-pre-failback-{t.run_id}"
    new = _db("us-east-1", "ingest-db")
    assert new["ReadReplicaSourceDBInstanceIdentifier"] == _db("us-west-2", "ingest-db-dr")["DBInstanceArn"]
    assert new["DBInstanceClass"] == "db.r6g.xlarge", "the original's class, not the DR instance's db.r6g.large"
    assert [g["DBParameterGroupName"] for g in new["DBParameterGroups"]] == ["ingest-pg16"]
    assert (new["AllocatedStorage"], new["StorageType"], new["MultiAZ"]) == (200, "gp3", True)
    create = next(c for c in t.actions.calls if c["api"] == "rds:CreateDBInstanceReadReplica")
    assert create["params"]["DBParameterGroupName"] == "ingest-pg16"


def test_a_failback_planned_on_a_healthy_environment_shows_its_calls_and_changes_nothing(moto, tmp_path):
    s = seed()
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s))
    t = AwsTarget(load_environment(env), plan_only=True)
    def shape():
        keys = ("DBInstanceIdentifier", "DBInstanceStatus", "DBInstanceClass", "BackupRetentionPeriod",
                "ReadReplicaSourceDBInstanceIdentifier", "TagList")
        return [{k: _db(r, i).get(k) for k in keys} for r, i in (("us-east-1", "ingest-db"), ("us-west-2", "ingest-db-dr"))]

    before = shape()
    t.rebuild_primary_region()
    t.return_primary_db()
    t.rebuild_dr_db()
    apis = [c["api"] for c in t.actions.calls]  # the DR replica is still one of the primary: nothing to rebuild
    assert apis == ["rds:ModifyDBInstance", "rds:CreateDBInstanceReadReplica", "rds:PromoteReadReplica"]
    assert not any(c["executed"] for c in t.actions.calls)
    assert shape() == before

"""The restore drills' AWS calls against a moto server over HTTP (docs/restore.md): point-in-time and snapshot
restores into a NEW tagged instance, waited for with botocore's waiter, the restored endpoint handed on (a local
PostgreSQL stands in for it through ``aws.rds.restored_dsn``: moto runs no database), the restorable window,
the deletion of what gameday restored and of nothing else, and the data faults' confirmation and bound."""

from __future__ import annotations

import time

import boto3
import psycopg
import pytest
import yaml

from gameday.config import load_environment
from gameday.errors import ConfigError, DriverError
from gameday.restore.models import RESTORE_RESULT_KEYS
from gameday.targets.aws import wait
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml

RESTORED = "gameday-restore"


CORRUPT = ("UPDATE events SET payload = NULL WHERE id IN (SELECT id FROM events WHERE payload IS NOT NULL ORDER BY t "
           "LIMIT %(max_rows)s) RETURNING id")
PRESENT = "SELECT id FROM events WHERE id = ANY(%(ids)s) AND payload IS NOT NULL"
DELETE = "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY t LIMIT %(max_rows)s) RETURNING id"


def service(pg: str, url: str = "http://127.0.0.1:9", present_query: str = PRESENT, **store: str | None) -> str:
    """A ``service:`` at ``url`` whose store is the local PostgreSQL (table ``events``), with the data faults'
    statements (``store`` overrides them; None: left out)."""
    statements = {"corrupt_statement": CORRUPT, "delete_statement": DELETE, **store}
    return "\n" + yaml.safe_dump({"service": {
        "url": url,
        "write": {"method": "POST", "path": "/v1/events", "body": '{"events":[{{events}}]}',
                  "event": '{"id":"{{event_id}}"}', "ok": [202]},
        "read": {"method": "GET", "path": "/v1/events/{{event_id}}", "ok": [200]},
        "store": {"present_query": present_query, "dsn": pg, **{k: v for k, v in statements.items() if v is not None}},
        "heartbeat_table": "gameday.heartbeat"}}, sort_keys=False)


def env_file(tmp_path, s: dict, pg: str, *, cluster: bool = False, protected: bool = False, restored_dsn: str = "",
             store: str | None = None) -> str:
    text = environment_yaml(s, wait_timeout_s=10, protected=protected, service=store if store is not None else service(pg))
    rds = "{cluster_id: ingest-cl}" if cluster else "{instance_id: ingest-db, dr_replica_id: ingest-db-dr}"
    rds = rds[:-1] + f", restored_dsn: '{restored_dsn or pg + ' application_name={instance}'}'}}"
    text = text.replace("rds: {instance_id: ingest-db, dr_replica_id: ingest-db-dr}", f"rds: {rds}")
    path = tmp_path / "aws.yaml"
    path.write_text(text)
    return str(path)


def small_seed() -> dict:
    """What the restores touch: the RDS primary (with its automated backup) and the hosted zone the environment
    names (``seed`` makes a whole staging account and costs seconds)."""
    rds().create_db_instance(DBInstanceIdentifier="ingest-db", DBInstanceClass="db.r6g.large", Engine="postgres",
                             MasterUsername="gameday", MasterUserPassword="secret123", AllocatedStorage=100,
                             MultiAZ=True, AvailabilityZone="us-east-1a", BackupRetentionPeriod=7)
    zone = boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="r")["HostedZone"]["Id"]
    return {"zone_id": zone.split("/")[-1]}


def target(tmp_path, pg: str, **kw) -> AwsTarget:
    confirm = kw.pop("confirm", "aws-staging")
    s = kw.pop("seeded", None) or small_seed()
    return AwsTarget(load_environment(env_file(tmp_path, s, pg, **kw)), confirm=confirm)


def rds():
    return boto3.client("rds", region_name="us-east-1")


def tags(ident: str) -> dict[str, str]:
    inst = rds().describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
    return {t["Key"]: t["Value"] for t in inst.get("TagList", [])}


def instances() -> set[str]:
    return {i["DBInstanceIdentifier"] for i in rds().describe_db_instances()["DBInstances"]}


def test_a_point_in_time_restore_makes_a_new_tagged_instance_hands_on_its_endpoint_and_discard_deletes_it(
        moto, pg, tmp_path):
    t = target(tmp_path, pg)
    st = t.backup_status()
    assert st.latest_restorable and st.earliest_restorable and st.earliest_restorable <= st.latest_restorable
    assert [sn.kind for sn in st.snapshots] == ["automated"] and st.restored == []
    point = (st.earliest_restorable + st.latest_restorable) / 2

    out = t.restore_point_in_time(to=point, instance=RESTORED)
    assert set(RESTORE_RESULT_KEYS) <= set(out) and out["kind"] == "pitr" and out["restore_point"] == point
    assert out["source"] == st.snapshots[0].name and out["restore_s"] >= 0 and out["t_ready"] >= out["t_started"]
    assert any(w.startswith(f"the restored instance {RESTORED} available") for w in out["waited_for"])
    assert any("to accept connections" in w for w in out["waited_for"])
    call = next(c for c in t.actions.calls if c["api"] == "rds:RestoreDBInstanceToPointInTime")
    assert call["params"]["SourceDBInstanceIdentifier"] == "ingest-db" and call["params"]["MultiAZ"] is False
    assert call["params"]["RestoreTime"].startswith(time.strftime("%Y-", time.gmtime(point)))
    assert tags(RESTORED) == {"gameday:target": "staging", "gameday:restore-of": "ingest-db",
                              "gameday:restore-point": f"{point:.3f}"}
    assert t.backup_status().restored == [RESTORED]

    found = t.verify_restore(RESTORED)  # the restored endpoint, through aws.rds.restored_dsn
    assert found["endpoint"].startswith(f"{RESTORED}.") and found["endpoint"].endswith(":5432")
    with psycopg.connect(found["dsn"]) as c:
        assert c.execute("SHOW application_name").fetchone()[0] == RESTORED

    assert t.discard_restore(RESTORED)["deleted"] is True
    assert RESTORED not in instances() and {"ingest-db"} <= instances()
    assert any(c["api"] == "rds:DeleteDBInstance" and c["params"]["SkipFinalSnapshot"] for c in t.actions.calls)
    assert t.discard_restore(RESTORED) == {"instance": RESTORED, "deleted": False}, "idempotent: recover may rerun it"


def test_discard_deletes_nothing_gameday_did_not_restore(moto, pg, tmp_path):
    t = target(tmp_path, pg)
    rds().create_db_instance(DBInstanceIdentifier="reporting", DBInstanceClass="db.t3.micro", Engine="postgres",
                             MasterUsername="u", MasterUserPassword="secret123", AllocatedStorage=20)
    for ident, why in (("ingest-db", "one of the environment's own databases"), ("reporting", "not restored by gameday")):
        with pytest.raises(ConfigError, match=why):
            t.discard_restore(ident)
    assert {"ingest-db", "reporting"} <= instances()
    assert not any(c["api"] == "rds:DeleteDBInstance" for c in t.actions.calls)


def test_a_restore_point_outside_the_restorable_window_is_refused_before_any_call(moto, pg, tmp_path):
    t = target(tmp_path, pg)
    st = t.backup_status()
    assert st.latest_restorable is not None and st.earliest_restorable is not None
    with pytest.raises(DriverError, match="after the latest restorable time"):
        t.restore_point_in_time(to=st.latest_restorable + 3600, instance=RESTORED)
    with pytest.raises(DriverError, match="before the earliest restorable time"):
        t.restore_point_in_time(to=st.earliest_restorable - 86_400, instance=RESTORED)
    with pytest.raises(ConfigError, match="NEW instance"):
        t.restore_point_in_time(to="latest", instance="ingest-db")
    assert RESTORED not in instances() and not t.actions.calls


def test_a_snapshot_restore_takes_the_newest_snapshot_or_the_named_one(moto, pg, tmp_path):
    t = target(tmp_path, pg)
    rds().create_db_snapshot(DBInstanceIdentifier="ingest-db", DBSnapshotIdentifier="pre-deploy-1")
    newest = max(t.backup_status().snapshots, key=lambda sn: sn.t_taken)
    out = t.restore_snapshot("latest", instance=RESTORED)
    assert out["kind"] == "snapshot" and out["source"] == newest.name == "pre-deploy-1"
    assert out["restore_point"] == out["source_taken_at"] == newest.t_taken
    automated = next(sn.name for sn in t.backup_status().snapshots if sn.kind == "automated")
    out2 = t.restore_snapshot(automated, instance="gameday-restore-2")
    assert out2["source"] == automated and tags("gameday-restore-2")["gameday:restore-of"] == "ingest-db"
    with pytest.raises(DriverError, match="no snapshot 'nope' is available.*pre-deploy-1"):
        t.restore_snapshot("nope", instance="gameday-restore-3")
    with pytest.raises(DriverError, match="exists already"):
        t.restore_snapshot("latest", instance=RESTORED)
    assert "gameday-restore-3" not in instances()


def test_aurora_restores_a_new_cluster_with_a_writer_and_discard_deletes_both(moto, pg, tmp_path):
    s = small_seed()
    rds().create_db_cluster(DBClusterIdentifier="ingest-cl", Engine="aurora-postgresql", MasterUsername="gameday",
                            MasterUserPassword="secret123")
    rds().create_db_instance(DBInstanceIdentifier="ingest-cl-1", DBClusterIdentifier="ingest-cl",
                             Engine="aurora-postgresql", DBInstanceClass="db.r6g.xlarge")
    t = target(tmp_path, pg, seeded=s, cluster=True)
    out = t.restore_point_in_time(to="latest", instance=RESTORED)
    apis = [c["api"] for c in t.actions.calls]
    assert apis == ["rds:RestoreDBClusterToPointInTime", "rds:CreateDBInstance"]
    assert t.actions.calls[1]["params"]["DBInstanceClass"] == "db.r6g.xlarge", "the writer's class"
    assert out["endpoint"].startswith(f"{RESTORED}.cluster-")
    assert t.backup_status().restored == [RESTORED]
    gone = t.discard_restore(RESTORED)
    assert gone["deleted"] is True and gone["cluster_instances"] == [f"{RESTORED}-w"]
    assert [c["api"] for c in t.actions.calls][2:] == ["rds:DeleteDBInstance", "rds:DeleteDBCluster"]
    clusters = {c["DBClusterIdentifier"] for c in rds().describe_db_clusters()["DBClusters"]}
    assert clusters == {"ingest-cl"} and f"{RESTORED}-w" not in instances()


_NS = "http://rds.amazonaws.com/doc/2014-10-31/"
_INST = ("<DBInstance><DBInstanceIdentifier>{ident}</DBInstanceIdentifier><DBInstanceStatus>{status}</DBInstanceStatus>"
         "<DBInstanceClass>db.r6g.large</DBInstanceClass><LatestRestorableTime>2030-01-01T00:00:00Z</LatestRestorableTime>"
         "<DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:{ident}</DBInstanceArn></DBInstance>")


def _restoring_stub(httpserver, monkeypatch, state: str) -> list[str]:
    """RDS as a recording stub: the source instance, no restored one until the restore call, then the restored
    one in ``state`` (moto makes every instance 'available' at once, so it cannot show a failed restore)."""
    from werkzeug import Response

    sent: list[str] = []

    def answer(request):
        action, ident = request.form["Action"], request.form.get("DBInstanceIdentifier")
        sent.append(action)
        if action == "DescribeDBInstances" and ident == RESTORED and "RestoreDBInstanceToPointInTime" not in sent:
            return Response(f"<ErrorResponse xmlns='{_NS}'><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code>"
                            f"<Message>DBInstance {ident} not found.</Message></Error><RequestId>1</RequestId>"
                            "</ErrorResponse>", status=404, content_type="text/xml")
        body = {"DescribeDBInstances": "<DBInstances>" + _INST.format(
                    ident=ident or "ingest-db", status=state if ident == RESTORED else "available") + "</DBInstances>",
                "RestoreDBInstanceToPointInTime": _INST.format(ident=RESTORED, status="creating"),
                }.get(action, "")
        return Response(f"<{action}Response xmlns='{_NS}'><{action}Result>{body}</{action}Result><ResponseMetadata>"
                        f"<RequestId>1</RequestId></ResponseMetadata></{action}Response>", content_type="text/xml")

    httpserver.expect_request("/", method="POST").respond_with_handler(answer)
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", httpserver.url_for("").rstrip("/"))
    return sent


@pytest.mark.parametrize("state", ["incompatible-restore", "restore-error"])  # botocore knows one, not the other
def test_a_restore_whose_instance_turns_terminal_fails_at_once_naming_the_state(
        moto, pg, tmp_path, httpserver, monkeypatch, state):
    s = small_seed()
    sent = _restoring_stub(httpserver, monkeypatch, state)
    t = target(tmp_path, pg, seeded=s)
    started = time.monotonic()
    with pytest.raises(DriverError) as info:
        t.restore_point_in_time(to="latest", instance=RESTORED)
    assert info.value.code == wait.TERMINAL, "not a timeout: the wait stopped on the state"
    assert f"the restored instance {RESTORED} available: it is {state}, a terminal state" in str(info.value)
    assert sent.count("RestoreDBInstanceToPointInTime") == 1 and time.monotonic() - started < 5


# ---- the data faults ---------------------------------------------------------------------------------------
@pytest.fixture
def events(pg):
    with psycopg.connect(pg, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS events")
        c.execute("CREATE TABLE events (id text PRIMARY KEY, payload text, t double precision)")
        c.execute("INSERT INTO events SELECT 'e' || g, 'x', g FROM generate_series(1, 50) g")
    return pg


def _intact(pg: str) -> int:
    with psycopg.connect(pg) as c:
        return c.execute("SELECT count(*) FROM events WHERE payload IS NOT NULL").fetchone()[0]


def test_a_data_fault_runs_the_described_statement_only_once_confirmed_and_bounded(moto, events, tmp_path):
    s = small_seed()
    unconfirmed = target(tmp_path, events, seeded=s, confirm=None)
    with pytest.raises(ConfigError) as info:
        unconfirmed.preflight("corrupt_data", {"max_rows": 5})
    assert info.value.field == "--confirm" and "UPDATE events SET payload = NULL" in str(info.value)
    assert _intact(events) == 50

    t = target(tmp_path, events, seeded=s)
    res = t.corrupt_data(max_rows=5)
    assert res.detail["damaged"] == 5 and sorted(res.detail["sample"]) == ["e1", "e2", "e3", "e4", "e5"]
    assert _intact(events) == 45
    with pytest.raises(DriverError, match="more than max_rows 10: rolled back"):
        target(tmp_path, events, seeded=s, store=service(events, delete_statement=DELETE.replace("LIMIT %(max_rows)s",
                                                                                     "LIMIT 20 + 0 * %(max_rows)s"))
               ).delete_data(max_rows=10)
    with psycopg.connect(events) as c:
        assert c.execute("SELECT count(*) FROM events").fetchone()[0] == 50, "nothing deleted"


def test_an_unbounded_statement_or_none_is_refused_naming_the_field(moto, pg, tmp_path):
    s = small_seed()
    unbounded = service(pg, corrupt_statement=CORRUPT.replace("%(max_rows)s", "10"))
    with pytest.raises(ConfigError) as info:
        target(tmp_path, pg, seeded=s, store=unbounded).preflight("corrupt_data", {})
    assert info.value.field == "service.store.corrupt_statement" and "%(max_rows)s" in str(info.value)
    missing = service(pg, delete_statement=None)
    with pytest.raises(ConfigError) as info:
        target(tmp_path, pg, seeded=s, store=missing).preflight("delete_data", {})
    assert info.value.field == "service.store.delete_statement"


def test_a_protected_environment_refuses_without_confirm(moto, pg, tmp_path):
    with pytest.raises(ConfigError, match="--confirm aws-staging"):
        target(tmp_path, pg, protected=True, confirm=None)


def test_restored_dsn_fills_the_restored_instance_and_the_password_from_the_environment(moto, pg, tmp_path, monkeypatch):
    t = target(tmp_path, pg, restored_dsn="host=localhost port=15432 password=${RA_PASSWORD} application_name={instance}")
    with pytest.raises(ConfigError) as info:
        t.restored_dsn(RESTORED, "h.rds.amazonaws.com", 5432)
    assert info.value.field == "aws.rds.restored_dsn" and "RA_PASSWORD" in str(info.value)
    monkeypatch.setenv("RA_PASSWORD", "s3cret")
    assert t.restored_dsn(RESTORED, "h", 1) == f"host=localhost port=15432 password=s3cret application_name={RESTORED}"

"""Waits stop at once on a terminal state, naming it. moto keeps every RDS instance 'available', so RDS is a
recording stub here (AWS_ENDPOINT_URL_RDS) answering with the state under test; the rest is moto."""

from __future__ import annotations

import boto3
import pytest
from werkzeug import Response

from gameday.config import load_environment
from gameday.errors import DriverError
from gameday.targets.aws import wait
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml

_INSTANCE = """<DBInstance><DBInstanceIdentifier>{ident}</DBInstanceIdentifier><DBInstanceStatus>{status}</DBInstanceStatus>
<AvailabilityZone>us-east-1a</AvailabilityZone><MultiAZ>true</MultiAZ>
<DBInstanceArn>arn:aws:rds:us-east-1:123456789012:db:{ident}</DBInstanceArn>
<Endpoint><Address>{ident}.example.com</Address><Port>5432</Port></Endpoint></DBInstance>"""


def _rds_stub(httpserver, monkeypatch, status: str) -> list[str]:
    sent: list[str] = []

    def answer(request):
        action = request.form["Action"]
        sent.append(action)
        inst = _INSTANCE.format(ident=request.form.get("DBInstanceIdentifier", "ingest-db"), status=status)
        body = (f"<{action}Response xmlns='http://rds.amazonaws.com/doc/2014-10-31/'><{action}Result>"
                + (f"<DBInstances>{inst}</DBInstances>" if action == "DescribeDBInstances" else inst)
                + f"</{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>")
        return Response(body, content_type="text/xml")

    httpserver.expect_request("/", method="POST").respond_with_handler(answer)
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", httpserver.url_for("").rstrip("/"))
    return sent


def _target(tmp_path) -> AwsTarget:
    zone = boto3.client("route53").create_hosted_zone(Name="example.com", CallerReference="w")["HostedZone"]["Id"]
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml({"zone_id": zone.split("/")[-1]}, wait_timeout_s=30))
    return AwsTarget(load_environment(env))


@pytest.mark.parametrize("status", ["incompatible-parameters", "storage-full"])  # botocore knows one, not the other
def test_a_failover_whose_instance_turns_terminal_fails_its_wait_at_once_naming_the_state(
        moto, tmp_path, httpserver, monkeypatch, status):
    sent = _rds_stub(httpserver, monkeypatch, status)
    t = _target(tmp_path)
    with pytest.raises(DriverError) as info:
        t.fail_over_db()
    assert info.value.code == wait.TERMINAL, "not a timeout: the wait stopped on the state"
    assert f"ingest-db (us-east-1) is {status}, a terminal state" in str(info.value)
    assert "RebootDBInstance" in sent and sent.count("DescribeDBInstances") < 10


def test_botocore_waiters_failure_acceptor_is_named_too(moto, tmp_path, httpserver, monkeypatch):
    _rds_stub(httpserver, monkeypatch, "deleting")
    t = _target(tmp_path)
    with pytest.raises(DriverError) as info:
        wait.waiter(t.session, t.actions, "rds", None, "db_instance_available", "ingest-db available",
                    DBInstanceIdentifier="ingest-db")
    assert info.value.code == wait.TERMINAL and "it is deleting, a terminal state" in str(info.value)


def test_a_promotion_whose_replica_turns_terminal_fails_at_once(moto, tmp_path, httpserver, monkeypatch):
    _rds_stub(httpserver, monkeypatch, "incompatible-network")
    t = _target(tmp_path)
    with pytest.raises(DriverError) as info:
        t.promote_dr_db()
    assert info.value.code == wait.TERMINAL and "ingest-db-dr (us-west-2) is incompatible-network" in str(info.value)

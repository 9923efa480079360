"""Errors at one boundary: boto3, botocore, chaosaws (chaoslib's FailedActivity) and kubernetes errors all
leave the AWS driver as DriverError carrying the service's own error code; DSNs built by psycopg."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from psycopg.conninfo import conninfo_to_dict
from werkzeug import Response

from gameday.config import load_environment
from gameday.errors import DriverError
from gameday.targets.aws.session import boundary
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml, seed


def _target(tmp_path, s, text: str | None = None, **kw) -> AwsTarget:
    env = tmp_path / "aws.yaml"
    env.write_text(text or environment_yaml(s))
    return AwsTarget(load_environment(env), **kw)


def test_a_boto3_error_of_an_action_is_a_driver_error_with_the_aws_code(moto, tmp_path):
    s = seed()
    t = _target(tmp_path, s, environment_yaml(s).replace("dr_replica_id: ingest-db-dr", "dr_replica_id: no-such-db")
                .replace(s["zone_id"], "ZNOSUCHZONE"))
    with pytest.raises(DriverError) as info:
        t.switch_dns("us-west-2")
    assert info.value.code == "NoSuchHostedZone" and "route53:ChangeResourceRecordSets" in str(info.value)
    with pytest.raises(DriverError) as info:  # a read crosses the same boundary
        t.writer_dsn("us-west-2")
    assert info.value.code == "DBInstanceNotFound"


def test_a_chaosaws_failure_keeps_the_aws_code(moto):
    from chaosaws.rds.actions import reboot_db_instance

    seed()
    with pytest.raises(DriverError) as info, boundary("rds:RebootDBInstance"):
        reboot_db_instance(db_instance_identifier="no-such-db", configuration={"aws_region": "us-east-1"})
    assert info.value.code == "DBInstanceNotFound"


def test_a_kubernetes_api_error_is_a_driver_error_with_the_http_status(moto, tmp_path, httpserver):
    s = seed()
    httpserver.expect_request("/api/v1/nodes").respond_with_response(Response(
        json.dumps({"kind": "Status", "status": "Failure", "message": "nodes is forbidden", "code": 403}), status=403,
        content_type="application/json"))
    cfg = client.Configuration()
    cfg.host = httpserver.url_for("").rstrip("/")
    text = environment_yaml(s, extra="  eks:\n    us-east-1: {cluster: ingest}\n")
    t = _target(tmp_path, s, text, kube_clients={"us-east-1": client.ApiClient(cfg)})
    with pytest.raises(DriverError) as info:
        t.drain_zone("us-east-1b")
    assert info.value.code == "403" and "drain_zone" in str(info.value)


def test_a_botocore_error_without_an_answer_is_a_driver_error(monkeypatch, moto, tmp_path):
    s = seed()
    monkeypatch.setenv("AWS_ENDPOINT_URL_ROUTE_53", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    t = _target(tmp_path, s)
    with pytest.raises(DriverError) as info:
        t.status()
    assert info.value.code == "EndpointConnectionError"


def test_the_writer_dsn_quotes_a_password_with_spaces_and_quotes(moto, tmp_path):
    s = seed()
    password = "p w'd \"x\\"
    t = _target(tmp_path, s, db_password=password)
    parsed = conninfo_to_dict(t.writer_dsn())
    assert parsed["password"] == password and parsed["user"] == "gameday" and parsed["port"] == "5432"


def test_every_command_builds_its_aws_target_with_the_db_password_the_environment_names(moto, tmp_path, monkeypatch):
    """drill, plan and recover (gameday.api.targets) and chaos (its session) build the target the same way: the
    password of aws.rds.password_env reaches the writer DSN in each."""
    from gameday.api.targets import aws_target
    from gameday.chaos import session
    from gameday.config import load_environment

    s = seed()
    monkeypatch.setenv("GAMEDAY_DB_PASSWORD", "s3cret with space")
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s))
    try:
        targets = [aws_target(load_environment(env), confirm=None),
                   aws_target(load_environment(env), confirm=None, plan_only=True),
                   session.session_for({"gameday_env": str(env)}).target]
        assert [conninfo_to_dict(t.writer_dsn()).get("password") for t in targets] == ["s3cret with space"] * 3
    finally:
        session.reset()


def test_an_unknown_kube_context_is_a_usage_error_naming_the_field(moto, tmp_path, monkeypatch):
    from gameday.errors import ConfigError

    s = seed()
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kubeconfig"))
    t = _target(tmp_path, s, environment_yaml(s, extra="  eks:\n    us-west-2: {cluster: c, kube_context: nope}\n"))
    with pytest.raises(ConfigError, match=r"aws\.eks\.us-west-2\.kube_context: cannot use the EKS cluster") as info:
        t.scale_dr(3)
    assert info.value.exit_code == 2 and t.actions.calls == [], "refused before the node group was scaled"


def test_a_driver_wait_asks_again_after_a_throttle_but_not_after_access_denied():
    from types import SimpleNamespace

    from gameday.errors import DriverError
    from gameday.targets.aws import wait
    from gameday.targets.aws.session import Actions

    s = SimpleNamespace(settings=SimpleNamespace(waiter_delay_s=0.01, wait_timeout_s=2.0))
    answers = [DriverError("DescribeDBInstances: Rate exceeded", code="Throttling"),
               DriverError("DescribeDBInstances: 503", code="503"), "writer moved"]

    def check():
        a = answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a
    assert wait.until(s, Actions(), "the writer to move", check) == "writer moved"  # type: ignore[arg-type]

    def denied():
        raise DriverError("DescribeDBInstances: not authorized", code="AccessDenied")
    with pytest.raises(DriverError, match="not authorized"):
        wait.until(s, Actions(), "the writer to move", denied)  # type: ignore[arg-type]

    s.settings.wait_timeout_s = 0.1

    def throttled():
        raise DriverError("DescribeDBInstances: Rate exceeded", code="Throttling")
    with pytest.raises(DriverError, match="timed out .* waiting for the writer to move .*Rate exceeded"):
        wait.until(s, Actions(), "the writer to move", throttled)  # type: ignore[arg-type]

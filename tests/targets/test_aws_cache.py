"""The cache tier on AWS against a moto server: the replication group found by the environment's tags (moto
models replication groups and their tags), its Multi-AZ failover (TestFailover) and the Global Datastore's
failover to the DR region (FailoverGlobalReplicationGroup), each waited for.

moto models neither TestFailover nor Global Datastores (FailoverGlobalReplicationGroup,
DescribeGlobalReplicationGroups): a recording stub answers those three and passes every other ElastiCache
request on to moto unchanged."""

from __future__ import annotations

import urllib.request
from urllib.parse import parse_qs

import boto3
import pytest
from werkzeug import Response

from gameday.cli import main
from gameday.config import load_environment
from gameday.errors import ConfigError
from gameday.targets.aws.target import AwsTarget
from targets.conftest import TAG, environment_yaml, seed

_GLOBAL = ("<{a}Response><{a}Result><GlobalReplicationGroups><GlobalReplicationGroup>"
           "<GlobalReplicationGroupId>ldgnf-sessions</GlobalReplicationGroupId><Members>"
           "<GlobalReplicationGroupMember><ReplicationGroupId>sessions</ReplicationGroupId>"
           "<ReplicationGroupRegion>us-east-1</ReplicationGroupRegion><Role>{east}</Role><Status>associated</Status>"
           "</GlobalReplicationGroupMember><GlobalReplicationGroupMember><ReplicationGroupId>sessions-dr"
           "</ReplicationGroupId><ReplicationGroupRegion>us-west-2</ReplicationGroupRegion><Role>{west}</Role>"
           "<Status>associated</Status></GlobalReplicationGroupMember></Members></GlobalReplicationGroup>"
           "</GlobalReplicationGroups></{a}Result></{a}Response>")


def _groups(*, extra_tagged: bool = False) -> None:
    for region, gid, tags, glob in (("us-east-1", "sessions", [TAG], "ldgnf-sessions"), ("us-east-1", "other-team", [], None),
                                    ("us-west-2", "sessions-dr", [TAG], "ldgnf-sessions"),
                                    *([("us-east-1", "rate-limits", [TAG], None)] if extra_tagged else [])):
        boto3.client("elasticache", region_name=region).create_replication_group(
            ReplicationGroupId=gid, ReplicationGroupDescription=gid, Engine="valkey", CacheNodeType="cache.t4g.micro",
            NumCacheClusters=2, AutomaticFailoverEnabled=True, MultiAZEnabled=True, Tags=tags,
            PreferredCacheClusterAZs=[f"{region}a", f"{region}b"], **({"GlobalReplicationGroupId": glob} if glob else {}))


@pytest.fixture
def stub(moto, httpserver, monkeypatch):
    """Every ElastiCache request: recorded; the three moto lacks answered here, the rest passed on to moto."""
    sent: list[tuple[str, dict[str, str]]] = []
    state = {"west": "SECONDARY"}

    def handle(request):
        body = request.get_data()
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        action = form["Action"]
        sent.append((action, form))
        if action == "TestFailover":
            return Response(f"<TestFailoverResponse><TestFailoverResult><ReplicationGroup><ReplicationGroupId>"
                            f"{form['ReplicationGroupId']}</ReplicationGroupId></ReplicationGroup></TestFailoverResult>"
                            "</TestFailoverResponse>", content_type="text/xml")
        if action in ("FailoverGlobalReplicationGroup", "DescribeGlobalReplicationGroups"):
            if action == "FailoverGlobalReplicationGroup":
                state["west"] = "PRIMARY" if form["PrimaryRegion"] == "us-west-2" else "SECONDARY"
            xml = _GLOBAL.format(a=action, east="SECONDARY" if state["west"] == "PRIMARY" else "PRIMARY",
                                 west=state["west"])
            if action == "FailoverGlobalReplicationGroup":  # one group, not a list, in this answer
                xml = xml.replace("<GlobalReplicationGroups><GlobalReplicationGroup>", "<GlobalReplicationGroup>")
                xml = xml.replace("</GlobalReplicationGroup></GlobalReplicationGroups>", "</GlobalReplicationGroup>")
            return Response(xml, content_type="text/xml")
        req = urllib.request.Request(moto_url, data=body, headers=dict(request.headers), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return Response(r.read(), status=r.status, content_type=r.headers.get("Content-Type"))
        except urllib.error.HTTPError as e:
            return Response(e.read(), status=e.code, content_type=e.headers.get("Content-Type"))

    import os
    moto_url = os.environ["AWS_ENDPOINT_URL"]
    httpserver.expect_request("/elasticache").respond_with_handler(handle)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ELASTICACHE", httpserver.url_for("/elasticache"))
    return sent


def _env(tmp_path, s, extra: str = "  elasticache: true\n"):
    env = tmp_path / "aws.yaml"
    env.write_text(environment_yaml(s, extra=extra))
    return env


def test_the_dry_run_names_test_failover_on_the_group_the_tags_resolve(stub, tmp_path, capsys):
    s = seed()
    _groups()
    env = _env(tmp_path, s)
    drill = tmp_path / "cache.yaml"
    drill.write_text(f"name: cache-aws\nenvironment: {env}\nrunbook: {tmp_path / 'rb.yaml'}\n"
                     "fault: {action: fail_cache_primary}\ntargets: {rto_s: 30, rpo_s: 0}\n")
    (tmp_path / "rb.yaml").write_text("name: rb\ntitle: wait\nsteps:\n  - {id: smoke, name: Smoke, kind: wait, "
                                      "wait_for: synthetic_recovered, timeout_s: 60, budget_s: 60, done_when: ok}\n")
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(drill), "--dry-run"])
    text = capsys.readouterr().out
    assert info.value.code in (0, None), text
    assert "elasticache:TestFailover" in text and "sessions/0001" in text, text
    assert "other-team" not in text, "an untagged group is never named"
    assert not [a for a, _ in stub if a == "TestFailover"], "a dry run changes nothing"


def test_test_failover_on_the_tagged_group_is_waited_for_and_the_untagged_one_is_untouched(stub, tmp_path):
    s = seed()
    _groups()
    t = AwsTarget(load_environment(_env(tmp_path, s)))
    out = t.fail_cache_primary().detail
    failovers = [p for a, p in stub if a == "TestFailover"]
    assert [(p["ReplicationGroupId"], p["NodeGroupId"]) for p in failovers] == [("sessions", "0001")]
    assert out["replication_group"] == "sessions" and out["old_primary_zone"] == "us-east-1a"
    assert any("replication group sessions available" in w for w in out["waited_for"]), out
    assert [a for a, _ in stub].count("DescribeReplicationGroups") >= 2, "resolved, then waited on by botocore"


def test_promote_cache_fails_the_global_datastore_over_to_the_dr_group_and_waits_until_it_is_primary(stub, tmp_path):
    s = seed()
    _groups()
    t = AwsTarget(load_environment(_env(tmp_path, s)))
    out = t.promote_cache()
    failover = next(p for a, p in stub if a == "FailoverGlobalReplicationGroup")
    assert failover["GlobalReplicationGroupId"] == "ldgnf-sessions"
    assert failover["PrimaryRegion"] == "us-west-2" and failover["PrimaryReplicationGroupId"] == "sessions-dr"
    assert out["primary"] == "sessions-dr" and any("primary in us-west-2" in w for w in out["waited_for"]), out
    again = t.promote_cache()  # idempotent: already the primary, nothing called
    assert again["already"] and [a for a, _ in stub].count("FailoverGlobalReplicationGroup") == 1
    back = t.return_primary_cache()  # the failback: to the primary region's group again
    failback = [p for a, p in stub if a == "FailoverGlobalReplicationGroup"][-1]
    assert failback["PrimaryRegion"] == "us-east-1" and failback["PrimaryReplicationGroupId"] == "sessions"
    assert back["primary"] == "sessions" and any("primary in us-east-1" in w for w in back["waited_for"]), back


@pytest.mark.parametrize("extra, groups, message", [
    ("  elasticache: true\n", {"extra_tagged": True}, "name one in aws.elasticache_replication_group"),
    ("  elasticache_replication_group: other-team\n", {}, "carries gameday:target=staging"),
    ("", {}, "the environment has no cache"),
])
def test_a_cache_fault_that_would_touch_no_or_several_groups_is_refused_before_any_change(stub, tmp_path, extra,
                                                                                         groups, message):
    s = seed()
    _groups(**groups)
    t = AwsTarget(load_environment(_env(tmp_path, s, extra)))
    with pytest.raises(ConfigError, match=message):
        t.preflight("fail_cache_primary", {})
    with pytest.raises(ConfigError, match=message):
        t.fail_cache_primary()
    assert not [a for a, _ in stub if a == "TestFailover"]

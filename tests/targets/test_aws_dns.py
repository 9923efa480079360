"""The DNS modes on a moto server over HTTP (moto stores alias, failover and weighted records and health
checks): for each, the switch to the DR region, the status that follows it, the inverse that puts the
records back exactly as they were, and a plan that changes nothing. Route 53 ARC: a recording stub."""

from __future__ import annotations

import json

import boto3
import pytest

from gameday.config import load_environment
from gameday.errors import ConfigError
from gameday.targets.aws.target import AwsTarget
from targets.conftest import environment_yaml


def seed() -> dict:
    """Only the hosted zone: the status of an account with nothing else in it reads no node and no database."""
    r53 = boto3.client("route53")
    return {"zone_id": r53.create_hosted_zone(Name="example.com", CallerReference="gameday")["HostedZone"]["Id"]
            .split("/")[-1]}

NAME = "api.example.com"
ALB = {"primary": ("ingest-use1-123.us-east-1.elb.amazonaws.com", "Z35SXDOTRQ7X7K"),
       "dr": ("ingest-usw2-456.us-west-2.elb.amazonaws.com", "Z1H1FL5HABSF5")}


def _change(zone: str, *sets: dict) -> None:
    boto3.client("route53").change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": rs} for rs in sets]})


def _health_check() -> str:
    return boto3.client("route53").create_health_check(CallerReference="gameday-test", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "ingest-use1.example.com", "ResourcePath": "/healthz",
        "RequestInterval": 10, "FailureThreshold": 3})["HealthCheck"]["Id"]


def _seed_mode(mode: str, zone: str) -> str:
    """The records (and health check) a team using ``mode`` has, and the environment's route53 section for it."""
    if mode == "simple":
        _change(zone, {"Name": NAME, "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "ingest-use1.example.com"}]})
        return ("    mode: simple\n    type: CNAME\n    primary_value: ingest-use1.example.com\n"
                "    dr_value: ingest-usw2.example.com\n")
    if mode == "alias":
        _change(zone, {"Name": NAME, "Type": "A", "AliasTarget": {
            "DNSName": ALB["primary"][0], "HostedZoneId": ALB["primary"][1], "EvaluateTargetHealth": True}})
        return "".join(f"    {r}_alias: {{dns_name: {ALB[r][0]}, hosted_zone_id: {ALB[r][1]}, evaluate_target_health: true}}\n"
                       for r in ("primary", "dr")) + "    mode: alias\n    type: A\n"
    if mode == "failover":
        hc = _health_check()
        _change(zone, {"Name": NAME, "Type": "CNAME", "TTL": 30, "SetIdentifier": "use1", "Failover": "PRIMARY",
                       "HealthCheckId": hc, "ResourceRecords": [{"Value": "ingest-use1.example.com"}]},
                {"Name": NAME, "Type": "CNAME", "TTL": 30, "SetIdentifier": "usw2", "Failover": "SECONDARY",
                 "ResourceRecords": [{"Value": "ingest-usw2.example.com"}]})
        return (f"    mode: failover\n    primary_set_identifier: use1\n    dr_set_identifier: usw2\n"
                f"    primary_health_check_id: {hc}\n")
    assert mode == "weighted"
    _change(zone, {"Name": NAME, "Type": "CNAME", "TTL": 30, "SetIdentifier": "use1", "Weight": 90,
                   "ResourceRecords": [{"Value": "ingest-use1.example.com"}]},
            {"Name": NAME, "Type": "CNAME", "TTL": 30, "SetIdentifier": "usw2", "Weight": 10,
             "ResourceRecords": [{"Value": "ingest-usw2.example.com"}]})
    return ("    mode: weighted\n    primary_set_identifier: use1\n    dr_set_identifier: usw2\n"
            "    primary_weight: 90\n    dr_weight: 10\n")


def _env(tmp_path, s: dict, route53: str) -> str:
    text = environment_yaml(s)
    head, _, rest = text.partition("  route53:\n")
    rest = rest[rest.index("  public_url:"):]
    path = tmp_path / "aws.yaml"
    path.write_text(f"{head}  route53:\n    hosted_zone_id: {s['zone_id']}\n    name: {NAME}\n{route53}{rest}")
    return str(path)


def _records(zone: str) -> list[dict]:
    sets = boto3.client("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return sorted((rs for rs in sets if rs["Name"].rstrip(".") == NAME), key=lambda rs: rs.get("SetIdentifier", ""))


def _inverted() -> list[bool]:
    return [h["HealthCheckConfig"]["Inverted"] for h in boto3.client("route53").list_health_checks()["HealthChecks"]]


def _on_dr(mode: str, zone: str) -> None:
    """What 'pointing at the DR region' is in Route 53 for each mode."""
    recs = _records(zone)
    if mode == "simple":
        assert [r["ResourceRecords"][0]["Value"] for r in recs] == ["ingest-usw2.example.com"]
    elif mode == "alias":
        (rec,) = recs
        assert rec["AliasTarget"]["DNSName"].rstrip(".") == ALB["dr"][0] and "ResourceRecords" not in rec
        assert rec["AliasTarget"]["HostedZoneId"] == ALB["dr"][1] and rec["Type"] == "A"
    elif mode == "failover":
        assert _inverted() == [True]
        assert [(r["SetIdentifier"], r["Failover"]) for r in recs] == [("use1", "PRIMARY"), ("usw2", "SECONDARY")]
    else:
        assert {r["SetIdentifier"]: r["Weight"] for r in recs} == {"use1": 0, "usw2": 90}


@pytest.mark.parametrize("mode", ["simple", "alias", "failover", "weighted"])
def test_each_dns_mode_switches_reports_and_is_put_back_exactly(moto, tmp_path, mode, iam_calls):
    s = seed()
    env = load_environment(_env(tmp_path, s, _seed_mode(mode, s["zone_id"])))
    before, inverted_before = _records(s["zone_id"]), _inverted()
    plan = AwsTarget(env, plan_only=True)
    plan.switch_dns("us-west-2")
    assert _records(s["zone_id"]) == before and _inverted() == inverted_before, "a plan changes nothing"
    planned = plan.actions.calls[-1]
    if mode == "alias":  # the plan shows the alias target, never a value an A record could not hold
        assert planned["params"]["AliasTarget"]["DNSName"] == ALB["dr"][0] and "value" not in planned["params"]
    t = AwsTarget(env)
    assert t.status().dns_region == "us-east-1"
    out = t.switch_dns("us-west-2")
    assert out["mode"] == mode and [c["api"] for c in t.actions.calls] == [c["api"] for c in plan.actions.calls]
    _on_dr(mode, s["zone_id"])
    t2 = AwsTarget(env)  # another process (recover) reads it the same way
    assert t2.status().dns_region == "us-west-2"
    t2.switch_dns("us-east-1")
    assert _records(s["zone_id"]) == before and _inverted() == inverted_before
    assert t2.status().dns_region == "us-east-1"
    sent = set().union(*(calls for _, calls in iam_calls))  # what the iam-policy check after the test covers
    change = {"failover": "route53:UpdateHealthCheck"}.get(mode, "route53:ChangeResourceRecordSets")
    assert {change, "sts:GetCallerIdentity", "route53:ListResourceRecordSets"} <= sent


def test_an_upsert_of_a_failover_pair_never_creates_a_plain_record(moto, tmp_path):
    """The failover switch leaves the pair as it is: no third record, no record without SetIdentifier."""
    s = seed()
    env = load_environment(_env(tmp_path, s, _seed_mode("failover", s["zone_id"])))
    AwsTarget(env).switch_dns("us-west-2")
    assert all(r.get("SetIdentifier") for r in _records(s["zone_id"])) and len(_records(s["zone_id"])) == 2


def test_a_failover_record_without_the_named_health_check_is_refused_before_any_change(moto, tmp_path):
    s = seed()
    route53 = _seed_mode("failover", s["zone_id"]).replace("primary_health_check_id: ", "primary_health_check_id: x")
    t = AwsTarget(load_environment(_env(tmp_path, s, route53)))
    with pytest.raises(ConfigError, match="not a PRIMARY failover record"):
        t.switch_dns("us-west-2")
    assert _inverted() == [False]


def test_a_mode_without_its_fields_is_a_config_error_naming_them(moto, tmp_path):
    s = seed()
    with pytest.raises(ConfigError, match="primary_alias, dr_alias"):
        load_environment(_env(tmp_path, s, "    mode: alias\n    type: A\n"))


def test_arc_routing_controls_are_switched_in_one_call_and_read_back(moto, tmp_path, httpserver):
    """moto does not model Route 53 ARC: a recording stub (ARC's JSON protocol) keeps the controls' states; the
    test checks the requests gameday sends and that status reads the states back."""
    from werkzeug import Response

    s = seed()
    p, d = ("arn:aws:route53-recovery-control::123456789012:controlpanel/cp/routingcontrol/" + x for x in ("use1", "usw2"))
    state, sent = {p: "On", d: "Off"}, []

    def answer(request):
        op, body = request.headers["X-Amz-Target"].split(".")[-1], request.get_json(force=True)
        sent.append((op, body))
        if op == "UpdateRoutingControlStates":
            state.update({e["RoutingControlArn"]: e["RoutingControlState"] for e in body["UpdateRoutingControlStateEntries"]})
            return Response("{}", content_type="application/x-amz-json-1.0")
        arn = body["RoutingControlArn"]
        return Response(json.dumps({"RoutingControlArn": arn, "RoutingControlState": state[arn]}),
                        content_type="application/x-amz-json-1.0")

    httpserver.expect_request("/", method="POST").respond_with_handler(answer)
    route53 = (f"    mode: arc_routing_control\n    arc:\n      cluster_endpoints:\n"
               f"        - {{endpoint: 'http://127.0.0.1:9', region: us-west-2}}\n"  # down: the next one is tried
               f"        - {{endpoint: '{httpserver.url_for('').rstrip('/')}', region: us-east-1}}\n"
               f"      primary_control_arn: {p}\n      dr_control_arn: {d}\n")
    before = _records(s["zone_id"])
    t = AwsTarget(load_environment(_env(tmp_path, s, route53)))
    assert t.status().dns_region == "us-east-1"
    t.switch_dns("us-west-2")
    updates = [b for op, b in sent if op == "UpdateRoutingControlStates"]
    assert updates == [{"UpdateRoutingControlStateEntries": [{"RoutingControlArn": d, "RoutingControlState": "On"},
                                                             {"RoutingControlArn": p, "RoutingControlState": "Off"}]}]
    assert t.status().dns_region == "us-west-2"
    t.switch_dns("us-east-1")
    assert state == {p: "On", d: "Off"} and t.status().dns_region == "us-east-1"
    assert _records(s["zone_id"]) == before, "ARC mode touches no record"


def test_the_failover_pair_can_be_switched_by_editing_the_records(moto, tmp_path, iam_calls):
    """``failover_switch: records``: the two records swap PRIMARY and SECONDARY in one change (each keeps its value,
    TTL and health check), the health check is left alone; status reads it; the inverse puts the pair back."""
    s = seed()
    env = load_environment(_env(tmp_path, s, _seed_mode("failover", s["zone_id"]) + "    failover_switch: records\n"))
    before = _records(s["zone_id"])
    plan = AwsTarget(env, plan_only=True)
    plan.switch_dns("us-west-2")
    assert _records(s["zone_id"]) == before
    assert plan.actions.calls[-1]["params"]["failover"] == {"use1": "SECONDARY", "usw2": "PRIMARY"}
    t = AwsTarget(env)
    out = t.switch_dns("us-west-2")
    assert out["switch"] == "records" and out["primary_record"] == "usw2"
    recs = _records(s["zone_id"])
    assert [(r["SetIdentifier"], r["Failover"], r["ResourceRecords"][0]["Value"], r.get("HealthCheckId")) for r in recs] == [
        ("use1", "SECONDARY", "ingest-use1.example.com", before[0]["HealthCheckId"]),
        ("usw2", "PRIMARY", "ingest-usw2.example.com", None)]
    assert _inverted() == [False], "the health check is not touched"
    assert AwsTarget(env).status().dns_region == "us-west-2"
    assert t.switch_dns("us-west-2")["changed"] is False and _records(s["zone_id"]) == recs  # run again: no swap back
    t.switch_dns("us-east-1")
    assert _records(s["zone_id"]) == before and t.status().dns_region == "us-east-1"
    sent = set().union(*(calls for _, calls in iam_calls))
    assert "route53:ChangeResourceRecordSets" in sent and "route53:UpdateHealthCheck" not in sent

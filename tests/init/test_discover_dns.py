"""Which Route 53 record points at the regions, and in which mode: a pure function of the listed record sets.
What the records cannot say (the value a simple record switches to) is a TODO, never a guess."""

from __future__ import annotations

from gameday.discover.dns import classify

P, DR = "us-east-1", "us-west-2"
ELB = {P: "ingest-1.us-east-1.elb.amazonaws.com", DR: "ingest-2.us-west-2.elb.amazonaws.com"}


def _one(sets):
    found = classify(sets, P, DR, "src")
    assert len(found) == 1, found
    return found[0], {k: (f.value, f.todo) for k, f in found[0].fields.items()}


def test_a_simple_record_gives_its_value_and_leaves_the_dr_value_to_decide():
    c, f = _one([{"Name": "ingest.example.com.", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": ELB[P]}]},
                 {"Name": "grafana.example.com.", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "g.internal"}]}])
    assert (c.name, c.mode, c.regions) == ("ingest.example.com", "simple", {P})
    assert f["primary_value"] == (ELB[P], None) and f["ttl"] == (60, None)
    assert f["dr_value"][0] is None and "Route 53 shows only the current value" in f["dr_value"][1]


def test_a_record_pointing_at_the_dr_region_now_leaves_the_primary_value_to_decide():
    c, f = _one([{"Name": "ingest.example.com.", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": ELB[DR]}]}])
    assert f["dr_value"] == (ELB[DR], None) and f["primary_value"][0] is None
    assert "points at us-west-2 now" in f["primary_value"][1]


def test_an_alias_record_gives_its_target():
    c, f = _one([{"Name": "ingest.example.com.", "Type": "A", "AliasTarget": {
        "HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": f"dualstack.{ELB[P]}.", "EvaluateTargetHealth": True}}])
    assert c.mode == "alias"
    assert f["primary_alias"][0] == {"dns_name": f"dualstack.{ELB[P]}", "hosted_zone_id": "Z35SXDOTRQ7X7K",
                                     "evaluate_target_health": True}
    assert f["dr_alias"][0] is None and f["dr_alias"][1]


def test_weighted_records_are_told_apart_by_the_region_their_values_name():
    c, f = _one([{"Name": "ingest.example.com.", "Type": "CNAME", "TTL": 60, "SetIdentifier": "b", "Weight": 0,
                  "ResourceRecords": [{"Value": ELB[DR]}]},
                 {"Name": "ingest.example.com.", "Type": "CNAME", "TTL": 60, "SetIdentifier": "a", "Weight": 100,
                  "ResourceRecords": [{"Value": ELB[P]}]}])
    assert c.mode == "weighted" and c.regions == {P, DR}
    assert f["primary_set_identifier"] == ("a", None) and f["dr_set_identifier"] == ("b", None)
    assert f["primary_weight"] == (100, None) and f["dr_weight"] == (0, None)


def test_weighted_records_whose_values_name_no_region_are_a_todo():
    c, f = _one([{"Name": "ingest.example.com.", "Type": "CNAME", "TTL": 60, "SetIdentifier": s, "Weight": w,
                  "ResourceRecords": [{"Value": f"{s}.example.net"}]} for s, w in (("a", 100), ("b", 0))])
    assert c.mode == "weighted" and f["primary_set_identifier"][0] is None and "do not say" in f["primary_set_identifier"][1]


def test_a_failover_pair_without_a_health_check_is_a_todo_and_latency_records_are_no_mode_gameday_switches():
    c, f = _one([{"Name": "ingest.example.com.", "Type": "CNAME", "TTL": 60, "SetIdentifier": s, "Failover": role,
                  "ResourceRecords": [{"Value": ELB[r]}]} for s, role, r in (("p", "PRIMARY", P), ("s", "SECONDARY", DR))])
    assert c.mode == "failover" and f["primary_set_identifier"] == ("p", None)
    assert f["primary_health_check_id"][0] is None and "health check" in f["primary_health_check_id"][1]
    c, _ = _one([{"Name": "ingest.example.com.", "Type": "A", "SetIdentifier": r, "Region": r, "TTL": 60,
                  "ResourceRecords": [{"Value": "192.0.2.1"}]} for r in (P, DR)])
    assert c.mode == "latency"

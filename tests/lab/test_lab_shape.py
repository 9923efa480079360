"""The lab as started: its shape, its public endpoint, the ingest contract."""

from __future__ import annotations

import json
import uuid

from labkit import count_trips, dsn_of, post, post_events, present


def test_status_shows_primary_sync_standby_dr_replica_and_three_zones(lab):
    st = lab.status()
    dbs = {p["configured_role"]: p for p in st["processes"] if p["kind"] == "db"}
    assert dbs["primary"]["role"] == "primary" and dbs["primary"]["zone"] == "us-east-1a"
    assert dbs["sync-standby"]["role"] == "standby" and dbs["sync-standby"]["zone"] == "us-east-1b"
    assert dbs["dr-replica"]["role"] == "standby" and dbs["dr-replica"]["region"] == "us-west-2"
    repl = {r["standby"]: r for r in st["replication"]}
    assert repl["db-us-east-1b"]["sync_state"] == "sync" and repl["db-us-east-1b"]["state"] == "streaming"
    assert repl["db-us-west-2a"]["sync_state"] == "async"
    nodes = [p for p in st["processes"] if p["kind"] == "node"]
    primary_zones = {n["zone"] for n in nodes if n["region"] == "us-east-1"}
    assert primary_zones == {"us-east-1a", "us-east-1b", "us-east-1c"}
    for z in primary_zones:
        in_zone = [n for n in nodes if n["zone"] == z]
        assert len(in_zone) >= 2 and any(n["capacity_type"] == "spot" for n in in_zone)
    assert [n for n in nodes if n["region"] == "us-west-2"], "a warm node in the DR region"
    assert all(n["health"] == "healthy" and n["pid"] for n in nodes)
    assert st["public_endpoint"].startswith("http://127.0.0.1:")


def test_ingest_acks_after_commit_and_is_idempotent(lab):
    st = lab.status()
    ids = [uuid.uuid4().hex for _ in range(100)]
    assert post_events(lab.public_endpoint, ids) == 202
    assert present(dsn_of(st), ids) == set(ids)
    # the sync standby has them too: 202 means committed on the Multi-AZ pair
    assert present(dsn_of(st, "standby", "us-east-1"), ids) == set(ids)
    before = count_trips(dsn_of(st))
    status, body = post(lab.public_endpoint, json.dumps({"events": [
        {"event_id": i, "trip_id": "t", "kind": "end", "ts": 1.0, "lat": 0, "lon": 0} for i in ids[:10]]}).encode())
    assert status == 202 and body["stored"] == 0
    assert count_trips(dsn_of(st)) == before


def test_bad_payloads_get_400_with_a_message_and_write_nothing(lab):
    dsn = dsn_of(lab.status())
    before = count_trips(dsn)
    good = {"event_id": uuid.uuid4().hex, "trip_id": "t", "kind": "start", "ts": 1.0, "lat": 1.0, "lon": 2.0}
    cases = {
        b"{not json": "malformed JSON",
        b"[]": "Input should be an object",
        json.dumps({"events": []}).encode(): "events",
        json.dumps({"events": [good, {**good, "event_id": "x2", "lat": 123}]}).encode(): "events[1].lat",
        json.dumps({"events": [{**good, "kind": "teleport"}]}).encode(): "events[0].kind",
        json.dumps({"events": [{k: v for k, v in good.items() if k != "event_id"}]}).encode(): "events[0].event_id",
    }
    for body, where in cases.items():
        status, answer = post(lab.public_endpoint, body)
        assert status == 400, body
        assert where in answer["error"], (body, answer)
    assert count_trips(dsn) == before, "a rejected batch must write nothing (not even its valid events)"


def test_metrics_are_prometheus_text_with_request_counts(lab):
    import urllib.request

    post_events(lab.public_endpoint, [uuid.uuid4().hex])
    node = next(p for p in lab.status()["processes"] if p["kind"] == "node")
    text = urllib.request.urlopen(f"http://127.0.0.1:{node['port']}/metrics", timeout=3).read().decode()
    assert "gameday_ingest_requests_total" in text
    assert "gameday_ingest_request_seconds_bucket" in text
    assert f'node="{node["name"]}"' in text

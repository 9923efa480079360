"""The lab's cache tier (an ElastiCache replication group on Valkey): the primary killed under writes through
the primary endpoint, the sentinels promote the replica in zone b, the endpoint follows; the acknowledged
writes the new primary lacks are counted by this test on its own and checked against the figures gameday
reports; the cache-failover drill measures cache RTO and RPO and passes; restore brings the group back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import valkey
import yaml

from conftest import ROOT
from gameday.drill.cache import CacheWatch, finish_watch, hb_key
from gameday.drill.models import load_drill
from gameday.drill.runner import run_drill
from gameday.journal import Journal, read_journal
from gameday.judge.cache import cache_measure
from gameday.targets.local import LocalTarget
from labkit import in_shape, passed_but_for_the_clock

pytestmark = pytest.mark.lab


def _cache(st: dict, role: str) -> dict:
    nodes = [p for p in st["processes"] if p["kind"] == "cache" and p["role"] == role and p["region"] == "us-east-1"]
    assert len(nodes) == 1, f"expected one cache {role}, got {nodes}"
    return nodes[0]


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.05)


def test_primary_killed_under_writes_the_endpoint_follows_and_lost_writes_are_counted(restored_lab, tmp_path):
    lab = restored_lab
    st = lab.status()
    assert _cache(st, "primary")["zone"] == "us-east-1a" and _cache(st, "replica")["link"] == "up"
    url = st["cache"]["primary_endpoint"]
    j = Journal(tmp_path / "journal.jsonl", fsync=False)
    watch = CacheWatch(url=url, run_id="t-cache", journal=j, probe_interval_s=0.05, probe_timeout_s=0.5,
                       heartbeat_interval_s=0.002, max_s=60)
    watch.start()
    try:
        time.sleep(1.0)
        t0 = lab.op("fail_cache_primary")["t_applied"]
        _wait(lambda: lab.status()["cache"]["elected"] == "cache-us-east-1b", 20, "the sentinels elect zone b")
        time.sleep(1.0)  # writes go on through the endpoint, now to the new primary
    finally:
        finish_watch(watch, j, reconcile=True)
    events = read_journal(j.path)
    figures = cache_measure(events, t0, 5, t0 + 2.0)
    assert figures is not None and figures["probes_failed"] > 0, "the kill must be felt through the endpoint"
    assert figures["rto_s"] is not None and figures["rto_s"] > 0
    # This test's own count: every acknowledged heartbeat asked of the new primary's own port, not the endpoint.
    acked = {int(e.value["seq"]): e.value["ts"] for e in events if e.kind == "cache.ack"}
    new = _cache(lab.status(), "primary")
    assert new["zone"] == "us-east-1b"
    with valkey.Valkey(port=new["port"], decode_responses=True) as c:
        missing = [s for s in acked if c.get(hb_key("t-cache", s)) is None]
    assert figures["lost_writes"] == len(missing)
    assert all(acked[s] <= t0 for s in missing), "only writes acknowledged by the old primary can be lost"
    assert sum(1 for ts in acked.values() if ts > t0) > 10, "writes were acknowledged by the new primary"


def test_the_ingest_api_answers_a_request_sent_again_with_its_idempotency_key_from_the_cache(restored_lab):
    import json
    import urllib.request

    url = restored_lab.status()["public_endpoint"] + "/v1/trips"
    key = f"k-{time.time_ns()}"
    body = json.dumps({"events": [{"event_id": f"idem-{time.time_ns()}", "trip_id": "t-1", "kind": "start",
                                   "ts": time.time(), "lat": 1.0, "lon": 2.0}]}).encode()
    answers = []
    for _ in range(2):
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
        with urllib.request.urlopen(req, timeout=5) as r:
            answers.append((r.status, json.loads(r.read())))
    assert answers[0][0] == answers[1][0] == 202 and answers[0][1]["stored"] == 1
    assert answers[1][1].get("replayed") is True and "replayed" not in answers[0][1]
    primary = _cache(restored_lab.status(), "primary")
    with valkey.Valkey(port=primary["port"], decode_responses=True) as c:
        assert json.loads(c.get(f"idem:{key}"))["stored"] == 1, "the key and its answer are in the cache"


def test_cache_failover_drill_passes_with_cache_rto_and_rpo_measured(restored_lab, tmp_path):
    data = yaml.safe_load((ROOT / "drills" / "cache-failover.yaml").read_text())
    data.update({"environment": str(ROOT / "environments" / "local.yaml"),
                 "runbook": str(ROOT / "runbooks" / "cache-failover.yaml"), "warmup_s": 1.5, "cooldown_s": 2})
    path = tmp_path / "cache-failover.yaml"
    path.write_text(yaml.safe_dump(data))
    loaded = load_drill(path)
    report = run_drill(loaded, LocalTarget(loaded.environment, state_dir=restored_lab.root), tmp_path / "out")
    cache = report["cache"]
    passed_but_for_the_clock(report)
    assert cache["rto_s"] is not None and cache["probes_failed"] > 0 and cache["lost_writes"] is not None
    assert {t["name"] for t in report["targets"]} >= {"cache_rto", "cache_rpo", "cache_lost_writes"}
    events = read_journal(Path(tmp_path / "out" / "journal.jsonl"))
    acked = {int(e.value["seq"]) for e in events if e.kind == "cache.ack"}
    present = next(e for e in events if e.kind == "cache.reconcile").value["present"]
    assert cache["lost_writes"] == sum(1 for s in acked if not any(a <= s <= b for a, b in present))
    _wait(lambda: in_shape(restored_lab.status()), 20, "the drill's undo brings the group back to its shape")

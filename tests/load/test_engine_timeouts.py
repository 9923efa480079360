"""The engine's timeouts without a timer per request (a watchdog checks each exchange's deadline): against a
loopback service that answers 1.5 s late, a 0.5 s timeout makes every request indeterminate, counted as a
timeout (the service's, not the generator's), named as before."""

from __future__ import annotations

import pytest
from test_gate_verdicts import STEADY, _noop

from conftest import ROOT
from gameday.lab.ingest_api import LAB_SERVICE
from gameday.load.run import LoadRun
from gameday.load.slo import parse_slo
from gameday.load.tail import iter_progress
from gameday.service.resolved import Service


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_requests_past_their_deadline_are_timeouts(tmp_path):
    with _noop(delay_ms=1500) as host:
        run = LoadRun(profile=ROOT / STEADY, host=host, out_dir=tmp_path, rate=20, duration=2, timeout_s=0.5,
                      service=Service.resolve(LAB_SERVICE, url=host))
        s = run.execute()
    assert s["requests_sent"] >= 30 and s["events_acked"] == 0
    assert s["indeterminate"] == s["requests_sent"] and s["failed_by"]["timeouts"] == s["requests_sent"]
    assert s["failure_reasons"][0]["reason"] == "write: TimeoutError: timed out", s["failure_reasons"]
    assert s["verdict"] == "fail" and s["reasons"][0].startswith("nothing acknowledged")


def test_after_a_hard_limit_aborts_the_queued_arrivals_are_not_sent(tmp_path):
    """Two connections to a service answering in 0.3 s carry 6.7 writes/s of the 50 asked: a queue grows. The
    hard limit aborts the run after its grace; what was queued then is never sent (the run ends now, not
    after sending a queue into a service already judged), and the run stops in seconds of its own clock."""
    with _noop(delay_ms=300) as host:
        run = LoadRun(profile=ROOT / STEADY, host=host, out_dir=tmp_path, rate=50, duration=30, timeout_s=2,
                      max_connections=2, hard_limits=[parse_slo("p95<100ms", option="--hard-limit")], grace_s=1,
                      service=Service.resolve(LAB_SERVICE, url=host))
        s = run.execute()
    assert s["verdict"] == "fail" and any("aborted early: hard limit p95<100ms" in r for r in s["reasons"])
    ticks = [r["t"] for r in iter_progress(tmp_path / "progress.jsonl") if "t" in r]
    assert max(ticks) < 8, ticks
    assert s["requests_sent"] <= 2 / 0.3 * (max(ticks) + 1), "the connections' pace, not the queue's size"

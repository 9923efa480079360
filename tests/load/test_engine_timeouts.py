"""The engine's timeouts without a timer per request (a watchdog checks each exchange's deadline): against a
loopback service that answers 1.5 s late, a 0.5 s timeout makes every request indeterminate, counted as a
timeout (the service's, not the generator's), named as before."""

from __future__ import annotations

import pytest
from test_gate_verdicts import STEADY, _noop

from conftest import ROOT
from gameday.lab.ingest_api import LAB_SERVICE
from gameday.load.run import LoadRun
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

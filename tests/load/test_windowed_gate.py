"""A gate with a windowed SLO against a loopback service that slows down after a while
(``tests/services/drifting_service.py``, no lab): FAIL, the reason naming the window that breached; the first
window, while the service was fast, held; ``gameday report`` on the journal says the same."""

from __future__ import annotations

import pytest
from test_gate_verdicts import STEADY, _gate, _server

from conftest import ROOT
from gameday.journal import read_journal
from gameday.load.gate import summary_from_journal

DRIFTING = str(ROOT / "tests" / "services" / "drifting_service.py")


@pytest.fixture(autouse=True)
def _in_checkout(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_a_service_that_slows_down_after_a_while_fails_naming_the_window(tmp_path):
    with _server(DRIFTING, "--slow-after", "3", "--slow-ms", "300") as host:
        code, s = _gate(tmp_path, STEADY, host, "--rate", "40", "--duration", "6", "--slo", "p99<150ms over 2s")
    assert code == 1 and s["verdict"] == "fail", s["reasons"]
    windowed = next(x for x in s["slos"] if x["expr"] == "p99<150ms over 2s")
    assert not windowed["ok"] and windowed["over_s"] == 2
    breached = [(b["from_s"], b["to_s"]) for b in windowed["breached_windows"]]
    assert breached and breached[0][0] >= 2, "the first window, while the service was fast, held"
    assert all(b["observed"] >= 300 for b in windowed["breached_windows"])
    first = f"in the window {breached[0][0]}-{breached[0][1]} s"
    assert any(r.startswith("SLO breached: p99<150ms over 2s") and first in r for r in s["reasons"]), s["reasons"]
    events = read_journal(tmp_path / "journal.jsonl")
    assert summary_from_journal(events)["slos"] == s["slos"], "the journal alone gives the same windows"


STEP = str(ROOT / "loadprofiles" / "ingest_step.py")


def test_a_step_gate_fails_on_a_lower_stair_the_service_slowed_though_the_last_stair_held(tmp_path):
    """4 stairs of 1 s; the service answers 300 ms late only while stair 2 runs: before per-stair verdicts the
    gate judged the last stair alone and passed."""
    with _server(DRIFTING, "--slow-after", "1.1", "--slow-until", "1.9", "--slow-ms", "300") as host:
        code, s = _gate(tmp_path, STEP, host, "--rate", "80", "--duration", "4", "--slo", "p95<150ms")
    assert [r["verdict"] for r in s["stairs"]] == ["pass", "fail", "pass", "pass"], s["stairs"]
    assert code == 1 and s["verdict"] == "fail", s["reasons"]
    assert s["reasons"][0].startswith("stair 2 of 4 (40 events/s, 1-2 s) was FAIL: SLO breached: p95<150ms")
    assert all(x["ok"] for x in s["slos"]), "the last stair (the steady window) held"
    assert summary_from_journal(read_journal(tmp_path / "journal.jsonl"))["stairs"] == s["stairs"]

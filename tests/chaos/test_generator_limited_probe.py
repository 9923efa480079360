"""The steady-state probe's window of load reads like the gate: the p95 of the window's requests together, and a
latency breach the generator itself could have made (its starts late on a starved machine) is INCONCLUSIVE,
not FAIL; one beyond anything the generator could add, or any failed request, is still the service's."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctkkit import ctk_journal
from gameday.chaos.verdict import chaos_summary
from gameday.journal import Journal, read_journal
from gameday.load.recent import service_breach, window_of
from gameday.load.window import new_histogram


def _second(latencies_ms: list[float], *, late: int = 0, delay_s: float | None = 0.0, errors: int = 0) -> dict:
    h = new_histogram()
    for ms in latencies_ms:
        h.record_value(int(ms * 1000))
    n = len(latencies_ms)
    rec = {"worker": 0, "t": 1.0, "sent": n + errors, "errors": errors, "indeterminate": 0, "late": late,
           "dropped": 0, "cpu_percent": 20.0, "acked_requests": n,
           "p95_ms": h.get_value_at_percentile(95) / 1000, "max_ms": max(latencies_ms, default=None),
           "hist": h.encode().decode()}
    if delay_s is not None:
        rec["max_start_delay_s"] = delay_s
    return rec


def test_the_window_p95_is_of_its_requests_together_not_its_worst_second():
    # one second with 6 of 100 requests slowed to 350 ms by a brief stall, one second all fast: 6 of 200 is
    # 3 %, inside a p95; the worst second's own p95 (350 ms) is not the window's
    w = window_of([_second([8.0] * 94 + [350.0] * 6), _second([8.0] * 100)])
    assert w is not None and w["sent"] == 200
    assert w["p95_ms"] < 10
    assert not service_breach(w, 300)


def test_records_without_histograms_keep_the_worst_second():
    recs = [{"sent": 10, "errors": 0, "indeterminate": 0, "p95_ms": p} for p in (5.0, 80.0)]
    w = window_of(recs)
    assert w == {"sent": 20, "error_ratio": 0.0, "p95_ms": 80.0, "limited": None, "added_ms": None}


def test_a_breach_while_the_generator_started_late_may_be_the_generators():
    # the machine stalled the generator: 30 of 100 starts 300 ms late, the p95 reads 320 ms
    late = _second([8.0] * 70 + [320.0] * 30, late=30, delay_s=0.3)
    w = window_of([late, _second([8.0] * 100)])
    assert w["limited"] == "30 starts in one second were over 10 ms late, up to 300 ms; 100 requests answered in it"
    assert w["p95_ms"] > 300 and w["added_ms"] == pytest.approx(610, abs=1)
    assert not service_breach(w, 300)


def test_a_breach_beyond_what_the_generator_could_add_is_the_services():
    # starts at most 40 ms late: 2 x 40 + 10 ms interval = 90 ms at most from the generator; 900 ms is not that
    slow = _second([8.0] * 80 + [900.0] * 20, late=10, delay_s=0.04)
    w = window_of([slow])
    assert w["limited"] is not None and w["added_ms"] == pytest.approx(90, abs=1)
    assert service_breach(w, 300)


def test_late_starts_in_the_second_before_the_window_count_for_the_answers_read_in_it(tmp_path):
    # the generator stalled 700 ms at the end of one second: its late starts are counted in that second, the
    # slow answers in the next ones (a request is counted when answered): the window must look back
    from gameday.load.run import recent_window

    stalled = _second([8.0] * 28, late=74, delay_s=0.716)
    answered = _second([8.0] * 100 + [700.0] * 78, delay_s=0.03)
    recs = [_second([8.0] * 100), stalled, answered, _second([8.0] * 102), _second([8.0] * 101)]
    path = tmp_path / "progress.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    alone = window_of(recs[-3:])
    assert alone["p95_ms"] > 600 and alone["limited"] is None and service_breach(alone, 300), \
        "without the second before, the stall reads as the service's"
    w = recent_window(path, 3)
    assert w["sent"] == 381 and w["p95_ms"] == alone["p95_ms"], "the figures are the window's own"
    assert w["limited"].startswith("74 starts in one second were over 10 ms late, up to 716 ms")
    assert not service_breach(w, 300)


def test_an_older_generator_without_start_delays_leaves_a_limited_breach_uncertain():
    w = window_of([_second([900.0] * 100, late=50, delay_s=None)])
    assert w["added_ms"] is None and not service_breach(w, 300)


@settings(max_examples=200, deadline=None)
@given(service_ms=st.lists(st.floats(1, 300), min_size=20, max_size=200),
       delay_s=st.floats(0.011, 1.0), late_share=st.floats(0.05, 1.0))
def test_no_window_within_the_slo_plus_the_generators_delays_reads_as_the_services_breach(
        service_ms, delay_s, late_share):
    # each request: its service time within the SLO, a start late by up to D and a read late by up to D + I
    n = len(service_ms)
    interval_ms = 1000 / n
    measured = [s + 2 * delay_s * 1000 + interval_ms for s in service_ms]
    w = window_of([_second(measured, late=min(n, int(late_share * n) + 1), delay_s=delay_s)])
    assert not service_breach(w, 300)


def _events(tmp_path, uncertain: str | None):
    j = Journal(tmp_path / "j.jsonl", fsync=False)
    j.record("chaos.start", "control", {"title": "Losing zone b", "run_id": "r1"})
    j.record("fault.applied", "target", {"action": "fail_zone"})
    j.record("probe.measured", "chaos", {"func": "ingest_slo_met", "ok": False, "what": "p95 324 ms (SLO 300)",
                                         **({"uncertain": uncertain} if uncertain else {})})
    j.record("chaos.end", "control", {"status": "completed"})
    j.close()
    return read_journal(tmp_path / "j.jsonl")


def test_a_deviation_only_a_limited_generator_measured_is_inconclusive_and_says_why(tmp_path):
    why = "the generator limited that window (30 starts in one second were over 10 ms late, up to 300 ms)"
    v = chaos_summary(_events(tmp_path, why), ctk_journal(after_met=False, rollback_ok=True))
    assert v["verdict"] == "inconclusive"
    assert "p95 324 ms (SLO 300); " + why in v["reasons"][0]


def test_the_same_deviation_measured_by_an_unlimited_generator_is_fail(tmp_path):
    v = chaos_summary(_events(tmp_path, None), ctk_journal(after_met=False, rollback_ok=True))
    assert v["verdict"] == "fail" and "p95 324 ms (SLO 300))" in v["reasons"][0]


def test_an_uncertain_deviation_beside_a_failed_rollback_is_fail(tmp_path):
    v = chaos_summary(_events(tmp_path, "the generator limited that window"), ctk_journal(after_met=False, rollback_ok=False))
    assert v["verdict"] == "fail"
    assert any("rollback 'restore-zone-b' failed" in r for r in v["reasons"])
    json.dumps(v)


class _Session:
    def __init__(self, progress, journal):
        self.progress, self.journal = progress, journal

    def current_load(self):
        return self


@pytest.mark.parametrize("late, delay_s, errors, ok, uncertain", [
    (0, 0.0, 0, False, False),     # the generator kept time: a slow window is the service's
    (30, 0.3, 0, False, True),     # starts 300 ms late: the 320 ms p95 may be the generator's
    (30, 0.3, 5, False, False),    # failed requests are the service's whatever the generator did
])
def test_the_probe_journals_whether_its_failed_measurement_may_be_the_generators(
        tmp_path, monkeypatch, late, delay_s, errors, ok, uncertain):
    from gameday.chaos import probes

    progress = tmp_path / "progress.jsonl"
    recs = [_second([8.0] * 70 + [320.0] * 30, late=late, delay_s=delay_s, errors=errors), _second([8.0] * 100)]
    progress.write_text("".join(json.dumps(r) + "\n" for r in recs))
    j = Journal(tmp_path / "j.jsonl", fsync=False)
    monkeypatch.setattr(probes, "session_for", lambda configuration: _Session(progress, j))
    assert probes.ingest_slo_met(p95_ms=300, max_error_ratio=0.001, window_s=2) is ok
    j.close()
    [m] = [e.value for e in read_journal(tmp_path / "j.jsonl") if e.kind == "probe.measured"]
    assert m["what"].startswith("p95 3") and ("200 requests" in m["what"] or "205 requests" in m["what"])
    assert ("uncertain" in m) is uncertain


def test_writes_succeed_journals_what_the_service_answered(tmp_path, monkeypatch):
    from gameday.chaos import probes
    from gameday.synthetic import ProbeAnswer

    class _Target:
        def service(self):
            return None

    class _Env:
        time_scale = 1.0

    session = _Session(tmp_path / "none", Journal(tmp_path / "j.jsonl", fsync=False))
    session.target, session.environment = _Target(), _Env()
    monkeypatch.setattr(probes, "session_for", lambda configuration: session)
    refused = ProbeAnswer(ok=False, error="write: HTTP 401", reason='write: HTTP 401: {"message": "invalid token"}')
    monkeypatch.setattr(probes, "_write_then_read", lambda svc: (refused, 0.01))
    assert probes.writes_succeed(n=5, within_s=0) is False
    session.journal.close()
    [m] = [e.value for e in read_journal(tmp_path / "j.jsonl") if e.kind == "probe.measured"]
    assert m == {"func": "writes_succeed", "ok": False,
                 "what": '1 transaction(s) failed, the last: write: HTTP 401: {"message": "invalid token"}'}

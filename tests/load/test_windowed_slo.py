"""Windowed SLOs (``p99<500ms over 5m``): parsed, folded per window as progress arrives, judged from the journal's
``load.window`` events, a breach named by its window. Fast: synthetic progress, no processes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.errors import ConfigError
from gameday.load.run import check_windowed
from gameday.load.slo import parse_slo, with_defaults
from gameday.load.window import new_histogram
from gameday.load.windows import WindowTally, judge_windowed, window_value


def _second(t: int, worker: int, latencies_ms: list[float], errors: int = 0) -> dict:
    h = new_histogram()
    for v in latencies_ms:
        h.record_value(int(v * 1000))
    return {"worker": worker, "t": t + 1.0, "sent": len(latencies_ms) + errors, "errors": errors,
            "indeterminate": 0, "hist": h.encode().decode() if latencies_ms else None}


def _windows(records: list[dict], lengths: set[int]) -> list[dict]:
    tally = WindowTally(lengths)
    out = [w for r in records for w in tally.feed(r)]
    return out + tally.close_all()


def test_windows_parse_in_seconds_minutes_and_hours():
    assert parse_slo("p99<500ms over 5m").over_s == 300
    assert parse_slo("errors<1% over 30s").over_s == 30
    assert parse_slo("max<=2s over 1h").over_s == 3600
    assert parse_slo("p99<500ms").over_s is None


@pytest.mark.parametrize("expr, says", [
    ("achieved>=95% over 5m", "only latency"), ("p99<500ms over 0.5s", "whole number of seconds"),
    ("p99<500ms over 5", "cannot parse"), ("p99<500ms over 5 days", "cannot parse")])
def test_a_window_that_cannot_be_judged_is_refused(expr, says):
    with pytest.raises(ConfigError, match=says):
        parse_slo(expr)


def test_a_windowed_hard_limit_and_a_window_on_a_closed_model_run_are_refused():
    with pytest.raises(ConfigError, match="hard limit"):
        check_windowed("engine", [], [parse_slo("p99<1s over 1m")])
    with pytest.raises(ConfigError, match="plain Locust"):
        check_windowed("closed", [parse_slo("p99<1s over 1m")], [])


def test_a_windowed_errors_slo_keeps_the_gates_whole_run_default():
    exprs = [s.expr for s in with_defaults([parse_slo("errors<5% over 1m")])]
    assert "errors<1%" in exprs and "achieved>=95%" in exprs


def test_a_service_that_slows_down_after_a_while_fails_naming_the_window():
    """Ten fast minutes, then the eleventh is slow: the run's p99 may pass, the 5-minute windows do not."""
    records = [_second(t, w, [20.0] * 50 if t < 600 else [20.0] * 40 + [900.0] * 10)
               for t in range(660) for w in range(2)]
    slo = parse_slo("p99<500ms over 5m")
    r = judge_windowed(slo, _windows(records, {300}))
    assert not r["ok"] and r["windows"] == 3
    assert [(b["from_s"], b["to_s"]) for b in r["breached_windows"]] == [(600, 660)]
    assert "in the window 600-660 s" in r["shown"] and "900." in r["shown"]


def test_every_window_fast_passes_and_says_the_worst():
    records = [_second(t, 0, [10.0 + t % 7] * 20) for t in range(120)]
    r = judge_windowed(parse_slo("p99<100ms over 30s"), _windows(records, {30}))
    assert r["ok"] and r["windows"] == 4 and r["observed"] == pytest.approx(16.0, rel=0.01)
    assert "worst of 4 windows" in r["shown"]


def test_no_window_measured_is_not_a_pass():
    r = judge_windowed(parse_slo("p99<100ms over 30s"), _windows([_second(t, 0, [], errors=5) for t in range(60)],
                                                                 {30}))
    assert not r["ok"] and r["observed"] is None and "not measured" in r["shown"]
    errors = judge_windowed(parse_slo("errors<1% over 30s"), _windows([_second(t, 0, [], errors=5)
                                                                       for t in range(60)], {30}))
    assert not errors["ok"] and errors["observed"] == 1.0


@settings(max_examples=40, deadline=None)
@given(seconds=st.lists(st.lists(st.integers(1, 2000), max_size=8), min_size=1, max_size=40),
       workers=st.integers(1, 3), length=st.integers(1, 9), jitter=st.booleans())
def test_windows_hold_exactly_their_seconds_requests(seconds, workers, length, jitter):
    """Whatever order the workers' seconds arrive in (one a second behind the other), every request lands in the
    window of its second, once: counts and the window's p99 are those of a histogram of that window alone."""
    records = []
    for t, lat in enumerate(seconds):
        for w in range(workers):
            records.append((t + (1 if jitter and w == 1 else 0), _second(t, w, [float(v) for v in lat])))
    windows = _windows([r for _, r in sorted(records, key=lambda x: x[0])], {length})
    assert sum(w["acked_requests"] for w in windows) == workers * sum(len(s) for s in seconds)
    assert len({w["from_s"] for w in windows}) == len(windows), "each window once"
    slo = parse_slo("p99<1000ms over 1s")
    for w in windows:
        direct = new_histogram()
        for t in range(w["from_s"], w["to_s"]):
            for v in seconds[t]:
                for _ in range(workers):
                    direct.record_value(v * 1000)
        assert w["acked_requests"] == direct.get_total_count()
        if direct.get_total_count():
            assert window_value(slo, w) == round(direct.get_value_at_percentile(99) / 1000, 3)

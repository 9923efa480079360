"""The capacity search's and the time-ordering rule's properties (pure, fast): the stairs end, never offer more
than --max-rate, narrow to the resolution around the true knee of any service; a breach that began before the
generator was limited is the service's, one that began with or after it stays uncertain."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.load.capacity import next_rate
from gameday.load.judge import breached_first, limited_at
from gameday.load.slo import parse_slo
from gameday.load.summary import LATE_SHARE, SATURATED_CPU, summarize


@settings(max_examples=300, deadline=None)
@given(start=st.floats(1, 1e5), span=st.floats(1.0, 1e3), knee_at=st.floats(0.01, 2.0),
       factor=st.floats(1.05, 10), resolution=st.floats(0.01, 1))
def test_the_stairs_end_below_max_and_bracket_the_knee_within_the_resolution(start, span, knee_at, factor, resolution):
    """A service that holds every rate up to its knee and fails every rate above it."""
    max_rate, knee = start * span, start * span * knee_at
    tried: list[tuple[float, str]] = []
    while (rate := next_rate(tried, start=start, max_rate=max_rate, factor=factor, resolution=resolution)) is not None:
        assert 0 < rate <= max_rate and rate not in [r for r, _ in tried]
        tried.append((rate, "pass" if rate <= knee else "fail"))
        assert len(tried) < 200
    held = [r for r, v in tried if v == "pass"]
    failed = [r for r, v in tried if v == "fail"]
    if not failed:
        assert max(held) == max_rate, "no failure: climbed to --max-rate"
    elif held:
        assert max(held) <= knee < min(failed) and min(failed) / max(held) <= 1 + resolution + 1e-6
    else:
        assert tried == [(start, "fail")], "the first stair failed: nothing held, nothing more to try"


@given(st.sampled_from(["inconclusive", "aborted"]), st.integers(0, 5))
def test_a_stair_neither_passed_nor_failed_ends_the_search(verdict, passes):
    tried = [(10.0 * 1.5 ** k, "pass") for k in range(passes)] + [(999.0, verdict)]
    assert next_rate(tried, start=10, max_rate=1e6, factor=1.5, resolution=0.1) is None


def _tick(t: float, p95: float, late: int = 0, sent: int = 100) -> dict:
    return {"worker": 0, "t": t, "sent": sent, "late": late, "dropped": 0, "errors": 0, "indeterminate": 0,
            "acked_events": sent, "target_rate": 100.0, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95,
            "cpu_percent": 10.0}


@settings(max_examples=200, deadline=None)
@given(onset=st.integers(1, 20), limited=st.integers(1, 20))
def test_a_breach_is_the_services_only_when_it_began_two_seconds_before_the_generator_was_limited(onset, limited):
    slo = parse_slo("p95<300ms")
    ticks = [_tick(float(t), 500.0 if t >= onset else 50.0, late=50 if t >= limited else 0) for t in range(1, 25)]
    at = limited_at(ticks, late_share=LATE_SHARE, saturated_cpu=SATURATED_CPU)
    assert at == float(limited)
    first = breached_first([slo], [{"ok": False}], ticks, limited_t=at)
    assert (slo.expr in first) == (onset < limited), first


def _part(latencies_ms: list[float], late: int) -> dict:
    from gameday.load.window import new_histogram

    h = new_histogram()
    for v in latencies_ms:
        h.record_value(int(v * 1000))
    n = len(latencies_ms)
    return {"counts": {"sent": n, "acked_events": n, "steady_acked_events": n, "late": late, "errors": 0,
                       "indeterminate": 0, "dropped": 0}, "steady_hist": h.encode().decode(),
            "steady_window_s": [0.0, 10.0], "cpu_percent": [20.0], "max_schedule_lag_s": 0.0,
            "max_connections": 10, "peak_connections": 10}


def test_the_gate_fails_a_latency_breach_that_came_before_the_connection_cap_and_not_one_that_came_with_it():
    slos = [parse_slo("p95<300ms")]
    part = _part([800.0] * 1000, late=400)
    early = [_tick(float(t), 800.0, late=50 if t >= 5 else 0) for t in range(1, 11)]
    together = [_tick(float(t), 800.0, late=50) for t in range(1, 11)]
    s = summarize([part], target_rate=100, duration_s=10, batch=1, slos=slos, ticks=early)
    assert s["verdict"] == "fail" and "before the generator was limited (5 s)" in s["reasons"][0], s["reasons"]
    assert any("the generator limited the test" in r for r in s["reasons"]), "the limit is still named"
    s = summarize([part], target_rate=100, duration_s=10, batch=1, slos=slos, ticks=together)
    assert s["verdict"] == "inconclusive" and any("may explain it" in r for r in s["reasons"])
    assert math.isclose(s["late_ratio"], 0.4)


def _knee(rate: float | None, verdict: str = "pass", first_failing: float | None = 300.0) -> dict:
    return {"capacity_rate": rate, "verdict": verdict, "first_failing": first_failing}


def test_the_bench_says_the_knee_moved_down_only_when_no_knee_rose_and_none_is_missing():
    from gameday.api.capacity_bench import moves_down

    assert moves_down([_knee(900.0), _knee(450.0), _knee(None, "fail", 200.0)])
    assert not moves_down([_knee(900.0), _knee(900.0)]), "a knee that did not move"
    assert not moves_down([_knee(None, "fail", 200.0), _knee(None, "fail", 100.0)]), "nothing held, twice"
    assert not moves_down([_knee(800.0), _knee(870.0)]), "a knee that rose"
    assert not moves_down([_knee(900.0), _knee(None, "inconclusive", None)]), "no knee: the generator limited it"
    assert not moves_down([_knee(None, "fail", 200.0), _knee(300.0)]), "nothing held, then a knee"

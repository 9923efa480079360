"""SLO parsing, percentile resolution and the gate's verdict logic (pure, no Locust)."""

from __future__ import annotations

import pytest
from hdrh.histogram import HdrHistogram

from gameday.errors import ConfigError
from gameday.load.slo import parse_slo
from gameday.load.summary import summarize


@pytest.mark.parametrize("expr, metric, op, threshold", [
    ("p95<300ms", "p95", "<", 300.0), ("p99 < 1s", "p99", "<", 1000.0), ("p99.9<=250000us", "p99.9", "<=", 250.0),
    ("errors<0.1%", "errors", "<", 0.001), ("achieved>=95%", "achieved", ">=", 0.95), ("dropped<=0", "dropped", "<=", 0),
    ("max<2s", "max", "<", 2000.0),
])
def test_slo_expressions_parse(expr, metric, op, threshold):
    s = parse_slo(expr)
    assert (s.metric, s.op) == (metric, op) and s.threshold == pytest.approx(threshold)


@pytest.mark.parametrize("expr, message", [
    ("p95<300", "needs a unit"), ("p95 300ms", "cannot parse"), ("latency<3ms", "cannot parse"),
    ("errors<0.1", "is a percentage"), ("achieved>=120%", "cannot exceed 100"), ("p100<1s", "between 0 and 100"),
    ("dropped<1%", "a count"),
])
def test_bad_slo_expressions_are_config_errors_with_a_message(expr, message):
    with pytest.raises(ConfigError) as info:
        parse_slo(expr)
    assert message in str(info.value) and info.value.exit_code == 2


def _part(latencies_ms: list[float], *, cpu: float = 20.0, lag: float = 0.01, dropped: int = 0, acked: int | None = None,
          errors: int = 0) -> dict:
    h = HdrHistogram(1, 3_600_000_000, 3)
    for v in latencies_ms:
        h.record_value(int(v * 1000))
    n = len(latencies_ms)
    acked = n if acked is None else acked
    counts = {"sent": n, "acked_events": acked, "errors": errors, "indeterminate": 0, "dropped": dropped, "late": 0,
              "steady_acked_events": acked, "steady_sent": n}
    return {"counts": counts, "hist": h.encode().decode(), "steady_hist": h.encode().decode(),
            "steady_window_s": [0.0, 10.0], "max_schedule_lag_s": lag, "cpu_percent": [cpu], "ledger": {}}


def test_percentiles_tell_295_ms_from_305_ms():
    a = summarize([_part([295.0] * 100)], target_rate=10, duration_s=10, batch=1, slos=[parse_slo("p95<300ms")])
    b = summarize([_part([305.0] * 100)], target_rate=10, duration_s=10, batch=1, slos=[parse_slo("p95<300ms")])
    assert abs(a["p95_ms"] - 295) < 1 and abs(b["p95_ms"] - 305) < 1
    assert a["verdict"] == "pass" and b["verdict"] == "fail"


def test_breached_slo_fails_and_is_named():
    s = summarize([_part([10.0] * 95 + [2000.0] * 5, errors=1)], target_rate=10, duration_s=10, batch=1,
                  slos=[parse_slo("p99<1s"), parse_slo("errors<0.1%")])
    assert s["verdict"] == "fail"
    assert [x["ok"] for x in s["slos"]] == [False, False]
    assert any("p99<1s" in r for r in s["reasons"])


@pytest.mark.parametrize("kw, why", [
    ({"cpu": 97.0}, "saturated its CPU"), ({"lag": 0.8}, "fell behind its schedule"), ({"dropped": 3}, "dropped 3"),
])
def test_an_unhealthy_generator_makes_the_gate_inconclusive_even_when_slos_fail(kw, why):
    s = summarize([_part([500.0] * 100, **kw)], target_rate=10, duration_s=10, batch=1, slos=[parse_slo("p95<300ms")])
    assert s["verdict"] == "inconclusive" and any(why in r for r in s["reasons"])


def test_achieved_rate_counts_the_steady_window_only():
    s = summarize([_part([5.0] * 100, acked=90)], target_rate=10, duration_s=20, batch=1,
                  slos=[parse_slo("achieved>=95%")])
    assert s["achieved_rate"] == 9.0 and s["verdict"] == "fail"


def test_missing_worker_results_are_inconclusive():
    s = summarize([_part([5.0] * 10)], target_rate=1, duration_s=10, batch=1, slos=[parse_slo("p95<300ms")],
                  expected_parts=2)
    assert s["verdict"] == "inconclusive"


def test_shapes_publish_rates_not_users():
    from gameday.load.shapes import Ramp, Spike, Steady, Step

    assert Steady(100, 10).rate_at(5) == 100 and Steady(100, 10).rate_at(10) is None
    assert Ramp(100, 10).rate_at(1.5) == pytest.approx(50) and Ramp(100, 10).rate_at(9) == 100
    assert Step(100, 8, steps=4).rate_at(0.1) == 25 and Step(100, 8, steps=4).rate_at(7.9) == 100
    assert Spike(100, 10).rate_at(1) == 20 and Spike(100, 10).rate_at(5) == 100


def test_nothing_acknowledged_is_a_fail_whatever_the_latency_slos_say():
    from gameday.load.slo import parse_slo
    from gameday.load.summary import summarize
    from gameday.load.window import new_histogram

    h = new_histogram()
    for _ in range(100):
        h.record_value(1000)  # 1 ms: every refusal came back fast
    part = {"counts": {"sent": 100, "errors": 100, "acked_events": 0, "steady_sent": 100}, "hist": h.encode().decode(),
            "steady_hist": h.encode().decode(), "steady_window_s": [0.0, 10.0], "max_schedule_lag_s": 0.0,
            "cpu_percent": [5.0]}
    s = summarize([part], target_rate=10, duration_s=10, batch=1, slos=[parse_slo("p95<300ms")])
    assert s["verdict"] == "fail" and s["reasons"][0].startswith("nothing acknowledged")


@pytest.mark.parametrize("late, peak, verdict, words", [
    (40, 20, "inconclusive", "all 20 connections per process (--max-connections) were busy"),
    (40, 7, "inconclusive", "could not keep to its schedule"),
    (3, 20, "fail", "SLO breached: p95<300ms"),
])
def test_a_significant_share_of_late_starts_is_inconclusive_never_fail(late, peak, verdict, words):
    p = _part([2900.0] * 100)
    p["counts"]["late"] = late
    p.update(max_connections=20, peak_connections=peak)
    s = summarize([p], target_rate=10, duration_s=10, batch=1, slos=[parse_slo("p95<300ms")])
    assert s["verdict"] == verdict and any(words in r for r in s["reasons"]), s["reasons"]

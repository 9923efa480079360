"""A latency breach larger than anything the generator could have added is the service's (pure, no processes).

A generator that started some requests late limited the test, and a breach it could have caused stays
INCONCLUSIVE; but a service that answered 300 ms late while the generator's starts were at most 40 ms late breached
a 150 ms SLO on its own: FAIL (a step gate in CI called such a stair INCONCLUSIVE). The bound is 2 x the largest
start delay + one arrival interval (``gameday.load.summary._added_ms``); the property checks that no mix of
service times within the SLO, start delays within D and reads within D + I ever reads past it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.load.judge import beyond_generator
from gameday.load.slo import evaluate, parse_slo
from gameday.load.summary import summarize
from gameday.load.window import new_histogram

P95 = parse_slo("p95<150ms")


def _part(latencies_ms: list[float], *, late: int, delay_s: float | None) -> dict:
    h = new_histogram()
    for v in latencies_ms:
        h.record_value(int(v * 1000))
    n = len(latencies_ms)
    counts = {"sent": n, "acked_events": n, "errors": 0, "indeterminate": 0, "dropped": 0, "late": late,
              "steady_acked_events": n, "steady_sent": n}
    part = {"worker": 0, "share": 1.0, "counts": counts, "steady_hist": h.encode().decode(),
            "steady_window_s": [0.0, 1.0], "max_schedule_lag_s": 0.0, "cpu_percent": [30.0]}
    return part if delay_s is None else {**part, "max_start_delay_s": delay_s}


def _gate(delay_s: float | None) -> dict:
    """40 requests in a second, 10 % of them started late; the service answered in 318 ms."""
    return summarize([_part([318.0] * 40, late=4, delay_s=delay_s)], target_rate=40, duration_s=1, batch=1,
                     slos=[P95])


def test_a_breach_the_late_starts_cannot_explain_fails_naming_the_bound():
    s = _gate(0.040)
    assert s["verdict"] == "fail", s["reasons"]
    assert s["generator"]["added_ms"] == 105  # 2 x 40 ms + 25 ms
    breach = next(r for r in s["reasons"] if r.startswith("SLO breached: p95<150ms"))
    assert "could have added to a request (105 ms" in breach and "the service's breach" in breach
    assert any("started more than 10 ms late" in r for r in s["reasons"]), "the limit is still said"


def test_a_breach_the_late_starts_could_explain_stays_inconclusive():
    s = _gate(0.150)  # 2 x 150 + 25 = 325 ms: 318 ms could all be the generator's
    assert s["verdict"] == "inconclusive", s["reasons"]
    assert any("the generator's limit may explain it" in r for r in s["reasons"])


def test_results_without_start_delays_keep_the_old_rule():
    s = _gate(None)  # a journal from before the engine measured its start delays
    assert s["generator"]["added_ms"] is None and s["verdict"] == "inconclusive"


def _quantile(values: list[float], q: float) -> float:
    h = new_histogram()
    for v in values:
        h.record_value(max(1, int(v * 1000)))
    return h.get_value_at_percentile(q) / 1000


@settings(max_examples=200, deadline=None)
@given(service=st.lists(st.floats(1.0, 150.0), min_size=20, max_size=200),
       delay_ms=st.floats(10.0, 100.0), interval_ms=st.floats(1.0, 100.0), data=st.data())
def test_no_generator_delay_within_the_bound_turns_a_healthy_service_into_a_breach_of_its_own(
        service, delay_ms, interval_ms, data):
    starts = data.draw(st.lists(st.floats(0.0, delay_ms), min_size=len(service), max_size=len(service)))
    reads = data.draw(st.lists(st.floats(0.0, delay_ms + interval_ms), min_size=len(service),
                               max_size=len(service)))
    # the service's own p95 holds (with the histograms' 0.1 % resolution to spare)
    healthy = parse_slo(f"p95<={_quantile(service, 95) * 1.002 + 0.5:.3f}ms")
    measured = [s + d + r for s, d, r in zip(service, starts, reads, strict=True)]
    result = evaluate([healthy], {"p95_ms": _quantile(measured, 95), "percentiles_ms": {"95": _quantile(measured, 95)}})[0]
    assert beyond_generator(healthy, result, 2 * delay_ms + interval_ms) is None, (result, delay_ms, interval_ms)

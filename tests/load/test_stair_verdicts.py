"""A step shape's stairs, each judged by the gate's rules (pure, no processes): a lower stair the service failed
fails the gate even when the last stair (the steady window) held; a stair the generator limited makes a passing
gate INCONCLUSIVE naming that stair; a stair the run never reached has no verdict; the stairs follow the shape."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.journal import Event
from gameday.load.gate import summary_from_journal
from gameday.load.shapes import Step
from gameday.load.window import new_histogram
from gameday.report.junit import gate_cases
from gameday.report.load import load_html

RATE, DURATION, STEPS = 400.0, 8.0, 4
SLOS = [{"expr": "p95<300ms"}, {"expr": "achieved>=95%", "default": True}, {"expr": "errors<1%", "default": True}]


def _stair(k: int, *, latency_ms: float = 20.0, errors: int = 0, cpu: float = 20.0, sent: int | None = None) -> dict:
    lo, hi, rate = Step(rate=RATE, duration=DURATION, steps=STEPS).stairs()[k]
    n = int(rate * (hi - lo)) if sent is None else sent
    h = new_histogram()
    if n - errors:
        h.record_value(int(latency_ms * 1000), n - errors)
    counts = {"sent": n, "acked_events": n - errors, "steady_acked_events": n - errors, "steady_sent": n,
              "errors": errors, "indeterminate": 0, "http_errors": errors, "refused": 0, "timeouts": 0, "late": 0,
              "dropped": 0}
    return {"from_s": lo, "to_s": hi, "rate": rate, "counts": counts, "steady_hist": h.encode().decode(),
            "steady_window_s": [lo, hi], "max_schedule_lag_s": 0.0, "peak_connections": 5,
            "cpu_percent": [cpu, cpu]}


def _journal(stairs: list[dict], *, aborted: str | None = None) -> list[Event]:
    """A one-worker step gate's journal whose result carries these stairs (the last one its steady window)."""
    last = stairs[-1] if stairs[-1]["counts"]["sent"] else next(s for s in reversed(stairs) if s["counts"]["sent"])
    counts = {k: sum(s["counts"][k] for s in stairs) for k in last["counts"]}
    counts["steady_acked_events"], counts["steady_sent"] = (last["counts"][k] for k in ("steady_acked_events",
                                                                                        "steady_sent"))
    part = {"worker": 0, "counts": counts, "steady_hist": last["steady_hist"],
            "steady_window_s": [DURATION * (STEPS - 1) / STEPS, DURATION], "max_schedule_lag_s": 0.0,
            "max_connections": 500, "peak_connections": 5, "cpu_percent": [20.0] * 8, "stairs": stairs}
    start = {"profile": "loadprofiles/ingest_step.py", "host": "http://127.0.0.1:1", "rate": RATE,
             "duration": DURATION, "batch": 1, "workers": 1, "slos": SLOS, "gate": True}
    result = {"kind": "engine", "aborted": aborted, "parts": [part], "locust_said": []}
    return [Event(1, 0, 0.0, "gate.start", "runner", start), Event(2, 1, 9.0, "load.result", "load", result),
            Event(3, 2, 9.0, "gate.end", "runner", {})]


def test_a_lower_stair_the_service_failed_fails_the_gate_though_the_last_stair_held():
    s = summary_from_journal(_journal([_stair(0), _stair(1, latency_ms=450.0), _stair(2), _stair(3)]))
    assert all(x["ok"] for x in s["slos"]), "the last stair alone (the steady window) held every SLO"
    assert s["verdict"] == "fail", s["reasons"]
    assert [r["verdict"] for r in s["stairs"]] == ["pass", "fail", "pass", "pass"]
    assert s["reasons"][0].startswith("stair 2 of 4 (200 events/s, 2-4 s) was FAIL: SLO breached: p95<300ms")
    assert [r["target_rate"] for r in s["stairs"]] == [100.0, 200.0, 300.0, 400.0]
    failed = [c for c in gate_cases(s) if c.failure and c.name.startswith("stair")]
    assert [c.name for c in failed] == ["stair 2 of 4 at 200 events/s"]
    assert "stair 2 of 4 (200 events/s" in load_html(s, [])


def test_every_stair_held_is_pass_with_a_verdict_per_stair():
    s = summary_from_journal(_journal([_stair(k) for k in range(STEPS)]))
    assert s["verdict"] == "pass" and s["reasons"] == []
    assert [(r["stair"], r["verdict"]) for r in s["stairs"]] == [(1, "pass"), (2, "pass"), (3, "pass"), (4, "pass")]
    assert all(r["achieved_ratio"] == 1.0 for r in s["stairs"])


def test_a_stair_with_the_services_errors_fails_on_the_default_slo():
    s = summary_from_journal(_journal([_stair(0, errors=10), _stair(1), _stair(2), _stair(3)]))
    errors = next(x for x in s["slos"] if x["expr"] == "errors<1%")
    assert errors["ok"], "over the whole run (0.5 %), the errors held"
    assert s["verdict"] == "fail"
    assert "errors<1% (default SLO)" in s["reasons"][0] and s["reasons"][0].startswith("stair 1 of 4")


def test_a_stair_the_generator_limited_makes_a_passing_gate_inconclusive_naming_it():
    s = summary_from_journal(_journal([_stair(0), _stair(1), _stair(2, cpu=99.0), _stair(3)]))
    assert s["verdict"] == "inconclusive", s["reasons"]
    assert s["reasons"][0].startswith("stair 3 of 4") and "the generator saturated its CPU" in s["reasons"][0]


def test_stairs_the_run_never_reached_have_no_verdict():
    s = summary_from_journal(_journal([_stair(0), _stair(1, latency_ms=900.0), _stair(2, sent=0), _stair(3, sent=0)],
                                      aborted="hard limit p95<500ms breached for 1 s (grace 0 s)"))
    assert s["verdict"] == "fail"
    assert [r["verdict"] for r in s["stairs"]] == ["pass", "fail", None, None]
    assert s["stairs"][2]["reasons"][0].startswith("not reached")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([20.0, 450.0]), st.sampled_from([0, 30]), st.sampled_from([20.0, 99.0])),
                min_size=STEPS, max_size=STEPS))
def test_the_gate_is_never_better_than_its_worst_stair(params):
    s = summary_from_journal(_journal([_stair(k, latency_ms=ms, errors=e, cpu=c) for k, (ms, e, c) in enumerate(params)]))
    rank = {"pass": 0, "inconclusive": 1, "fail": 2}
    assert rank[s["verdict"]] >= max(rank[r["verdict"]] for r in s["stairs"])
    for r in s["stairs"]:
        if r["verdict"] == "fail":
            assert any(x.startswith(f"stair {r['stair']} of 4") for x in s["reasons"]) or r["stair"] == STEPS


@given(st.integers(1, 10), st.floats(1.0, 600.0), st.floats(1.0, 1e5))
def test_the_stairs_are_the_shapes_own(steps, duration, rate):
    shape = Step(rate=rate, duration=duration, steps=steps)
    stairs = shape.stairs()
    assert len(stairs) == steps and stairs[-1][1] == duration and tuple(stairs[-1][:2]) == shape.steady()
    for lo, hi, r in stairs:
        assert shape.rate_at((lo + hi) / 2) == r

"""The gate's measurement rules as properties (hypothesis, pure, no processes): who a breach points at and the
verdict it makes, the default SLOs, hard limits judged per second, failure reasons that add up, and an observed
figure that is never ``None``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gameday.load.limits import HardLimits
from gameday.load.slo import DEFAULT_SLOS, parse_slo, with_defaults
from gameday.load.summary import summarize
from gameday.load.window import new_histogram
from gameday.reasons import ReasonTally

DEFAULTS = with_defaults([parse_slo("p95<300ms")])


@st.composite
def runs(draw):
    """One generator process's result: how many requests failed, by who they point at, and how healthy it was."""
    sent = draw(st.integers(1, 5000))
    http, refused, timeouts, local = (draw(st.integers(0, sent)) for _ in range(4))
    failed = min(sent, http + refused + timeouts + local)
    http, refused = min(http, failed), min(refused, failed - min(http, failed))
    timeouts = min(timeouts, failed - http - refused)
    acked = sent - failed
    h = new_histogram()
    latency_us = draw(st.integers(1_000, 2_000_000))
    if acked:
        h.record_value(latency_us, acked)
    counts = {"sent": sent, "acked_events": acked, "steady_acked_events": acked, "steady_sent": sent,
              "errors": failed - timeouts, "indeterminate": timeouts, "http_errors": http, "refused": refused,
              "timeouts": timeouts, "late": draw(st.integers(0, sent)), "dropped": draw(st.integers(0, 50))}
    return {"counts": counts, "steady_hist": h.encode().decode(), "steady_window_s": [0.0, 10.0],
            "max_schedule_lag_s": draw(st.sampled_from([0.0, 0.1, 2.0])), "cpu_percent": [draw(st.sampled_from([5.0, 99.0]))],
            "max_connections": 10, "peak_connections": draw(st.sampled_from([3, 10]))}


def _judge(part, *, rate_ratio: float = 1.0, expected: int = 1):
    sent = part["counts"]["sent"]
    return summarize([part], target_rate=sent / 10 * rate_ratio, duration_s=10, batch=1, slos=DEFAULTS,
                     expected_parts=expected)


@settings(max_examples=300, deadline=None)
@given(runs(), st.sampled_from([0.5, 1.0, 3.0]), st.sampled_from([1, 2]))
def test_service_errors_above_the_threshold_are_fail_never_pass_nor_inconclusive(part, rate_ratio, expected):
    s = _judge(part, rate_ratio=rate_ratio, expected=expected)
    c = part["counts"]
    if (c["http_errors"] + c["refused"]) / c["sent"] >= 0.01:  # errors<1%: the service alone breaches it
        assert s["verdict"] == "fail", s["reasons"]
        assert any("errors<1% (default SLO)" in r for r in s["reasons"])


@settings(max_examples=300, deadline=None)
@given(runs(), st.sampled_from([0.5, 1.0, 3.0]), st.sampled_from([1, 2]))
def test_a_breached_slo_is_never_pass_and_inconclusive_always_names_the_generator(part, rate_ratio, expected):
    s = _judge(part, rate_ratio=rate_ratio, expected=expected)
    if not all(x["ok"] for x in s["slos"]):
        assert s["verdict"] != "pass"
    if s["verdict"] == "inconclusive":
        assert any("generator" in r or "steady window" in r for r in s["reasons"]), s["reasons"]
    if s["verdict"] == "pass":
        assert s["reasons"] == [] and all(x["ok"] for x in s["slos"])


@settings(max_examples=200, deadline=None)
@given(runs())
def test_an_observed_figure_is_shown_never_as_none(part):
    s = _judge(part)
    for x in s["slos"]:
        assert x["shown"] and "None" not in x["shown"]
        assert x["observed"] is not None or x["shown"].startswith("not measured")
    errors = next(x for x in s["slos"] if x["expr"] == "errors<1%")
    assert errors["observed"] == round(1 - part["counts"]["acked_events"] / part["counts"]["sent"], 6)


def test_nothing_acknowledged_shows_errors_100_percent():
    part = {"counts": {"sent": 40, "acked_events": 0, "errors": 40, "http_errors": 40}, "steady_hist":
            new_histogram().encode().decode(), "steady_window_s": [0.0, 10.0], "max_schedule_lag_s": 0.0,
            "cpu_percent": [3.0]}
    s = summarize([part], target_rate=4, duration_s=10, batch=1, slos=DEFAULTS,
                  top=[{"reason": "write: HTTP 401: bad token", "count": 40}])
    shown = {x["expr"]: x["shown"] for x in s["slos"]}
    assert shown == {"p95<300ms": "not measured: no request was acknowledged", "achieved>=95%": "0 %",
                     "errors<1%": "100 %"}
    assert s["verdict"] == "fail" and "most often: write: HTTP 401: bad token" in s["reasons"][0]


@given(st.lists(st.sampled_from(["p95<300ms", "errors<0.1%", "achieved>=80%", "late<5%", "dropped<=0"]),
                unique=True), st.booleans())
def test_an_explicit_slo_replaces_its_default_and_a_closed_model_has_no_target_rate_default(exprs, closed):
    slos = with_defaults([parse_slo(e) for e in exprs], closed=closed)
    for d in DEFAULT_SLOS:
        metric = parse_slo(d).metric
        ours = [s for s in slos if s.metric == metric]
        given_ = [e for e in exprs if parse_slo(e).metric == metric]
        if given_:
            assert [s.expr for s in ours] == given_ and not ours[0].default
        elif closed and metric == "achieved":
            assert ours == []
        else:
            assert [(s.expr, s.default) for s in ours] == [(d, True)]


def _records(values: list[dict], worker: int = 0) -> list[dict]:
    return [{"worker": worker, "t": float(t), "sent": 100, "errors": 0, "indeterminate": 0, "late": 0,
             "dropped": 0, "acked_events": 100, "target_rate": 100.0, "p95_ms": 5.0, **v}
            for t, v in enumerate(values, 1)]


BREACH = {"achieved>=90%": {"acked_events": 50}, "late<10%": {"late": 60}, "dropped<10": {"dropped": 4},
          "errors<5%": {"errors": 30}, "p95<300ms": {"p95_ms": 900.0}}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(BREACH)), st.integers(1, 12), st.sampled_from([0.0, 1.0, 3.0, 5.0]))
def test_every_hard_limit_trips_once_breached_past_its_grace_and_never_while_it_holds(expr, seconds, grace):
    bad = HardLimits([parse_slo(expr)], grace)
    tripped = [t for t, r in enumerate(_records([BREACH[expr]] * seconds), 1) if bad.feed(r)]
    first_breach = 3 if expr == "dropped<10" else 1  # dropped is the run's count so far: 4, 8, 12 ...
    if seconds - first_breach >= grace:
        assert tripped and tripped[0] == first_breach + grace, tripped
    else:
        assert not tripped
    good = HardLimits([parse_slo(expr)], grace)
    assert not any(good.feed(r) for r in _records([{}] * seconds))


@given(st.lists(st.tuples(st.sampled_from(["write: HTTP 503: busy", "write: ConnectionRefusedError: refused"]),
                          st.floats(0, 100), st.integers(1, 50)), max_size=40), st.integers(1, 5))
def test_reasons_carried_through_progress_lines_add_up_to_the_workers_own_tally(adds, every):
    worker, runner = ReasonTally(), ReasonTally()
    for i, (reason, t, n) in enumerate(adds):
        worker.add(reason, t, n)
        if i % every == 0:
            runner.merge(worker.drain())
    runner.merge(worker.drain())
    assert [(v.reason, v.count, v.first, v.last) for v in runner.total()] == \
        [(v.reason, v.count, v.first, v.last) for v in worker.total()]


def test_a_gate_journal_cut_off_before_its_result_reports_aborted_without_none(tmp_path, capsys):
    import pytest

    from gameday.cli import main
    from gameday.journal import Journal, read_journal

    j = Journal(tmp_path / "journal.jsonl", fsync=False)
    j.record("gate.start", "runner", {"profile": "p.py", "host": "http://127.0.0.1:9", "rate": 10.0, "duration": 5.0,
                                      "slos": [{"expr": "errors<1%", "default": True}], "gate": True})
    t0 = read_journal(tmp_path / "journal.jsonl")[0].t_wall  # the report's times count from the gate's start
    j.record("failures", "load", {"source": "load", "reasons": {"write: HTTP 503: busy": {"count": 7, "first": t0 + 1,
                                                                                           "last": t0 + 2}}})
    j.close()
    with pytest.raises(SystemExit) as info:
        main(["report", str(tmp_path / "journal.jsonl")])
    out = capsys.readouterr().out
    assert info.value.code == 4 and "ABORTED" in out and "cut off" in out and "None" not in out
    assert "7 x (1-2 s) write: HTTP 503: busy" in " ".join(out.split()), out

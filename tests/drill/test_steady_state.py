"""No fault on a service that is already failing: after the warm-up the runner checks the steady state the
run will judge (the last N probes ok, the load answered), on the in-memory Target and background; the rule
itself is checked with generated probe streams."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fakekit import _drill, _run
from gameday.drill.fakes import fake_background
from gameday.drill.models import load_drill
from gameday.drill.rehearse import score
from gameday.drill.runner import DrillRun
from gameday.drill.steady import steady_state
from gameday.journal import Event, read_journal
from gameday.report.rehearsal import render_score_md
from gameday.targets.fake import FakeTarget

FAULTS = {"fail_region", "fail_zone", "freeze_zone", "fail_over_db", "interrupt_spot", "delay_link", "inject_latency"}


def _kinds(tmp_path: Path) -> list[str]:
    return [e.kind for e in read_journal(tmp_path / "out" / "journal.jsonl")]


def test_a_service_failing_before_the_fault_gets_no_fault_and_is_inconclusive_naming_its_answer(tmp_path):
    target = FakeTarget()
    target.answer = "write: HTTP 401: invalid token"
    said: list[str] = []
    s = _run(tmp_path, target, on_progress=said.append)
    assert s["verdict"] == "inconclusive"
    assert s["reasons"][0].startswith("not healthy before the fault: write: HTTP 401: invalid token × "), s["reasons"]
    assert not {name for name, _ in target.calls} & FAULTS and target.region_down_at is None, "nothing injected"
    kinds = _kinds(tmp_path)
    assert "steady.failed" in kinds and not {"fault.intent", "fault.applied", "step.start", "reconcile"} & set(kinds)
    assert any(m.startswith("not healthy before the fault: write: HTTP 401") for m in said), "the console says why"
    top = s["failure_reasons"][0]
    assert top["reason"] == "write: HTTP 401: invalid token" and top["count"] > 0 and top["first_s"] < 0
    out = tmp_path / "out"
    assert json.loads((out / "report.json").read_text())["failure_reasons"][0]["reason"] == top["reason"]
    for report in ("report.md", "report.html"):
        assert "invalid token" in (out / report).read_text() and "not healthy before the fault" in (out / report).read_text()


def test_a_healthy_service_passes_the_check_before_its_fault(tmp_path):
    s = _run(tmp_path, FakeTarget(lag_s=0.2))
    kinds = _kinds(tmp_path)
    assert s["verdict"] == "pass" and kinds.index("steady.ok") < kinds.index("fault.intent")


def test_a_service_that_comes_back_during_the_warm_up_is_faulted_once_its_streak_is_complete(tmp_path):
    path = _drill(tmp_path)
    data = yaml.safe_load(path.read_text())
    data.update({"warmup_s": 0.6, "probe": {"interval_s": 0.05, "consecutive": 8, "timeout_s": 1}})
    path.write_text(yaml.safe_dump(data))
    target = FakeTarget(lag_s=0.2)
    target.db_down_until = time.time() + 0.45  # failing for most of the warm-up, ok at its end
    s = _run(tmp_path, target, drill=path)
    events = read_journal(tmp_path / "out" / "journal.jsonl")
    assert s["verdict"] == "pass", s["reasons"]
    probes = [e for e in events if e.kind == "probe" and e.seq < next(x.seq for x in events if x.kind == "steady.ok")]
    assert not probes[0].value["ok"] and all(p.value["ok"] for p in probes[-8:]), "it waited for the full streak"


def test_a_drill_that_does_not_recover_names_what_the_service_answered(tmp_path):
    from fakekit import RUNBOOK

    drill = _drill(tmp_path, runbook=RUNBOOK.split("  - {id: promote")[0], rto_s=30)  # nobody promotes: down
    s = _run(tmp_path, FakeTarget(), drill=drill)
    assert s["verdict"] == "fail" and s["rto_s"] is None
    assert any("did not recover: until +" in d and "write: HTTP 503: service unavailable" in d
               for d in s["diagnosis"]), s["diagnosis"]
    assert "write: HTTP 503: service unavailable" in (tmp_path / "out" / "report.md").read_text()


def test_a_reconciliation_that_cannot_run_names_its_cause_and_what_it_left_unmeasured(tmp_path):
    def refused(*args):
        raise RuntimeError("connection failed: FATAL:  sorry, too many clients already")
    target = FakeTarget(lag_s=0.2)
    s = DrillRun(load_drill(_drill(tmp_path)), target, tmp_path / "out", background=fake_background(target),
                 reconciler=refused).execute()
    assert s["reconcile_failed"]["cause"] == "too many connections"
    assert "rpo" in s["reconcile_failed"]["unmeasured"]
    line = next(d for d in s["diagnosis"] if d.startswith("the reconciliation could not run (too many connections"))
    assert "therefore not measured: rpo" in line and line in (tmp_path / "out" / "report.md").read_text()


def test_a_rehearsal_on_a_failing_lab_is_not_scored_as_one(tmp_path):
    target = FakeTarget()
    target.answer = "write: ClientConnectorError: Cannot connect to host 127.0.0.1:9"
    s = _run(tmp_path, target)
    result = score(read_journal(tmp_path / "out" / "journal.jsonl"), s)
    assert result["incomplete"] and result["fault"] is None
    assert result["not_rehearsed"].startswith("not healthy before the fault: write: ClientConnectorError")
    assert "not rehearsed" in render_score_md(result)


# ---- the rule, over generated warm-ups -----------------------------------------------------------------------
def _events(probes: list[bool], sent: int = 0, failed: int = 0) -> list[Event]:
    out = [Event(i, 0, 100.0 + i * 0.2, "probe", "probe", {"ok": ok, "started": 100.0 + i * 0.2 - 0.01},
                 None if ok else "write: HTTP 503") for i, ok in enumerate(probes)]
    out.append(Event(len(out), 0, 101.0, "load.tick", "load", {"sent": sent, "errors": failed, "indeterminate": 0}))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), max_size=30), st.integers(1, 8), st.integers(0, 500), st.integers(0, 500))
def test_the_steady_state_holds_only_on_a_full_streak_and_an_answered_load(probes, n, sent, failed):
    failed = min(failed, sent)
    s = steady_state(_events(probes, sent, failed), consecutive=n, now=200.0)
    if s.holds:
        assert len(probes) >= n and all(probes[-n:]), "a failure among the last N probes is not steady"
        assert sent > 0 and failed / sent <= 0.01, "a load that sent nothing measured nothing"
    else:
        assert s.summary.startswith("not healthy before the fault: ")
    assert not steady_state(_events([*probes, False], sent, failed), consecutive=n, now=200.0).holds, \
        "a failed last probe is never steady"


def test_a_load_that_had_not_started_by_the_end_of_the_warm_up_is_not_steady():
    s = steady_state(_events([True] * 6, sent=0), consecutive=5, now=200.0)
    assert not s.holds and "the load had not been answered once" in s.summary


def test_a_failing_load_alone_breaks_the_steady_state():
    s = steady_state(_events([True] * 6, sent=300, failed=40), consecutive=5, now=200.0)
    assert not s.holds and "40 of 300 (13%)" in s.summary


def _ticks(failed: list[int], sent: int = 100) -> list[Event]:
    """A warm-up's load ticks, one a second, each ``sent`` requests with the given failures, and 6 ok probes."""
    probes = _events([True] * 6)[:-1]
    return [*probes, *(Event(10 + i, 0, 101.0 + i, "load.tick", "load", {"sent": sent, "errors": f, "indeterminate": 0})
                       for i, f in enumerate(failed))]


def test_a_cold_start_in_the_first_seconds_of_the_warm_up_is_not_the_steady_state():
    """A service whose first requests time out while it opens its pools, then answers every one, is faulted;
    the summary says the whole warm-up's count beside the judged one."""
    s = steady_state(_ticks([11, 0, 0, 0, 0, 0]), consecutive=5, now=200.0)
    assert s.holds and "failed 0 of 300 in the warm-up's last 3 s (11 of 600 in all)" in s.summary, s.summary


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 100), min_size=1, max_size=12))
def test_the_load_is_judged_on_the_later_half_of_the_warm_up(failed):
    s = steady_state(_ticks(failed), consecutive=5, now=200.0)
    late = failed[len(failed) // 2:]  # the ticks at or after the middle of their span
    assert s.holds == (sum(late) <= 0.01 * 100 * len(late)), (failed, s.summary)
    assert steady_state(_ticks([*failed, 0, 0, 0, 0, 0, 100]), consecutive=5, now=200.0).holds is False, \
        "failures in the last second before the fault are never a steady state"

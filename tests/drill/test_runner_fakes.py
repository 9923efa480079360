"""The drill runner, checker, recover and verdict logic on the in-memory Target and background: no process,
no socket, a second or two each. Whatever goes wrong after the first change, the run must still
reconcile when it can, undo every journaled intent, journal drill.end and write its reports."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from fakekit import RUNBOOK, _drill, _run
from gameday.drill.models import load_drill
from gameday.drill.recover import pending_inverses, recover
from gameday.errors import DriverError
from gameday.journal import read_journal
from gameday.targets.fake import FakeTarget
from gameday.verdict import exit_code


def _kinds(tmp_path: Path) -> list[str]:
    return [e.kind for e in read_journal(tmp_path / "out" / "journal.jsonl")]


def _reports_written(tmp_path: Path) -> bool:
    return all((tmp_path / "out" / f).exists() for f in ("report.json", "report.md", "report.html", "junit.xml"))


def test_region_failover_on_the_fake_target_passes_and_is_undone(tmp_path):
    target = FakeTarget(lag_s=0.2)
    s = _run(tmp_path, target)
    assert s["verdict"] == "pass", s["reasons"]
    assert s["rto_s"] is not None and s["rto_s"] < 30
    assert s["events_lost"] > 0 and 0.1 <= s["rpo_s"] <= 0.35  # the last 0.2 s of writes never crossed
    assert target.calls[-1] == ("restore", {})  # the inverse ran last
    assert _kinds(tmp_path).index("fault.intent") < _kinds(tmp_path).index("fault.applied")
    assert _reports_written(tmp_path)


def test_a_driver_error_in_a_runbook_action_fails_the_drill_and_still_cleans_up(tmp_path):
    target = FakeTarget(fail_on={"promote_dr_db": DriverError("PromoteReadReplica: throttled", code="Throttling")})
    s = _run(tmp_path, target)
    assert s["verdict"] == "fail" and exit_code(s["verdict"]) == 1
    assert any("step 'promote' did not complete" in r and "Throttling" in r for r in s["reasons"])
    assert ("restore", {}) in target.calls and pending_inverses(read_journal(tmp_path / "out" / "journal.jsonl")) == []
    assert {"reconcile", "drill.end", "fault.inverse_applied"} <= set(_kinds(tmp_path))
    assert _reports_written(tmp_path)


def test_an_api_that_stops_answering_during_a_wait_fails_the_step_naming_the_error_and_is_cleaned_up(tmp_path):
    target = FakeTarget()
    target.unreachable("status")  # the dr_nodes_healthy wait reads the status: the driver raises there, every time
    s = _run(tmp_path, target)
    assert s["verdict"] in ("fail", "inconclusive") and exit_code(s["verdict"]) in (1, 3)
    scale = next(st for st in s["steps"] if st["id"] == "scale")
    assert not scale["done"] and "last error: status: the API does not answer" in scale["detail"]
    assert ("restore", {}) in target.calls
    assert {"drill.end", "fault.inverse_applied"} <= set(_kinds(tmp_path))
    assert _reports_written(tmp_path)


def test_a_fault_the_driver_refuses_is_inconclusive_and_its_intent_is_still_undone(tmp_path):
    target = FakeTarget(fail_on={"fail_region": DriverError("FIS: no permission", code="AccessDenied")})
    s = _run(tmp_path, target)
    assert s["verdict"] == "inconclusive" and exit_code(s["verdict"]) == 3
    assert "the fault was never applied" in s["reasons"]
    assert ("restore", {}) in target.calls and _reports_written(tmp_path)


def test_a_service_that_never_recovers_within_its_window_fails_naming_the_rto(tmp_path):
    runbook = RUNBOOK.split("  - {id: promote")[0]  # nobody promotes the DR database: ingest stays down
    drill = _drill(tmp_path, runbook=runbook, rto_s=30)  # 0.5 s at the lab's time scale; observed for > 1 s
    s = _run(tmp_path, FakeTarget(), drill=drill)
    assert s["verdict"] == "fail" and s["rto_s"] is None
    assert any(r.startswith("rto target breached: the service did not recover") for r in s["reasons"]), s["reasons"]


def test_sigterm_mid_drill_aborts_after_the_inverse(tmp_path):
    target = FakeTarget()
    threading.Timer(0.6, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()  # lands in the runbook
    runbook = RUNBOOK.replace("kind: manual,", "kind: wait, wait_for: synthetic_recovered, timeout_s: 5,")
    s = _run(tmp_path, target, drill=_drill(tmp_path, runbook=runbook))
    assert s["verdict"] == "aborted" and exit_code(s["verdict"]) == 4
    assert target.calls[-1] == ("restore", {}) and _reports_written(tmp_path)


def test_a_link_delay_left_by_a_killed_run_is_undone_by_recover(tmp_path):
    drill = _drill(tmp_path, extra="conditions: {link_delay_ms: 700}")
    target = FakeTarget(fail_on={"fail_region": KeyboardInterrupt()})  # the runner dies right after the condition
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, target, drill=drill)
    journal = tmp_path / "out" / "journal.jsonl"
    pending = pending_inverses(read_journal(journal))
    assert [p["action"] for p in pending] == ["delay_link", "fail_region"] and target.link_delay_ms == 700
    fresh = FakeTarget()
    fresh.link_delay_ms = 700
    undone = recover(journal, fresh)
    assert [u["action"] for u in undone] == ["delay_link", "fail_region"]
    assert fresh.link_delay_ms is None and pending_inverses(read_journal(journal)) == []
    assert recover(journal, fresh) == []  # twice is harmless: nothing left to undo


def test_a_zone_named_outside_the_environment_is_refused_before_anything(tmp_path):
    from gameday.errors import ConfigError

    path = _drill(tmp_path)
    path.write_text(path.read_text().replace("fail_region, args: {region: \"{primary_region}\"}",
                                             "fail_zone, args: {zone: us-east-1z}"))
    with pytest.raises(ConfigError, match=r"fault\.args.*unknown zone 'us-east-1z'"):
        load_drill(path)
    assert not (tmp_path / "out").exists()


def test_report_json_is_a_pure_function_of_the_journal(tmp_path):
    from gameday.api.drill import regenerate_reports

    s = _run(tmp_path, FakeTarget(lag_s=0.1))
    again = regenerate_reports(tmp_path / "out" / "journal.jsonl", tmp_path / "again")
    assert json.loads(json.dumps(again, default=str)) == json.loads((tmp_path / "out" / "report.json").read_text())
    assert again["verdict"] == s["verdict"]


def test_the_timeline_samples_the_load_at_100_ms_on_a_compressed_environment(tmp_path):
    _run(tmp_path, FakeTarget(lag_s=0.1))
    events = read_journal(tmp_path / "out" / "journal.jsonl")
    series = next(e.value for e in events if e.kind == "load.series")
    assert series["bucket_s"] == 0.1 and len(series["acked"]) >= 5
    assert any(series["failed"]), "the outage shows in its own 100 ms buckets"
    assert "acknowledged events/s, per 0.1 s" in (tmp_path / "out" / "report.html").read_text()


FAILBACK = """
name: fake-failback
title: failback on the fake target
steps:
  - {id: rebuild, name: Rebuild, kind: action, call: rebuild_primary_region, budget_s: 600, done_when: rebuilt}
  - {id: back, name: Back, kind: action, call: return_primary_db, budget_s: 600, done_when: writer back}
  - {id: dns, name: DNS, kind: action, call: switch_dns, args: {region: "{primary_region}"}, budget_s: 120, done_when: ok}
  - {id: smoke, name: Smoke, kind: wait, wait_for: synthetic_recovered, timeout_s: 5, budget_s: 300, done_when: ok}
"""
PREPARE = """prepare:
  - {action: fail_region, args: {region: "{primary_region}"}}
  - {action: promote_dr_db}
  - {action: switch_dns, args: {region: "{dr_region}"}}
"""


def _failback(tmp_path: Path) -> Path:
    path = _drill(tmp_path, runbook=FAILBACK, extra=PREPARE)
    path.write_text(path.read_text().replace('fault: {action: fail_region, args: {region: "{primary_region}"}}',
                                             "fault: null"))
    return path


def test_a_planned_failback_prepares_the_failed_over_state_and_is_timed_from_the_runbook(tmp_path):
    from gameday.drill.fakes import fake_background, fake_reconciler
    from gameday.drill.runner import DrillRun

    target, heartbeat_at = FakeTarget(), []

    def background(spec):
        heartbeat_at.append(spec.writer_dsn)
        return fake_background(target)(spec)

    s = DrillRun(load_drill(_failback(tmp_path)), target, tmp_path / "out", background=background,
                 reconciler=fake_reconciler(target)).execute()
    assert heartbeat_at == ["fake://writer/us-west-2"], "the heartbeat commits where the writer is when it starts"
    names = [c[0] for c in target.calls if c[0] not in ("status", "check_stop_conditions", "primary_dsn")]
    assert names[:3] == ["fail_region", "promote_dr_db", "switch_dns"]  # prepared before the load starts
    assert names[3:6] == ["rebuild_primary_region", "return_primary_db", "switch_dns"]
    assert names[-1] == "restore"  # the prepared fault's inverse is journaled and applied like any fault's
    applied = next(e for e in read_journal(tmp_path / "out" / "journal.jsonl") if e.kind == "fault.applied")
    step0 = next(e for e in read_journal(tmp_path / "out" / "journal.jsonl") if e.kind == "step.start")
    assert applied.value["action"] == "planned" and 0 <= step0.t_wall - applied.value["t_applied"] < 0.5
    assert s["verdict"] == "pass" and s["rpo_s"] == 0 and s["events_lost"] == 0, s["reasons"]


def test_a_failback_on_an_environment_already_failed_over_skips_the_preparation(tmp_path):
    target = FakeTarget()
    target.promoted, target.dns_region = True, target.dr
    _run(tmp_path, target, drill=_failback(tmp_path))
    names = [c[0] for c in target.calls]
    assert "fail_region" not in names and "promote_dr_db" not in names
    assert "prepare.skipped" in _kinds(tmp_path) and "fault.intent" not in _kinds(tmp_path)


def test_a_transient_api_error_during_a_wait_is_not_yet(tmp_path):
    target = FakeTarget()
    real, calls = target.status, []

    def flaky():
        calls.append(1)
        if len(calls) <= 2:
            raise DriverError("DescribeInstances: throttled", code="Throttling")
        return real()
    target.status = flaky
    s = _run(tmp_path, target)
    assert len(calls) > 2 and s["verdict"] == "pass", s["reasons"]


def test_a_drill_stopped_by_a_stop_condition_still_says_what_was_lost(tmp_path):
    """Aborted mid-runbook (a stop condition): the verdict is aborted, and the reconciliation still ran."""
    from gameday.errors import Aborted

    class Stopping(FakeTarget):
        checks = 0

        def check_stop_conditions(self) -> None:
            super().check_stop_conditions()
            self.checks += 1
            if self.checks == 3:  # the first check guards the fault; the third comes mid-runbook
                raise Aborted("stop condition: error ratio 0.99 over 5 s")

    target = Stopping(lag_s=0.2)
    s = _run(tmp_path, target)
    assert s["verdict"] == "aborted" and exit_code(s["verdict"]) == 4
    assert "reconcile" in _kinds(tmp_path)
    assert isinstance(s["events_lost"], int) and s["events_acked"] > 0
    assert s["rpo_s"] is not None
    assert target.calls[-1] == ("restore", {})

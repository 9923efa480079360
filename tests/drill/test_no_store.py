"""A service described without ``store:``: a drill still measures RTO and, where the heartbeat can write, RPO by
its gaps, and says the lost events were not counted; where gameday reaches no database at all, a target it
cannot judge (RPO, lost events) makes the verdict INCONCLUSIVE naming ``store``, never PASS. On the fake Target."""

from __future__ import annotations

import pytest

from fakekit import _drill, _run
from gameday.cli import main
from gameday.service.spec import ServiceSpec
from gameday.targets.fake import FAKE_SERVICE, FakeTarget
from gameday.verdict import exit_code

NO_STORE = ServiceSpec.model_validate({**FAKE_SERVICE.model_dump(), "store": None})


def test_without_store_rpo_comes_from_the_heartbeat_and_the_report_says_events_were_not_counted(tmp_path, capsys):
    target = FakeTarget(lag_s=0.2, service=NO_STORE)
    s = _run(tmp_path, target)
    assert s["verdict"] == "pass", s["reasons"]
    assert s["rto_s"] is not None
    assert s["events_lost"] is None and s["events_counted"] is False and s["events_acked"] > 0
    assert 0.1 <= s["rpo_s"] <= 0.35 and s["rpo_s"] == s["rpo_heartbeat_s"], "the last 0.2 s of heartbeats were lost"
    md = " ".join((tmp_path / "out" / "report.md").read_text().split())
    assert "lost events were not counted" in md and "store:" in md
    with pytest.raises(SystemExit) as info:  # the terminal says it too (gameday report: the same summary)
        main(["report", str(tmp_path / "out" / "journal.jsonl")])
    out = " ".join(capsys.readouterr().out.split())
    assert info.value.code == 0 and "note: lost events were not counted" in out and "not measured: lost" in out


def test_without_store_and_without_any_database_an_rpo_target_is_inconclusive_naming_store(tmp_path):
    target = FakeTarget(service=NO_STORE, database=False)
    s = _run(tmp_path, target)
    assert s["verdict"] == "inconclusive" and exit_code(s["verdict"]) == 3, s["reasons"]
    assert s["rto_s"] is not None, "RTO is still measured: it needs no database"
    assert s["rpo_s"] is None
    rpo = next(r for r in s["reasons"] if r.startswith("rpo could not be measured"))
    assert "no database" in rpo and "service.store" in rpo
    assert ("restore", {}) in target.calls


def test_a_lost_events_target_without_store_is_inconclusive_naming_store(tmp_path):
    drill = _drill(tmp_path, extra="")
    drill.write_text(drill.read_text().replace("rpo_s: 300}", "rpo_s: 300, lost_events_max: 0}"))
    s = _run(tmp_path, FakeTarget(service=NO_STORE), drill=drill)
    assert s["verdict"] == "inconclusive", s["reasons"]
    assert any(r.startswith("lost_events could not be measured") and "store:" in r for r in s["reasons"]), s["reasons"]


def test_the_same_drill_with_a_store_counts_lost_events(tmp_path):
    s = _run(tmp_path, FakeTarget(lag_s=0.2))
    assert s["events_lost"] > 0 and "events_counted" not in s

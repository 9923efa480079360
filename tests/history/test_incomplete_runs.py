"""A run killed before its end event (kill -9) or aborted is ABORTED / incomplete in `gameday report`, in
`history` and in JUnit alike, and nothing it prints reads ``None``. Journals built here, no lab."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fakekit import _run
from gameday.cli import main
from gameday.journal import Journal
from gameday.targets.fake import FakeTarget


def _killed(tmp_path: Path) -> Path:
    """A finished fake drill whose journal is cut just before drill.end (what kill -9 leaves), reports gone."""
    _run(tmp_path, FakeTarget(lag_s=0.1))
    out = tmp_path / "out"
    lines = (out / "journal.jsonl").read_text().splitlines()
    end = next(i for i, line in enumerate(lines) if json.loads(line)["kind"] == "drill.end")
    (out / "journal.jsonl").write_text("\n".join(lines[:end]) + '\n{"seq": 9999, "t_mo')  # torn last write
    for f in ("report.json", "report.md", "report.html", "junit.xml"):
        (out / f).unlink()
    return out


def _report(journal: Path, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(["report", str(journal)])
    return int(info.value.code), capsys.readouterr().out


def test_a_killed_drill_is_aborted_incomplete_in_report_junit_and_history(tmp_path, capsys):
    out = _killed(tmp_path)
    code, text = _report(out / "journal.jsonl", capsys)
    assert code == 4, text  # aborted, not FAIL (1)
    assert "ABORTED" in text and "incomplete" in text and "None" not in text
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "aborted" and report["incomplete"] is True
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    failures = [f.text or "" for f in suite.iter("failure")]
    assert any("aborted" in f and "incomplete" in f for f in failures), failures
    assert not any("None" in f for f in failures), failures
    with pytest.raises(SystemExit) as info:
        main(["history", str(tmp_path), "--out", str(tmp_path / "h")])
    assert info.value.code == 0
    [group] = json.loads((tmp_path / "h" / "history.json").read_text())["groups"]
    [run] = group["runs"]
    assert (run["verdict"], run["status"]) == ("aborted", "incomplete")
    assert "| aborted (incomplete) |" in (tmp_path / "h" / "history.md").read_text()


def test_an_aborted_drill_prints_what_was_not_measured_in_words(tmp_path, capsys):
    j = Journal(tmp_path / "journal.jsonl", fsync=False)
    j.record("drill.start", "runner", {
        "drill": "region-failover", "run_id": "r1", "environment": "local", "time_scale": 1 / 60,
        "targets": {"rto_s": 600, "rpo_s": 60, "lost_events_max": 0}, "probe_consecutive": 3, "declare_step": None,
        "steps": [{"id": "alert", "name": "Alert", "kind": "wait", "budget_s": 60}], "fault": {"action": "fail_region"}})
    j.record("fault.applied", "target", {"action": "fail_region", "args": {}, "t_applied": j.path.stat().st_mtime})
    j.record("drill.end", "runner", {"aborted": True, "reason": "received SIGINT"})
    j.close()
    code, text = _report(tmp_path / "journal.jsonl", capsys)
    assert code == 4 and "ABORTED" in text
    assert "None" not in text and "not measured" in text
    junit = (tmp_path / "junit.xml").read_text()
    assert "None" not in junit and "not measured" in junit

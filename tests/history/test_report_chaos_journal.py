"""`gameday report` on a chaos experiment's gameday-journal.jsonl: the experiment's own report (title, verdict,
faults, rollbacks), not a drill's; a killed experiment is ABORTED / incomplete. Journals built here."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ctkkit import ctk_journal
from gameday import operations
from gameday.cli import main
from gameday.journal import Journal


def _experiment(out: Path, *, ended: bool = True, ctk: dict | None = None) -> Path:
    out.mkdir(parents=True)
    j = Journal(out / "gameday-journal.jsonl", fsync=False)
    j.record("heartbeat.ack", "heartbeat", {"ts": 1.0})  # the heartbeat starts before chaos.start
    j.record("chaos.start", "control", {"title": "Losing zone b keeps ingest up", "environment": "local",
                                        "environment_file": "environments/local.yaml", "run_id": "c0ffee1234"})
    intent = j.record("fault.intent", "chaos", operations.intent("fail_zone", {"zone": "us-east-1b"}))
    j.record("fault.applied", "target", {"action": "fail_zone", "chaos": "fail_availability_zone", "t_applied": 2.0})
    j.record("fault.inverse_applied", "chaos", {"inverse": "restore_availability_zone", "intent_seq": intent.seq})
    for ok, p95 in ((True, 120), (False, 412)):  # what the probe measured before and after the method
        j.record("probe.measured", "chaos", {"func": "ingest_slo_met", "ok": ok, "what": f"p95 {p95} ms (SLO 300)"})
    if ended:
        j.record("chaos.end", "control", {"status": "completed", "deviated": False})
    j.close()
    if ctk is not None:
        (out / "journal.json").write_text(json.dumps(ctk))
    return out / "gameday-journal.jsonl"


def _report(journal: Path, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(["report", str(journal)])
    return int(info.value.code), capsys.readouterr().out


def test_report_regenerates_a_passing_experiments_own_verdict_and_junit(tmp_path, capsys):
    journal = _experiment(tmp_path / "exp", ctk=ctk_journal(rollback_ok=True, after_met=True))
    code, text = _report(journal, capsys)
    assert code == 0, text
    assert "chaos experiment Losing zone b keeps ingest up - PASS" in text and "drill" not in text
    assert "fail_zone" in text  # an older journal (its "chaos" name) is reported by the one name
    verdict = json.loads((tmp_path / "exp" / "verdict.json").read_text())
    assert verdict["verdict"] == "pass" and verdict["run_id"] == "c0ffee1234" and verdict["kind"] == "chaos"
    suite = ET.parse(tmp_path / "exp" / "junit.xml").getroot().find("testsuite")
    assert suite.get("name") == "gameday.chaos: Losing zone b keeps ingest up"
    assert {c.get("name") for c in suite.iter("testcase")} >= {"method: kill-zone-b", "rollback: restore-zone-b"}


def test_report_on_a_deviated_experiment_with_a_failed_rollback_is_fail_naming_both(tmp_path, capsys):
    journal = _experiment(tmp_path / "exp", ctk=ctk_journal(rollback_ok=False, after_met=False))
    code, text = _report(journal, capsys)
    assert code == 1 and "- FAIL" in text
    assert "hypothesis deviated after the method" in text and "rollback 'restore-zone-b' failed" in text
    # what the service answered, not only the probe's False
    assert "ingest-healthy (tolerance True, got False: p95 412 ms (SLO 300))" in " ".join(text.split())


def test_a_killed_experiment_is_aborted_and_incomplete(tmp_path, capsys):
    journal = _experiment(tmp_path / "exp", ended=False)  # kill -9: no chaos.end, Chaos Toolkit wrote nothing
    code, text = _report(journal, capsys)
    assert code == 4 and "ABORTED" in text and "(incomplete)" in text and "None" not in text
    verdict = json.loads((tmp_path / "exp" / "verdict.json").read_text())
    assert verdict["incomplete"] is True and verdict["verdict"] == "aborted"

"""gameday history over synthetic runs (the fake Target, in seconds) and over real lab drills."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from fakekit import _drill, _run
from gameday.api.history import build_history
from gameday.cli import main
from gameday.targets.fake import FakeTarget


def _fake_runs(tmp_path: Path, slow_last: bool) -> Path:
    runs = tmp_path / "runs"
    for i in range(4):
        d = runs / f"run-{i}"
        d.mkdir(parents=True)
        slow = {"promote_dr_db": 1.5} if slow_last and i == 3 else {}
        _run(d, FakeTarget(lag_s=0.1, slow=slow), drill=_drill(d))
    return runs


@pytest.fixture(scope="module")
def runs_without_regression(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four fake runs without a regression, made once (seconds of fake drills) for the tests that read them; a
    test that changes them changes its own copy."""
    return _fake_runs(tmp_path_factory.mktemp("history"), slow_last=False)


def test_a_slower_step_is_flagged_as_the_regression_and_fails_the_ci_job(tmp_path, capsys):
    runs = _fake_runs(tmp_path, slow_last=True)
    h = build_history([runs], out_dir=tmp_path / "h")
    [group] = h.groups
    assert [r.name for r in group.runs] == ["fake-region-failover"] * 4
    steps = [r.metric for r in group.regressions if r.metric.startswith("step:")]
    assert steps == ["step:promote"], group.regressions
    with pytest.raises(SystemExit) as info:
        main(["history", str(runs), "--out", str(tmp_path / "h2"), "--fail-on-regression"])
    assert info.value.code == 1 and "regression" in capsys.readouterr().out
    html = (tmp_path / "h" / "history.html").read_text()
    assert "Regression in the latest run: step promote" in html and "<script" not in html


def test_a_history_without_regression_exits_0_and_carries_each_reports_figures(tmp_path, runs_without_regression):
    runs = runs_without_regression
    with pytest.raises(SystemExit) as info:
        main(["history", str(runs), "--out", str(tmp_path / "h"), "--fail-on-regression"])
    assert info.value.code == 0
    data = json.loads((tmp_path / "h" / "history.json").read_text())
    [group] = data["groups"]
    assert group["regressions"] == []
    for run in group["runs"]:
        report = json.loads((Path(run["path"]) / "report.json").read_text())
        assert run["figures"]["rto_s"] == report["rto_s"] and run["figures"]["rpo_s"] == report["rpo_s"]
        assert run["figures"]["events_lost"] == report["events_lost"] and run["verdict"] == report["verdict"]


def test_a_cut_off_journal_is_listed_as_incomplete_and_garbage_as_malformed(tmp_path, capsys, runs_without_regression):
    runs = tmp_path / "runs"
    shutil.copytree(runs_without_regression, runs)
    journal = runs / "run-3" / "out" / "journal.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[: len(lines) // 2]) + '\n{"seq": 99, "t_wa')  # kill -9 mid-write
    (tmp_path / "runs" / "junk").mkdir()
    (tmp_path / "runs" / "junk" / "journal.jsonl").write_text("not json\nat all\n")
    with pytest.raises(SystemExit) as info:
        main(["history", str(runs), "--out", str(tmp_path / "h")])
    text = capsys.readouterr().out
    assert info.value.code == 0 and "incomplete" in text and "malformed" in text
    md = (tmp_path / "h" / "history.md").read_text()
    assert "| aborted (incomplete) |" in md and "Runs that could not be read" in md


@pytest.mark.lab
def test_a_history_of_real_lab_drills_matches_their_reports(lab, tmp_path):
    base = yaml.safe_load((ROOT / "drills" / "rds-failover.yaml").read_text())
    base.update({"environment": str(ROOT / "environments" / "local.yaml"), "warmup_s": 1.5, "cooldown_s": 0.5,
                 "runbook": str(ROOT / "runbooks" / "rds-failover.yaml")})
    variants = {"a-normal": {}, "b-slow-link": {"conditions": {"link_delay_ms": 400}},
                "c-tight": {"targets": {"rto_s": 1, "rpo_s": 0, "lost_events_max": 0}}}
    codes = {}
    for name, change in variants.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**base, **change}))
        with pytest.raises(SystemExit) as info:
            main(["drill", "run", str(path), "--out", str(tmp_path / "runs" / name), "--state-dir", str(lab.root)])
        codes[name] = info.value.code
    assert codes == {"a-normal": 0, "b-slow-link": 0, "c-tight": 1}
    h = build_history([tmp_path / "runs"], out_dir=tmp_path / "h")
    [group] = h.groups
    assert [r.verdict for r in group.runs] == ["pass", "pass", "fail"]
    for run in group.runs:
        report = json.loads((Path(run.path) / "report.json").read_text())
        assert (run.figures["rto_s"], run.figures["rpo_s"], run.figures["events_acked"]) == \
            (report["rto_s"], report["rpo_s"], report["events_acked"])

"""On-call rehearsal with scripted answers on stdin: the fault is hidden, the score follows the answers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.lab


def _rehearse(lab, tmp_path, answers: str, fault: str = "region") -> tuple[subprocess.CompletedProcess, dict]:
    data = yaml.safe_load((ROOT / "drills" / "region-failover.yaml").read_text())
    data.update({"environment": str(ROOT / "environments" / "local.yaml"),
                 "runbook": str(ROOT / "runbooks" / "region-failover.yaml"), "warmup_s": 2, "cooldown_s": 1})
    drill = tmp_path / "drill.yaml"
    drill.write_text(yaml.safe_dump(data))
    res = subprocess.run([sys.executable, "-m", "gameday.cli", "rehearse", str(drill), "--fault", fault,
                          "--out", str(tmp_path / "out"), "--state-dir", str(lab.root)],
                         input=answers, capture_output=True, text=True, cwd=ROOT, timeout=180)
    return res, json.loads((tmp_path / "out" / "score.json").read_text())


def test_a_responder_who_works_every_step_in_order_scores_full_marks(lab, tmp_path):
    # alert: watch; confirm: y; promote, dns, scale: let gameday run; smoke: watch; communicate: run
    res, score = _rehearse(lab, tmp_path, "\ny\nr\nr\nr\n\nr\n")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "ALERT" in res.stdout
    before_end = res.stdout.split("the fault was")[0]
    assert "fail_region" not in before_end, "the fault must stay hidden until the end"
    assert score["fault"] == "fail_region" and score["steps_in_order"] and score["score"] == 100
    assert score["time_to_detect_s"] is not None and score["time_to_declare_s"] >= score["time_to_detect_s"]


def test_a_skipped_step_costs_points_and_is_recorded(lab, tmp_path):
    res, score = _rehearse(lab, tmp_path, "\ns\nr\nr\nr\n\nr\n")  # never declares the incident
    assert score["steps_skipped"] == ["confirm"]
    assert not score["steps_in_order"] and score["score"] <= 60
    assert score["time_to_declare_s"] is None


def test_an_unknown_fault_name_exits_2(lab, tmp_path):
    res = subprocess.run([sys.executable, "-m", "gameday.cli", "rehearse", str(ROOT / "drills" / "region-failover.yaml"),
                          "--fault", "meteor", "--state-dir", str(lab.root)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "unknown fault 'meteor'" in res.stderr

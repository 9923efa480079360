"""The shipped experiments against the real lab reach the verdicts their hypotheses predict; broken
variants fail with the reason named although plain `chaos run` exits 0; SIGTERM plays the rollbacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from gameday.cli import main
from labkit import in_shape, measured_experiment

pytestmark = pytest.mark.lab




def _run(lab, experiment: Path, out: Path, *extra: str) -> tuple[int, dict]:
    with pytest.raises(SystemExit) as info:
        main(["chaos", "run", str(experiment), "--out", str(out), "--state-dir", str(lab.root), *extra])
    return info.value.code, json.loads((out / "verdict.json").read_text())


@pytest.mark.parametrize("name, fault", [
    ("az-outage", "fail_zone"), ("spot-interruption", "interrupt_spot"),
    ("rds-primary-failover", "fail_over_db"), ("region-outage", "fail_region"),
    ("cache-failover", "fail_cache_primary"),
])
def test_each_experiment_reaches_the_verdict_its_hypothesis_predicts(lab, tmp_path, name, fault):
    code, v, out = measured_experiment(lambda out: _run(lab, ROOT / "experiments" / f"{name}.yaml", out),
                                       tmp_path / "run")
    assert code == 0 and v["verdict"] == "pass", v["reasons"]
    assert v["faults_applied"] == [fault] and v["rolled_back"]
    assert in_shape(lab.status()), "the rollback restored the lab"
    events = [json.loads(x) for x in (out / "gameday-journal.jsonl").read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    assert kinds.index("fault.intent") < kinds.index("fault.applied"), "the inverse is journaled before the fault"
    assert "load.tick" in kinds, "load and faults share one timeline"


def _variant(tmp_path: Path, name: str, change) -> Path:
    exp = yaml.safe_load((ROOT / "experiments" / f"{name}.yaml").read_text())
    change(exp)
    path = tmp_path / f"broken-{name}.yaml"
    path.write_text(yaml.safe_dump(exp))
    return path


def _plain_chaos_run(lab, path: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GAMEDAY_ENV": str(ROOT / "environments" / "local.yaml"), "GAMEDAY_STATE_DIR": str(lab.root)}
    return subprocess.run([str(Path(sys.executable).parent / "chaos"), "--no-version-check",
                           "--log-file", str(cwd / "chaostoolkit.log"), "run", str(path),
                           "--journal-path", str(cwd / "plain-journal.json")],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_tolerance_that_cannot_hold_fails_although_chaos_run_exits_0(lab, tmp_path):
    def impossible(exp):
        exp["steady-state-hypothesis"]["probes"][1]["provider"]["arguments"]["p95_ms"] = 0.001
    path = _variant(tmp_path, "az-outage", impossible)
    plain = _plain_chaos_run(lab, path, tmp_path)
    assert plain.returncode == 0, plain.stderr[-2000:]
    code, v = _run(lab, path, tmp_path / "gameday")
    assert code == 1 and v["verdict"] == "fail"
    assert any("steady state unmet before the method" in r and "ingest-slo-met" in r for r in v["reasons"])
    assert v["faults_applied"] == [], "the method never ran"


def test_a_bad_argument_is_refused_by_gameday_although_chaos_run_exits_0(lab, tmp_path):
    def bad_zone(exp):
        exp["method"] = [{"type": "action", "name": "lose-zone-z", "provider": {
            "type": "python", "module": "gameday.chaos.actions", "func": "fail_zone",
            "arguments": {"zone": "us-east-1z"}}}]
    path = _variant(tmp_path, "az-outage", bad_zone)
    plain = _plain_chaos_run(lab, path, tmp_path)
    assert plain.returncode == 0, plain.stderr[-2000:]
    with pytest.raises(SystemExit) as info:  # validated before the lab or the load is touched
        main(["chaos", "run", str(path), "--out", str(tmp_path / "gameday"), "--state-dir", str(lab.root)])
    assert info.value.code == 2 and not (tmp_path / "gameday").exists()


def test_a_failing_action_fails_although_chaos_run_exits_0(lab, tmp_path):
    def missing_profile(exp):
        exp["method"][0]["provider"]["arguments"]["profile"] = "loadprofiles/no-such-profile.py"
        exp["method"][0]["name"] = "start-missing-load"
        exp["method"][1].pop("pauses", None)  # the health checks' wait after the zone is lost: not this test's point
    path = _variant(tmp_path, "az-outage", missing_profile)
    code, v = _run(lab, path, tmp_path / "gameday")
    assert code == 1 and v["verdict"] == "fail"
    assert any("method action 'start-missing-load' failed" in r and "not found" in r for r in v["reasons"]), v


def test_sigterm_during_the_method_plays_the_rollbacks_and_exits_4(lab, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "gameday.cli", "chaos", "run", str(ROOT / "experiments" / "az-outage.yaml"),
                             "--out", str(tmp_path), "--state-dir", str(lab.root)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        journal = tmp_path / "gameday-journal.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (journal.exists() and "fault.intent" in journal.read_text()):
            time.sleep(0.1)
        assert "fault.intent" in journal.read_text()
        time.sleep(1.5)  # the zone is down; the method is pausing for the health checks
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=90)[0].decode()
        assert proc.returncode == 4, output
        v = json.loads((tmp_path / "verdict.json").read_text())
        assert v["verdict"] == "aborted" and v["rolled_back"] and v["faults_applied"] == ["fail_zone"]
        assert in_shape(lab.status())
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_breached_stop_condition_aborts_and_rolls_back(lab, tmp_path):
    env = yaml.safe_load((ROOT / "environments" / "local.yaml").read_text())
    env["stop_conditions"] = {"max_error_ratio": 0.5, "window_s": 1, "for_s": 1}
    env_file = tmp_path / "strict.yaml"
    env_file.write_text(yaml.safe_dump(env))

    def longer(exp):
        exp["method"][-1]["pauses"] = {"after": 10}  # the region stays down long enough to breach
    code, v = _run(lab, _variant(tmp_path, "region-outage", longer), tmp_path / "out", "--env", str(env_file))
    assert code == 4 and v["verdict"] == "aborted"
    assert "a stop condition was breached" in v["reasons"] and v["rolled_back"]
    assert in_shape(lab.status())


def test_kill_9_mid_experiment_then_recover_from_the_chaos_journal(lab, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "gameday.cli", "chaos", "run", str(ROOT / "experiments" / "az-outage.yaml"),
                             "--out", str(tmp_path), "--state-dir", str(lab.root)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    journal = tmp_path / "gameday-journal.jsonl"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (journal.exists() and "fault.applied" in journal.read_text()):
            time.sleep(0.1)
        assert "fault.applied" in journal.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and Chaos Toolkit's process: no rollback runs
        proc.wait(10)
    assert not in_shape(lab.status())  # zone b is still down
    res = subprocess.run([sys.executable, "-m", "gameday.cli", "recover", str(journal), "--state-dir", str(lab.root)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "undone: fail_zone" in res.stdout and "restore_zone" in res.stdout
    assert in_shape(lab.status())
    again = subprocess.run([sys.executable, "-m", "gameday.cli", "recover", str(journal), "--state-dir", str(lab.root)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "nothing to undo" in again.stdout and "chaos journal" in again.stdout

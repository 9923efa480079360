"""On-call rehearsal driven as a person would: answers on stdin, the runbook's actions done by hand with
the ``gameday lab`` commands from a second process, every claim checked on the lab."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from labkit import in_shape

pytestmark = pytest.mark.lab
PROMPT = "] > "


class Person:
    """Reads the rehearsal's screen and answers each prompt; ``hands`` run lab commands before an answer."""

    def __init__(self, lab, tmp_path: Path, fault: str) -> None:
        data = yaml.safe_load((ROOT / "drills" / "region-failover.yaml").read_text())
        data.update({"environment": str(ROOT / "environments" / "local.yaml"), "warmup_s": 1.5, "cooldown_s": 0.5,
                     "runbook": str(ROOT / "runbooks" / "region-failover.yaml"),
                     "runbooks": {k: str(ROOT / "runbooks" / Path(v).name) for k, v in data["runbooks"].items()}})
        drill = tmp_path / "drill.yaml"
        drill.write_text(yaml.safe_dump(data))
        self.lab, self.out_dir = lab, tmp_path / "out"
        self.proc = subprocess.Popen([sys.executable, "-m", "gameday.cli", "rehearse", str(drill), "--fault", fault,
                                      "--out", str(self.out_dir), "--state-dir", str(lab.root)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env={**os.environ, "COLUMNS": "80"})
        self.screen = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := os.read(self.proc.stdout.fileno(), 4096):
            self.screen += chunk.decode(errors="replace")

    def wait_prompt(self, n: int, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while self.screen.count(PROMPT) < n:
            assert time.monotonic() < deadline and self.proc.poll() is None, self.screen[-2000:]
            time.sleep(0.05)

    def answer(self, text: str = "") -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()

    def hands(self, *args: str) -> str:
        res = subprocess.run([sys.executable, "-m", "gameday.cli", "lab", *args, "--state-dir", str(self.lab.root)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        return res.stdout

    def finish(self) -> tuple[int, dict]:
        try:
            code = self.proc.wait(180)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(self.screen[-3000:]) from None
        time.sleep(0.2)
        return code, json.loads((self.out_dir / "score.json").read_text())


def _work(person: Person, steps: list[tuple[tuple[str, ...] | None, str]], start: int = 1) -> None:
    """For the ``start``-th prompt on: do the command by hand (if any), then answer."""
    for n, (command, answer) in enumerate(steps, start):
        person.wait_prompt(n)
        if command:
            person.hands(*command)
        person.answer(answer)


def test_a_responder_working_the_region_runbook_by_hand_passes(lab, tmp_path):
    person = Person(lab, tmp_path, "region")
    _work(person, [(None, "y"), (("promote-dr-db",), ""), (("promote-cache",), ""), (("switch-dns", "us-west-2"), ""),
                   (("scale-dr", "3"), ""), (None, "")])
    code, score = person.finish()
    assert code == 0 and score["verdict"] == "pass", person.screen[-3000:]
    assert score["score"] >= 90 and score["mistakes"] == [] and score["time_scale"] == 0.2
    assert score["runbook"] == "region-failover" and score["alert"] and not score["incomplete"]
    screen = person.screen.split("the fault was")[0]
    assert "ALERT" in screen and "fail_region" not in screen, "the alert shows, the fault stays hidden"
    assert (person.out_dir / "score.md").read_text().startswith("# Rehearsal debrief")
    assert in_shape(lab.status())


def test_a_step_claimed_but_not_done_is_caught_and_costs_its_points(lab, tmp_path):
    person = Person(lab, tmp_path, "region")
    _work(person, [(None, "y"), (("promote-dr-db",), ""), (("promote-cache",), ""), (None, "")])  # claims the DNS step
    deadline = time.monotonic() + 30
    while "not yet:" not in person.screen:
        assert time.monotonic() < deadline, person.screen[-2000:]
        time.sleep(0.05)
    assert "the failover record answers us-east-1, not us-west-2" in person.screen
    _work(person, [(("switch-dns", "us-west-2"), ""), (("scale-dr", "3"), ""), (None, "")], start=5)
    code, score = person.finish()
    assert any("claimed 'dns' done while the failover record answers us-east-1" in m for m in score["mistakes"])
    assert score["score"] <= 100 - 50 / 8 + 0.5, "the falsely claimed step earns nothing"
    assert in_shape(lab.status())


@pytest.mark.parametrize("fault, runbook, action", [("zone", "az-evacuation", "fail_zone"),
                                                    ("db", "rds-failover", "fail_over_db")])
def test_zone_and_db_faults_present_their_own_runbook_and_alert(lab, tmp_path, fault, runbook, action):
    person = Person(lab, tmp_path, fault)
    _work(person, [(None, "y")])
    code, score = person.finish()
    assert code == 0 and score["verdict"] == "pass", person.screen[-3000:]
    assert score["runbook"] == runbook and score["fault"] == action and score["alert"], score
    assert score["score"] >= 90 and "ALERT" in person.screen
    assert in_shape(lab.status())


def test_an_unknown_fault_name_exits_2(lab, tmp_path):
    res = subprocess.run([sys.executable, "-m", "gameday.cli", "rehearse", str(ROOT / "drills" / "region-failover.yaml"),
                          "--fault", "meteor", "--state-dir", str(lab.root)], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 2 and "unknown fault 'meteor'" in res.stderr


def test_ctrl_c_restores_the_lab_and_scores_what_was_done_as_incomplete(lab, tmp_path):
    import signal

    person = Person(lab, tmp_path, "region")
    _work(person, [(None, "y")])
    person.wait_prompt(2)  # the promote step waits for the person
    person.proc.send_signal(signal.SIGINT)
    code, score = person.finish()
    assert code == 4 and score["incomplete"] and score["verdict"] == "aborted"
    assert "confirm" in score["steps_done"] and (person.out_dir / "score.md").exists()
    assert in_shape(lab.status())

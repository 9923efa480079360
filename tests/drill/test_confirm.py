"""Manual runbook steps in a real drill: a person (or a script on stdin) confirms each one and the journal
says who and when; nobody confirms them on a protected environment unless --auto-confirm says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fakekit import _drill, _run
from gameday.drill.confirm import ask_operator, manual_handler, stdin_kind
from gameday.drill.models import load_drill
from gameday.errors import ConfigError
from gameday.journal import read_journal
from gameday.targets.fake import FakeTarget


def _scripted(*answers: str):
    lines = list(answers)

    def ask(prompt: str) -> str:
        if not lines:
            raise EOFError
        return lines.pop(0)
    return ask


def test_scripted_confirmations_are_journaled_with_the_operators_name(tmp_path):
    said: list[str] = []
    s = _run(tmp_path, FakeTarget(), manual=ask_operator("alice", _scripted("maybe", "not sure", "y"), said.append),
             operator="alice")
    assert s["verdict"] == "pass", s["reasons"]
    ends = [e for e in read_journal(tmp_path / "out" / "journal.jsonl") if e.kind == "step.end"]
    confirm = next(e for e in ends if e.value["id"] == "confirm")
    assert confirm.value["confirmed_by"] == "alice" and not confirm.value["auto_confirmed"]
    assert "confirmed by alice at" in confirm.value["detail"]
    assert sum("answer y" in line for line in said) == 2  # unclear answers ("not sure" too) are asked again
    assert "Confirm (confirmed by alice)" in (tmp_path / "out" / "report.md").read_text()
    start = read_journal(tmp_path / "out" / "journal.jsonl")[0]
    assert start.value["operator"] == "alice"


def test_a_person_answering_not_done_fails_the_step_and_the_drill(tmp_path):
    s = _run(tmp_path, FakeTarget(), manual=ask_operator("bob", _scripted("n the primary still answers"), print))
    assert s["verdict"] == "fail"
    step = next(st for st in s["steps"] if st["id"] == "confirm")
    assert not step["done"] and "bob answered not done: the primary still answers" in step["detail"]


def test_end_of_input_is_nobody_confirming(tmp_path):
    s = _run(tmp_path, FakeTarget(), manual=ask_operator("carol", _scripted(), print))
    step = next(st for st in s["steps"] if st["id"] == "confirm")
    assert s["verdict"] == "fail" and "nobody answered" in step["detail"]


def _loaded(tmp_path: Path, *, protected: bool):
    env = tmp_path / "env.yaml"
    text = (Path(__file__).resolve().parents[2] / "environments" / "local.yaml").read_text()
    env.write_text(text.replace("protected: false", f"protected: {str(protected).lower()}"))
    drill = _drill(tmp_path)
    drill.write_text(drill.read_text().replace(drill.read_text().split("environment: ")[1].split("\n")[0], str(env)))
    return load_drill(drill)


def test_nobody_at_a_protected_environment_is_refused_but_auto_confirm_is_allowed(tmp_path):
    loaded = _loaded(tmp_path, protected=True)
    with pytest.raises(ConfigError, match="--auto-confirm"):
        manual_handler(loaded, auto_confirm_s=None, stdin="none", operator="x", ask=input, say=print)
    handler = manual_handler(loaded, auto_confirm_s=0, stdin="none", operator="x", ask=input, say=print)
    outcome = handler(loaded.runbook.steps[1])
    assert outcome.ok and outcome.auto_confirmed and outcome.confirmed_by is None
    scripted = manual_handler(loaded, auto_confirm_s=None, stdin="script", operator="dana", ask=_scripted("y"),
                              say=print)
    assert scripted(loaded.runbook.steps[1]).confirmed_by == "dana"


def test_an_unprotected_environment_without_a_person_says_it_auto_confirms(tmp_path):
    said: list[str] = []
    handler = manual_handler(_loaded(tmp_path, protected=False), auto_confirm_s=None, stdin="none", operator="x",
                             ask=input, say=said.append)
    assert handler(_loaded(tmp_path, protected=False).runbook.steps[1]).auto_confirmed
    assert "auto-confirmed" in said[0]


def test_stdin_kinds_tell_a_pipe_from_nobody():
    code = "from gameday.drill.confirm import stdin_kind; print(stdin_kind())"
    piped = subprocess.run([sys.executable, "-c", code], input="y\n", capture_output=True, text=True, timeout=60)
    nobody = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=60)
    assert (piped.stdout.strip(), nobody.stdout.strip()) == ("script", "none")
    assert stdin_kind(open(os.devnull)) == "none"

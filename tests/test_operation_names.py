"""One name per operation: the registry's name is the drill, runbook, experiment, journal and lab API name,
the CLI command is it with hyphens; the old spellings in existing files still run and warn once each."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from fakekit import RUNBOOK, _drill, _run
from gameday import operations, spellings
from gameday.cli import app, main
from gameday.journal import read_journal
from gameday.targets.fake import FakeTarget

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_warnings(monkeypatch):
    monkeypatch.setattr(spellings, "_warned", set())  # "once" is once per process: each test starts afresh


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("DeprecationWarning:")]


def test_a_drill_and_runbook_in_the_old_spellings_run_journal_the_one_name_and_warn_once_each(tmp_path, capsys):
    old_runbook = RUNBOOK.replace("call: promote_dr_db", "call: promote").replace("call: scale_dr", "call: scale")
    path = _drill(tmp_path, runbook=old_runbook)
    path.write_text(path.read_text().replace("fault: {action: fail_region,", "fault: {action: kill_region,"))
    target = FakeTarget(lag_s=0.2)
    s = _run(tmp_path, target, drill=path)  # loads the drill (and its runbook) more than once
    assert s["verdict"] == "pass", s["reasons"]
    called = [c[0] for c in target.calls if c[0] != "check_stop_conditions"]
    assert called[:4] == ["fail_region", "promote_dr_db", "switch_dns", "scale_dr"]
    intent = next(e for e in read_journal(tmp_path / "out" / "journal.jsonl") if e.kind == "fault.intent")
    assert intent.value["action"] == "fail_region" and intent.value["inverse"] == "restore"
    warned = _warnings(capsys.readouterr().err)
    assert sorted(w.split("'")[1] for w in warned) == ["kill_region", "promote", "scale"], warned
    assert all("drill.yaml" in w or "runbook.yaml" in w for w in warned), "the warning names the file"


def _old_experiment(tmp_path: Path) -> Path:
    exp = {"title": "an experiment from before one name per operation", "description": "old spellings",
           "configuration": {"gameday_env": str(ROOT / "environments" / "local.yaml"),
                             "gameday_out": str(tmp_path / "out")},
           "method": [
               {"type": "action", "name": "freeze-b", "provider": {
                   "type": "python", "module": "gameday.chaos.actions", "func": "fail_availability_zone",
                   "arguments": {"zone": "us-east-1b", "mode": "freeze"}}},
               {"type": "action", "name": "spot", "provider": {
                   "type": "python", "module": "gameday.chaos.actions", "func": "interrupt_spot_nodes",
                   "arguments": {"count": 2}}}],
           "rollbacks": [{"type": "action", "name": "restore", "provider": {
               "type": "python", "module": "gameday.chaos.actions", "func": "restore_region",
               "arguments": {"region": "us-east-1"}}}]}
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(exp))
    return path


def test_an_experiment_in_the_old_spellings_is_run_by_chaoslib_and_warns_once_per_name(tmp_path, capsys, monkeypatch):
    """chaoslib itself validates and runs the experiment (in this process, on the fake target)."""
    from chaoslib.experiment import run_experiment

    from gameday.chaos import session
    from gameday.chaos.validate import validate_experiment
    from gameday.config import load_environment

    path = _old_experiment(tmp_path)
    env_file = ROOT / "environments" / "local.yaml"
    experiment = validate_experiment(path, load_environment(env_file))  # gameday's checks (as `chaos run` first does)
    target = FakeTarget()
    monkeypatch.setattr(session, "_session", session.Session(str(env_file), load_environment(env_file), target,
                                                              tmp_path / "out"))
    journal = run_experiment(experiment)
    assert journal["status"] == "completed", journal
    assert target.calls == [("freeze_zone", {"zone": "us-east-1b"}), ("interrupt_spot", {"count": 2, "zone": None}),
                            ("restore", {})]
    warned = _warnings(capsys.readouterr().err)
    assert sorted(w.split("'")[1] for w in warned) == ["fail_availability_zone", "interrupt_spot_nodes", "restore_region"]


def test_every_operation_has_one_cli_command_named_after_it_and_the_old_commands_are_hidden_but_run(capsys):
    runner = CliRunner()
    visible = runner.invoke(app, ["lab", "fault", "--help"]).output + runner.invoke(app, ["lab", "--help"]).output
    for op in operations.OPERATIONS.values():
        assert (f" {op.cli} " in visible) == op.lab, f"{op.cli}: a command exactly for the operations the lab has"
    for old in ("kill-zone", "kill-region", "link-delay", "failover-cache", "failover-db", "kill-db-primary"):
        assert f" {old} " not in visible
    with pytest.raises(SystemExit) as info:  # the old command runs the operation: its arguments are checked
        main(["lab", "fault", "kill-zone", "us-east-1q", "--state-dir", "/nonexistent"])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "unknown zone 'us-east-1q'" in err
    assert err.count("DeprecationWarning: 'kill-zone' is an old name of the operation 'fail_zone'") == 1


def test_every_old_spelling_names_an_operation_of_the_registry():
    assert {o.name for o in spellings.OLD.values()} <= set(operations.OPERATIONS)
    assert not set(spellings.OLD) & set(operations.OPERATIONS), "an old spelling is never an operation's name"
    for old in spellings.OLD.values():
        assert set(old.choices.values()) <= set(operations.OPERATIONS)


def test_gameday_chaos_discover_lists_each_operation_once_and_no_old_name(capsys):
    with pytest.raises(SystemExit) as info:
        main(["chaos", "discover"])
    lines = capsys.readouterr().out.splitlines()
    assert info.value.code in (0, None)
    names = [line.split()[1].rsplit(".", 1)[1].split("(")[0] for line in lines]
    assert len(names) == len(set(names)) and set(operations.CHAOS_OPERATIONS) <= set(names)
    assert not set(names) & set(spellings.OLD), "old names run but are not listed"


def test_the_lab_implements_every_operation_it_offers_under_that_name():
    from gameday.lab.lab import Lab
    from gameday.lab.supervisor import _WHOLE_LAB

    for name in operations.lab_arguments():
        assert name in _WHOLE_LAB or callable(getattr(Lab, name, None)), f"the lab offers {name} but has no {name}"

"""Malformed drill and runbook files exit 2 naming file and field, and touch nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from gameday.cli import main
from gameday.drill.models import load_drill

DRILL = ROOT / "drills" / "region-failover.yaml"


def _write(tmp: Path, name: str, data: dict) -> Path:
    p = tmp / name
    p.write_text(yaml.safe_dump(data))
    return p


def _drill(tmp: Path, **changes) -> Path:
    data = yaml.safe_load(DRILL.read_text())
    data["environment"] = str(ROOT / "environments" / "local.yaml")
    data["runbook"] = str(ROOT / "runbooks" / "region-failover.yaml")
    data["runbooks"] = {k: str(ROOT / "runbooks" / Path(v).name) for k, v in data.get("runbooks", {}).items()}
    data.update(changes)
    return _write(tmp, "drill.yaml", data)


@pytest.mark.parametrize("changes, field, expected", [
    ({"targets": {"rto_s": -1, "rpo_s": 300}}, "targets.rto_s", "greater than 0"),
    ({"fault": {"action": "unplug_everything"}}, "fault", "unknown fault 'unplug_everything'"),
    ({"load": {"rate": "fast"}}, "load.rate", "valid number"),
    ({"warmup": 3}, "warmup", "unknown field"),
    ({"runbook": "nope.yaml"}, "runbook", "not found"),
])
def test_malformed_drill_names_file_and_field(tmp_path, capsys, changes, field, expected):
    path = _drill(tmp_path, **changes)
    state_dir = tmp_path / "lab"
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(path), "--out", str(tmp_path / "out"), "--state-dir", str(state_dir)])
    assert info.value.code == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "drill.yaml" in err and field in err and expected in err, err
    assert not state_dir.exists() and not (tmp_path / "out").exists(), "an invalid drill must touch nothing"


@pytest.mark.parametrize("step_change, field, expected", [
    ({"kind": "teleport"}, "steps[2].kind", "'action', 'wait', 'manual' or 'shell'"),
    ({"call": "delete_database"}, "steps[2]", "action step needs 'call'"),
    ({"budget_s": None}, "steps[2].budget_s", "valid number"),
])
def test_malformed_runbook_names_file_and_step(tmp_path, capsys, step_change, field, expected):
    rb = yaml.safe_load((ROOT / "runbooks" / "region-failover.yaml").read_text())
    rb["steps"][2].update(step_change)
    rb_path = _write(tmp_path, "runbook.yaml", rb)
    path = _drill(tmp_path, runbook=str(rb_path))
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", str(path), "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "lab")])
    assert info.value.code == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "runbook.yaml" in err and field in err and expected in err, err
    assert not (tmp_path / "lab").exists()


def test_shipped_drills_and_runbooks_are_valid():
    for drill in sorted((ROOT / "drills").glob("*.yaml")):
        loaded = load_drill(drill)
        assert loaded.runbook.steps


def test_rendered_runbooks_are_up_to_date():
    from gameday.drill.models import load_runbook
    from gameday.drill.render import render_runbook

    for y in sorted((ROOT / "runbooks").glob("*.yaml")):
        md = y.with_suffix(".md")
        assert md.read_text() == render_runbook(load_runbook(y), source_file=y.name), \
            f"{md.name} is stale: run gameday runbook render {y}"


def test_a_rehearsal_can_draw_the_cache_fault_and_presents_the_cache_runbook():
    from gameday import operations
    from gameday.api.rehearse import FAULTS, rehearsal_drill

    action, args = FAULTS["cache"]
    assert operations.get(action).role == "fault" and action == "fail_cache_primary"
    loaded = load_drill(ROOT / "drills" / "region-failover.yaml")
    assert set(loaded.fault_runbooks) == set(FAULTS), "every fault a rehearsal draws has its own runbook"
    assert rehearsal_drill(loaded, "cache").runbook.name == "cache-failover"

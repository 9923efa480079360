"""Malformed experiments exit 2 with the problem named and touch nothing; dry runs change nothing."""

from __future__ import annotations

import pytest
import yaml

from conftest import ROOT
from gameday import operations, spellings
from gameday.chaos import discover
from gameday.cli import main


@pytest.mark.parametrize("change, message", [
    (lambda e: e.pop("method"), "method"),
    (lambda e: e["method"][1]["provider"].update(func="drop_all_tables"), "drop_all_tables"),
    (lambda e: e["method"][1]["provider"]["arguments"].update(region="us-east-1"), "region"),
    (lambda e: e.pop("title"), "title"),
])
def test_malformed_experiments_exit_2_and_touch_nothing(tmp_path, capsys, change, message):
    exp = yaml.safe_load((ROOT / "experiments" / "az-outage.yaml").read_text())
    change(exp)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(exp))
    with pytest.raises(SystemExit) as info:
        main(["chaos", "run", str(path), "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "lab")])
    assert info.value.code == 2
    err = capsys.readouterr().err.replace("\n", "")
    assert "bad.yaml" in err and message in err, err
    assert not (tmp_path / "out").exists() and not (tmp_path / "lab").exists()


def test_discovery_lists_each_operation_once_by_its_one_name_with_its_arguments():
    activities = discover()["activities"]
    names = [a["name"] for a in activities]
    found = {a["name"]: a for a in activities}
    assert len(names) == len(set(names))
    assert found["fail_zone"]["type"] == "action"
    assert [x["name"] for x in found["fail_zone"]["arguments"]][:2] == ["zone", "configuration"]
    assert found["acked_events_present"]["type"] == "probe"
    assert set(operations.CHAOS_OPERATIONS) <= set(names)  # every operation the registry marks chaos
    assert {"start_load", "ingest_slo_met", "writes_succeed", "zone_serving", "replication_lag_s"} <= set(names)
    old = {"fail_availability_zone", "restore_availability_zone", "interrupt_spot_nodes", "fail_over_database",
           "restore_region"}
    assert not old & set(names), "old names run (they warn) but are not listed"
    assert {n for n in names if n in operations.OPERATIONS or n in spellings.OLD} == set(operations.CHAOS_OPERATIONS)


@pytest.mark.lab
def test_dry_run_prints_what_would_be_touched_and_changes_nothing(lab, capsys):
    before = lab.status()
    with pytest.raises(SystemExit) as info:
        main(["chaos", "run", str(ROOT / "experiments" / "az-outage.yaml"), "--dry-run", "--state-dir", str(lab.root)])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "would touch db db-us-east-1b" in text and "node-us-east-1b" in text and "nothing was changed" in text
    after = lab.status()
    assert [(p["name"], p["pid"], p["state"]) for p in after["processes"]] == \
        [(p["name"], p["pid"], p["state"]) for p in before["processes"]]


@pytest.mark.lab
def test_dry_run_of_an_action_on_an_unknown_zone_exits_2(lab, tmp_path, capsys):
    exp = yaml.safe_load((ROOT / "experiments" / "az-outage.yaml").read_text())
    exp["method"][1]["provider"]["arguments"]["zone"] = "us-east-1q"
    path = tmp_path / "nowhere.yaml"
    path.write_text(yaml.safe_dump(exp))
    with pytest.raises(SystemExit) as info:
        main(["chaos", "run", str(path), "--dry-run", "--state-dir", str(lab.root)])
    err = capsys.readouterr().err  # refused by validation, before anything is resolved on the lab
    assert info.value.code == 2 and "unknown zone 'us-east-1q'" in err and "lose-zone-b" in err

"""Runs keep their history by default: each run's output in its own folder ``out/<kind>/<name>/<time>-<run id>/``
with a ``latest`` link, ``--out`` still naming a folder outright, and ``gameday history out/`` trending them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from test_gate_verdicts import STEADY, _noop

from conftest import ROOT
from gameday.cli import main
from gameday.runs import claim, run_folder

ENV = str(ROOT / "environments" / "local.yaml")


def test_each_run_gets_its_own_folder_and_latest_points_at_the_newest(tmp_path):
    first = run_folder("drill", "region-failover", "aaa111", base=tmp_path, now=1_800_000_000)
    assert not first.exists() and not first.parent.exists(), "chosen, not made: a rejected run leaves nothing"
    claim(first)
    second = claim(run_folder("drill", "region-failover", "bbb222", base=tmp_path, now=1_800_000_060))
    assert first != second and first.is_dir() and second.is_dir()
    assert first.name == "20270115T080000Z-aaa111" and second.name == "20270115T080100Z-bbb222"
    latest = tmp_path / "drill" / "region-failover" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == second.name, "relative: a copied out/ keeps working"
    assert latest.resolve() == second.resolve()
    assert sorted(p.name for p in first.parent.iterdir() if not p.is_symlink()) == [first.name, second.name]
    assert run_folder("gate", "a profile/with:odd chars", "x", base=tmp_path).parent.name == "a-profile-with-odd-chars"
    mine = claim(tmp_path / "mine")  # --out: made, never linked
    assert mine.is_dir() and not (tmp_path / "latest").exists()


def _staging(tmp: Path, url: str) -> str:
    """A team's environment: its service described with no store: (a gate needs no database)."""
    env = yaml.safe_load(Path(ENV).read_text())
    env["service"] = {"url": url, "write": {"path": "/v1/trips", "body": '{"events":[{{events}}]}',
                                            "event": '{"event_id":"{{event_id}}"}', "ok": [202]}}
    (tmp / "staging.yaml").write_text(yaml.safe_dump(env))
    return str(tmp / "staging.yaml")


def _gate(env: str, *args: str) -> int:
    with pytest.raises(SystemExit) as info:
        main(["load", "gate", STEADY, "--env", env, "--rate", "50", "--duration", "1", "--quiet", *args])
    return int(info.value.code or 0)


def test_two_gates_of_a_service_without_store_keep_both_runs_and_history_trends_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # a team's repository: out/ is relative to where gameday runs
    with _noop() as host:
        env = _staging(tmp_path, host)
        assert _gate(env) in (0, 1, 3)  # the verdict is not this test's (a busy machine may limit the generator)
        first_out = capsys.readouterr().out
        assert _gate(env) in (0, 1, 3)
    series = tmp_path / "out" / "gate" / "ingest_steady"
    runs = sorted(p for p in series.iterdir() if not p.is_symlink())
    assert len(runs) == 2 and all((r / "journal.jsonl").exists() and (r / "summary.json").exists() for r in runs)
    assert (series / "latest").resolve() == runs[1].resolve()
    assert runs[0].name.split("-", 1)[1] == json.loads((runs[0] / "summary.json").read_text())["run_id"]
    assert f"out/gate/ingest_steady/{runs[0].name}/summary.json" in " ".join(first_out.split()), "says where"
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["history", "out/", "--json"])
    assert info.value.code == 0
    data = json.loads(capsys.readouterr().out)
    [group] = data["groups"]
    assert len(group["runs"]) == 2, "both runs, once each (latest is a link, not a third run)"


@pytest.mark.parametrize("argv", [
    ["drill", "run", str(ROOT / "drills" / "region-failover.yaml"), "--metrics-port", "99999"],
    ["load", "gate", STEADY, "--env", ENV, "--slo", "p95>300ms"],
], ids=["drill-bad-metrics-port", "gate-wrong-way-slo"])
def test_a_run_rejected_before_it_starts_leaves_no_run_folder(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main([*argv, "--state-dir", str(tmp_path / "lab")])
    assert info.value.code == 2 and not (tmp_path / "out").exists() and not (tmp_path / "lab").exists()

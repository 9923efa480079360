"""The acceptance of `gameday init`: in a fresh folder, the region drill validates and passes on the lab."""

from __future__ import annotations

import json

import pytest

from gameday.cli import main

pytestmark = pytest.mark.lab


def test_a_fresh_folder_runs_the_region_drill_on_the_lab(lab, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "team"
    with pytest.raises(SystemExit) as info:
        main(["init", str(folder)])
    assert info.value.code == 0
    monkeypatch.chdir(folder)
    with pytest.raises(SystemExit) as info:
        main(["drill", "validate", "drills/region-failover.yaml"])
    assert info.value.code == 0, capsys.readouterr().err
    # the session's lab (the folder's environments/local.yaml describes the same lab), the drill as written
    with pytest.raises(SystemExit) as info:
        main(["drill", "run", "drills/region-failover.yaml", "--auto-confirm", "1", "--state-dir", str(lab.root),
              "--out", "out/drill"])
    out = capsys.readouterr().out
    assert info.value.code == 0, out
    report = json.loads((folder / "out" / "drill" / "report.json").read_text())
    assert report["verdict"] == "pass" and report["events_acked"] > 0
    assert report["rto_s"] is not None and report["rpo_s"] is not None

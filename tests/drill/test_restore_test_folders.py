"""`gameday restore-test` without --out: every run in a folder of its own under out/restore-test/<environment>/,
linked as latest, as drills, gates and experiments are (it wrote out/restore-test/ over last week's run, so the
weekly validation's history held one run). The lab and the restore are stubbed: this is the folders only."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from gameday.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_each_restore_test_keeps_its_own_folder_and_latest_points_at_the_newest(tmp_path, monkeypatch, capsys):
    @contextmanager
    def no_lab(*a, **kw):
        yield object()

    seen: list[Path] = []
    monkeypatch.setattr("gameday.api.restore_test.open_target", no_lab)
    monkeypatch.setattr("gameday.api.restore_test.validate_backups",
                        lambda target, journal, ledger, **kw: seen.append(ledger.parent))
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        with pytest.raises(SystemExit):
            main(["restore-test", "--env", str(ROOT / "environments" / "local.yaml")])
    base = tmp_path / "out" / "restore-test" / "local"
    runs = [p for p in base.iterdir() if p.name != "latest"]  # within one second: the names sort by run id
    assert len(runs) == 2 and {r.resolve() for r in runs} == {s.resolve() for s in seen}, (runs, seen)
    assert all((r / "journal.jsonl").is_file() for r in runs)
    assert (base / "latest").resolve() == seen[-1].resolve()
    assert str(seen[-1]) in " ".join(capsys.readouterr().out.split())

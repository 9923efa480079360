"""`gameday init DIR`: the folder a team starts from. Its drills, runbooks, experiments, profiles and
environments are the repository's own (one source, shipped in the wheel); every drill and experiment validates
from the folder; a non-empty folder is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from gameday.cli import main
from gameday.scaffold import SHIPPED, standard_files

FOLDERS = tuple(SHIPPED)


def _init(folder: Path, *extra: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["init", str(folder), *extra])
    assert info.value.code == 0


def test_the_folder_holds_the_repository_files_and_every_drill_and_experiment_validates_from_it(tmp_path, monkeypatch,
                                                                                               capsys):
    monkeypatch.chdir(tmp_path)
    folder = Path("gameday")  # as a user types it, in their repository
    _init(folder)
    written = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    for rel in written & {f"{d}/{p.name}" for d in FOLDERS for p in (ROOT / d).iterdir()}:
        assert (folder / rel).read_bytes() == (ROOT / rel).read_bytes(), rel
    for d in ("drills", "runbooks", "experiments", "loadprofiles"):
        assert {p.name for p in (ROOT / d).iterdir() if p.suffix in (".yaml", ".md", ".py")} == \
            {p.name for p in (folder / d).iterdir()}, d
    assert {"Makefile", "README.md", "gameday-ci.yml", ".gitignore", "environments/local.yaml",
            "environments/aws-staging.example.yaml"} <= written
    ci = (folder / "gameday-ci.yml").read_text()
    assert "working-directory: gameday" in ci and "@" not in ci.replace("actions/", "").replace("@v", "")
    monkeypatch.chdir(folder)  # every relative path in the files resolves from the folder
    for drill in sorted((folder / "drills").glob("*.yaml")):
        with pytest.raises(SystemExit) as info:
            main(["drill", "validate", f"drills/{drill.name}"])
        assert info.value.code == 0, capsys.readouterr().err
        load = __import__("yaml").safe_load(drill.read_text())["load"]
        assert load["profile"] == "builtin" or Path(load["profile"]).is_file()
    for exp in sorted((folder / "experiments").glob("*.yaml")):
        with pytest.raises(SystemExit) as info:
            main(["chaos", "validate", f"experiments/{exp.name}"])
        assert info.value.code == 0, capsys.readouterr().err
    make = Path("Makefile").read_text()
    assert "drill run drills/region-failover.yaml --auto-confirm 1" in make and "@AWS_ENV@" not in make
    assert "--out" not in make, "every run keeps a folder of its own (an --out folder is overwritten: no history)"


def test_a_non_empty_folder_is_refused_with_one_line_and_left_as_it_was_unless_forced(tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "Makefile").write_text("mine\n")
    with pytest.raises(SystemExit) as info:
        main(["init", str(folder)])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1 and "--force" in err and str(folder) in err
    assert [p.name for p in folder.iterdir()] == ["Makefile"] and (folder / "Makefile").read_text() == "mine\n"
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SystemExit) as info:
        main(["init", str(tmp_path / "a-file")])
    assert info.value.code == 2
    _init(folder, "--force")
    assert (folder / "drills" / "region-failover.yaml").is_file() and (folder / "Makefile").read_text() != "mine\n"


def test_the_built_wheel_ships_exactly_the_templates_init_writes(tmp_path):
    """pyproject's package-data and the scaffold's list agree, and the symlinked folders' files are in the wheel.
    Built from a copy of the tree (symlinks kept): setuptools' build/ in the checkout could hold stale files."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src" / "gameday", tree / "src" / "gameday", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for d in FOLDERS:
        shutil.copytree(ROOT / d, tree / d)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(tmp_path), str(tree)], capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    wheel = next(tmp_path.glob("gameday_drills-*.whl"))
    names = {n.removeprefix("gameday/templates/") for n in zipfile.ZipFile(wheel).namelist()
             if n.startswith("gameday/templates/")}
    assert {n for n in names if not n.startswith("folder/")} == set(standard_files())
    assert {"folder/Makefile", "folder/README.md", "folder/gameday-ci.yml", "folder/gitignore"} <= names
    assert "drills/region-failover.yaml" in names and "loadprofiles/ingest_steady.py" in names


def test_the_permissions_docs_init_md_lists_are_the_ones_discovery_calls():
    from gameday.discover.run import DISCOVERY_ACTIONS

    block = (ROOT / "docs" / "init.md").read_text().split("```json")[1].split("```")[0]
    assert sorted(json.loads(block)["Statement"][0]["Action"]) == sorted(DISCOVERY_ACTIONS)

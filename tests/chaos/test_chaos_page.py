"""docs/chaos.md, as a newcomer writing an experiment uses it: its full example passes `gameday chaos validate`
without a deprecation warning, and every function it names is one `gameday chaos discover` lists (the page
taught the names from before one name per operation: fail_availability_zone, restore_availability_zone...)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gameday.api.chaos import activities
from gameday.cli import main

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "chaos.md").read_text(encoding="utf-8")


def test_the_full_example_validates_with_the_one_names(tmp_path, capsys, monkeypatch):
    example = next(b for b in re.findall(r"```yaml\n(.*?)```", PAGE, flags=re.S) if "method:" in b)
    (tmp_path / "example.yaml").write_text(example)
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as info:
        main(["chaos", "validate", str(tmp_path / "example.yaml")])
    captured = capsys.readouterr()
    assert info.value.code in (0, None), captured.err
    assert "deprecat" not in captured.err.lower(), captured.err


def test_every_action_and_probe_the_page_lists_is_discovered():
    listed = PAGE.split("Actions (`gameday.chaos.actions`):")[1].split("A full")[0]
    named = set(re.findall(r"`([a-z_]+)\(", listed))
    found = {a["name"] for a in activities()}
    assert named and named <= found, sorted(named - found)
    assert found <= named, f"not on the page: {sorted(found - named)}"

"""``gameday history``: runs found under folders, grouped, regressions flagged; history.json/.md/.html."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from gameday.errors import ConfigError
from gameday.history.collect import Run, collect
from gameday.history.render import render_html, render_md
from gameday.history.trend import Group, as_json, trends

__all__ = ["History", "build_history"]


@dataclass(frozen=True)
class History:
    runs: list[Run]
    groups: list[Group]

    @property
    def regressed(self) -> bool:
        return any(g.regressions for g in self.groups)


def build_history(folders: list[Path], *, out_dir: Path | None = None, window: int = 5,
                  threshold: float = 0.2) -> History:
    """Collect and judge; with ``out_dir``, write history.json, history.md and history.html there."""
    if window < 1:
        raise ConfigError(f"{window} is out of range: at least 1", field="--window")
    if not 0 <= threshold <= 10:
        raise ConfigError(f"{threshold:g} is out of range: 0 to 10 (a ratio)", field="--threshold")
    runs = collect(folders)
    if not runs:  # a wrong folder, not an empty history: nothing is written
        raise ConfigError(f"no run found under {', '.join(str(f) for f in folders)} (a run's folder holds its "
                          "journal.jsonl)", field="FOLDERS")
    groups = trends(runs, window, threshold)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "history.json").write_text(json.dumps(as_json(groups, runs), indent=2, default=str))
        (out_dir / "history.md").write_text(render_md(groups, runs))
        (out_dir / "history.html").write_text(render_html(groups, runs))
    return History(runs, groups)

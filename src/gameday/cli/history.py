"""``gameday history DIR…``: is our recovery getting better or worse, run over run?"""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from rich import box
from rich.table import Table

from gameday.api.history import build_history
from gameday.api.upload import local_copy
from gameday.cli.common import out
from gameday.history.render import row_of, scale_text
from gameday.history.trend import as_json

__all__ = ["history_cmd"]


def history_cmd(folders: list[str] = typer.Argument(..., help="Folders holding run outputs (searched deeply), "
                                                   "or s3://BUCKET/PREFIX where drills uploaded them."),
                out_dir: Path = typer.Option(Path("out/history"), "--out", help="history.json/.md/.html go here."),
                window: int = typer.Option(5, "--window", help="How many previous runs the latest is compared to."),
                threshold: float = typer.Option(0.2, "--threshold", help="Worse by more than this ratio flags."),
                fail_on_regression: bool = typer.Option(False, "--fail-on-regression",
                                                        help="Exit 1 when the latest run of a series regressed."),
                as_json_out: bool = typer.Option(False, "--json", help="Print history.json.")) -> None:
    """Every drill, gate and experiment found under FOLDERS, per series: figures, trends, regressions."""
    h = build_history([local_copy(f) for f in folders], out_dir=out_dir, window=window, threshold=threshold)
    if as_json_out:
        typer.echo(json.dumps(as_json(h.groups, h.runs), indent=2, default=str))
    else:
        for g in h.groups:
            rows = [row_of(r, g.time_scale) for r in g.runs]
            t = Table(title=f"{g.title} (time scale {scale_text(g.time_scale)})",
                      title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                      padding=(0, 1, 0, 0))  # no vertical rules: room in 80 columns
            for col in rows[0]:  # no word cut in two (it misreads): the date and the verdict whole, a header by word
                t.add_column(re.sub(r" |(?<=/)", "\n", col), overflow="fold", no_wrap=col in ("date", "verdict"))
            for row in rows:
                t.add_row(*row.values())
            out.print(t)
            for reg in g.regressions:
                out.print(f"  [bold red]regression[/] {reg.describe()}", highlight=False)
        for run in h.runs:
            if run.status != "complete":
                what = "aborted (incomplete)" if run.status == "incomplete" else run.status
                out.print(f"  [yellow]{what}[/]: {run.path}: {run.problem}", highlight=False)
        out.print(f"{len(h.runs)} run(s) in {len(h.groups)} series; {out_dir / 'history.html'} "
                  "(also history.json, history.md)", highlight=False)
    if fail_on_regression and h.regressed:
        raise typer.Exit(1)

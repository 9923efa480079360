"""Every command's --help, as a newcomer reads it in an 80-column terminal: no traceback, no line wider than
80 columns, and nothing cut off with an ellipsis (the default output folders were: "out/drill/<drill>/<time>…")."""

from __future__ import annotations

import typer.main
from typer.testing import CliRunner

from gameday.cli import app


def _commands(cmd, path=()):
    yield path
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        if not getattr(sub, "hidden", False):
            yield from _commands(sub, (*path, name))


def test_every_help_fits_80_columns_and_cuts_nothing_off():
    runner, wrong = CliRunner(), []
    paths = list(_commands(typer.main.get_command(app)))
    assert len(paths) > 40
    for path in paths:
        res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
        name = " ".join(path) or "gameday"
        if res.exit_code != 0 or res.exception is not None:
            wrong.append(f"{name}: exit {res.exit_code} {res.exception!r}")
            continue
        wrong += [f"{name}: {line.strip()}" for line in res.output.splitlines() if len(line) > 80 or "…" in line]
    assert not wrong, wrong


def test_no_command_summary_breaks_its_line_where_the_source_did():
    """A command list shows each docstring's first paragraph with its source line breaks kept ("check it
    against a write" / "burst's ledger"): the first paragraph is one line."""
    broken = [" ".join(path) or "gameday" for path, cmd in _with_commands(typer.main.get_command(app))
              if "\n" in (cmd.help or "").split("\n\n")[0].strip()]
    assert not broken, broken


def _with_commands(cmd, path=()):
    yield path, cmd
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        if not getattr(sub, "hidden", False):
            yield from _with_commands(sub, (*path, name))

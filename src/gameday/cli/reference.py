"""The documentation's reference pages, generated from the code so they cannot drift from it.

- ``reference/cli.md``: every command of the ``gameday`` command tree (typer's click), with its usage,
  help text, arguments and options, as ``--help`` prints them (here);
- ``reference/operations.md``: every fault and runbook action of the registry (:mod:`gameday.operations`),
  with its arguments, inverse, effect window and where it may be used;
- ``reference/files.md``: every key of the environment, drill and runbook files, from their models;
- ``reference/api.md``: every name :mod:`gameday.api` exports, with its signature and docstring
  (those three in :mod:`gameday.cli.reference_pages`).

The pages are never committed: ``mkdocs build`` makes them through the hook below (``hooks:`` in
mkdocs.yml), and ``python -m gameday.cli.reference DIR`` writes them as Markdown files for reading elsewhere.
Written by hand because mkdocs-click and its kin render a click tree, not typer's vendored click; the
command page is a plain walk of that tree.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameday.cli.reference_pages import api_markdown, code, files_markdown, operations_markdown, text

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

__all__ = ["PAGES", "Command", "commands", "cli_markdown", "anchor", "write", "on_files"]


def anchor(path: str) -> str:
    """The heading id of a command in the CLI reference: ``gameday lab fault kill-zone`` -> ``cmd-lab-fault-kill-zone``."""
    words = path.split()[1:]
    return "cmd-" + ("-".join(words) if words else "gameday")


class Command:
    """One command of the tree, with the click context its help records need."""

    def __init__(self, path: str, cmd: Any, ctx: Any) -> None:
        self.path, self.cmd, self.ctx = path, cmd, ctx

    @property
    def is_group(self) -> bool:
        return hasattr(self.cmd, "list_commands")

    def options(self) -> list[Any]:
        return [p for p in self.cmd.params if p.param_type_name == "option" and not p.hidden]

    def arguments(self) -> list[Any]:
        return [p for p in self.cmd.params if p.param_type_name == "argument"]


def commands(app: Any = None) -> Iterator[Command]:
    """Every visible command of the ``gameday`` tree, depth first, the root first."""
    import typer.main

    if app is None:
        from gameday.cli import app
    root = typer.main.get_command(app)
    context_class = root.context_class

    def walk(cmd: Any, path: str, parent: Any) -> Iterator[Command]:
        ctx = context_class(cmd, info_name=path.split()[-1], parent=parent)
        yield Command(path, cmd, ctx)
        if hasattr(cmd, "list_commands"):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, f"{path} {name}", ctx)

    yield from walk(root, "gameday", None)


def _usage(c: Command) -> str:
    pieces = c.cmd.collect_usage_pieces(c.ctx)
    return " ".join([c.path, *pieces])


def _help(c: Command) -> str:
    """The command's help text, paragraph by paragraph (``\\b`` markers of click dropped)."""
    raw = (c.cmd.help or "").replace("\b", "")
    paragraphs = [p for p in re.split(r"\n\s*\n", raw) if p.strip()]
    return "\n\n".join(text(p) for p in paragraphs)


def _argument_rows(c: Command) -> list[str]:
    rows = []
    for arg in c.arguments():
        record = arg.get_help_record(c.ctx)
        name, help_text = record if record else (arg.name.upper(), "")
        need = "required" if arg.required else "optional"
        many = ", one or more" if arg.nargs == -1 else ""
        help_text = help_text.replace("[required]", "").strip()
        rows.append(f"| {code(name)} | {need}{many} | {text(help_text)} |")
    return rows


def _option_rows(c: Command) -> list[str]:
    rows = []
    for opt in c.options():
        record = opt.get_help_record(c.ctx)
        names, help_text = record if record else (", ".join(opt.opts), "")
        many = " (may be repeated)" if opt.multiple else ""
        rows.append(f"| {code(names)} | {text(help_text)}{many} |")
    return rows


def _command_section(c: Command) -> list[str]:
    depth = min(len(c.path.split()) + 1, 6)
    lines = [f"{'#' * depth} `{c.path}` {{#{anchor(c.path)}}}", "", "```text", _usage(c), "```", ""]
    if c.cmd.help:
        lines += [_help(c), ""]
    if c.is_group:
        subs = [s for s in (c.cmd.get_command(c.ctx, n) for n in c.cmd.list_commands(c.ctx)) if s and not s.hidden]
        if subs:
            lines += ["| command | what it does |", "|---|---|"]
            lines += [f"| [`{c.path} {s.name}`](#{anchor(c.path + ' ' + s.name)}) | "
                      f"{text(s.get_short_help_str(limit=200))} |" for s in subs]
            lines.append("")
    arguments, options = _argument_rows(c), _option_rows(c)
    if arguments:
        lines += ["| argument | | what it is |", "|---|---|---|", *arguments, ""]
    if options:
        lines += ["| option | what it does |", "|---|---|", *options, ""]
    return lines


def cli_markdown(app: Any = None) -> str:
    """The command reference: one section per command, as ``--help`` describes it."""
    from gameday.errors import EXIT_ABORTED, EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_INVALID, EXIT_PASS

    lines = ["# Command reference", "",
             "Generated from the `gameday` command tree each time this site is built: every command, argument "
             f"and option, with the help `--help` prints. Every command exits {EXIT_PASS} pass, {EXIT_FAIL} fail, "
             f"{EXIT_INVALID} invalid input or usage (one line on stderr, nothing started), {EXIT_INCONCLUSIVE} "
             f"inconclusive, {EXIT_ABORTED} aborted.", ""]
    for c in commands(app):
        lines += _command_section(c)
    return "\n".join(lines)


PAGES: dict[str, Callable[[], str]] = {
    "reference/cli.md": cli_markdown,
    "reference/operations.md": operations_markdown,
    "reference/files.md": files_markdown,
    "reference/api.md": api_markdown,
}


def write(folder: Path) -> list[Path]:
    """Write every generated page under ``folder``; return their paths."""
    written = []
    for name, make in PAGES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make() + "\n", encoding="utf-8")
        written.append(path)
    return written


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """mkdocs hook: add the generated pages to the site (in memory: nothing is written to docs/)."""
    from mkdocs.structure.files import File

    for name, make in PAGES.items():
        files.append(File.generated(config, name, content=make()))
    return files


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m gameday.cli.reference DIR")
    for written_path in write(Path(sys.argv[1])):
        print(written_path)

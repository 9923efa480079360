"""The documentation's reference pages, generated from the code so they cannot drift from it.

- ``reference/cli.md``: every command of the ``gameday`` command tree (typer's click), with its usage,
  help text, arguments and options, as ``--help`` prints them;
- ``reference/operations.md``: every fault and runbook action of the registry (:mod:`gameday.operations`),
  with its arguments, inverse, effect window and where it may be used.

The pages are never committed: ``mkdocs build`` makes them through the hook below (``hooks:`` in
mkdocs.yml), and ``python -m gameday.cli.reference DIR`` writes them as Markdown files for reading elsewhere.
Written by hand because mkdocs-click and its kin render a click tree, not typer's vendored click, and no
plugin knows gameday's registry; both pages are a plain walk of a data structure.
"""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args, get_origin

from pydantic import BaseModel

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

__all__ = ["PAGES", "Command", "commands", "cli_markdown", "operations_markdown", "files_markdown", "anchor", "write",
           "on_files"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def text(value: str) -> str:
    """Plain text made safe in Markdown, table cells included: nothing in it is read as markup."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(" ".join(value.split()), quote=False))


def code(value: str) -> str:
    """``value`` as an inline code span inside a table cell."""
    return "<code>" + html.escape(value, quote=False).replace("|", "&#124;") + "</code>"


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
    from gameday.errors import EXIT_ABORTED, EXIT_INVALID

    lines = ["# Command reference", "",
             "Generated from the `gameday` command tree each time this site is built: every command, argument "
             "and option, with the help `--help` prints. Every command exits 0 pass, 1 fail, "
             f"{EXIT_INVALID} invalid input or usage (one line on stderr, nothing started), 3 inconclusive, "
             f"{EXIT_ABORTED} aborted.", ""]
    for c in commands(app):
        lines += _command_section(c)
    return "\n".join(lines)


def _meaning(info: Any, default: str, bounds: list[str]) -> str:
    """A field's description, then its default and bounds in brackets."""
    words = "; ".join([default, *bounds])
    return text(f"{info.description} ({words})" if info.description else words)


def _field_rows(model: Any) -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        kind = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
        bounds = [f"{k} {getattr(m, k)}" for m in info.metadata for k in ("ge", "gt", "le", "lt", "min_length")
                  if getattr(m, k, None) is not None]
        default = "required" if info.is_required() else f"default {info.default!r}"
        rows.append(f"| {code(name)} | {code(kind)} | {_meaning(info, default, bounds)} |")
    return rows


def _uses(name: str) -> list[str]:
    from gameday.drill import models
    from gameday.operations import OPERATIONS

    op = OPERATIONS[name]
    uses = []
    if name in models.FAULTS:
        uses.append("a drill's `fault:` and `prepare:`")
    elif op.role == "fault":
        uses.append("not a drill's `fault:` (a condition a run is set in)")
    if name in models.ACTIONS:
        uses.append("a runbook step's `call:` and a drill's `prepare:`")
    if op.chaos:
        when = ", ".join(f"{k}: {v}" for k, v in op.chaos_when.items())
        uses.append(f"Chaos Toolkit's `gameday.chaos.actions.{op.chaos}`" + (f" (`{when}`)" if when else ""))
    if op.lab_op:
        uses.append(f"the lab supervisor's `{op.lab_op}`")
    return uses


def _operation_section(name: str) -> list[str]:
    from gameday.operations import EFFECT_WITHIN_S, OPERATIONS

    op = OPERATIONS[name]
    lines = [f"### `{name}` {{#op-{name}}}", "", f"*{op.role}*: {text(op.summary)}.", ""]
    if op.inverse:
        args = ", ".join(op.inverse_args)
        lines.append(f"- undone by [`{op.inverse}`](#op-{op.inverse})" + (f" (given `{args}`)" if args else ""))
    if name in EFFECT_WITHIN_S:
        lines.append(f"- effect window: {EFFECT_WITHIN_S[name]:g} s of real time (scaled by the environment's "
                     "`time_scale`; a drill's `fault.effect_within_s` overrides it)")
    lines.append(f"- used in: {'; '.join(_uses(name))}")
    lines.append("")
    rows = _field_rows(op.args)
    if rows:
        lines += ["| argument | type | what it is |", "|---|---|---|", *rows, ""]
    else:
        lines += ["No arguments.", ""]
    return lines


def operations_markdown() -> str:
    """The list of operations, from the registry."""
    from gameday.operations import OPERATIONS

    lines = ["# Operations", "",
             "Generated from the operation registry (`gameday.operations`) each time this site is built. Every "
             "fault and runbook action is defined there once; drills, runbooks, experiments, `gameday plan` and "
             "`gameday recover` all read it. A fault's inverse is journaled before the fault is applied. "
             "Arguments may use `{primary_region}` and `{dr_region}`; a zone may be given by its letter on the lab.",
             "", "| operation | role | what it does |", "|---|---|---|"]
    lines += [f"| [`{n}`](#op-{n}) | {op.role} | {text(op.summary)} |" for n, op in OPERATIONS.items()]
    lines.append("")
    titles = {"fault": "Faults", "action": "Runbook actions", "inverse": "Inverses"}
    for role in dict.fromkeys(op.role for op in OPERATIONS.values()):
        lines += [f"## {titles.get(role, role.capitalize())}", ""]
        for name, op in OPERATIONS.items():
            if op.role == role:
                lines += _operation_section(name)
    return "\n".join(lines)


FILES = (
    ("environment file", "environments/*.yaml", "gameday.config", "Environment"),
    ("drill", "drills/*.yaml", "gameday.drill.models", "Drill"),
    ("runbook", "runbooks/*.yaml", "gameday.drill.models", "Runbook"),
)


def _models_in(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
    """The models a field's type holds, each with the suffix its keys take: ``.``, ``[].`` or ``.NAME.``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(".", annotation)]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (list, tuple, set, frozenset):
        return [("[].", m) for a in args for _, m in _models_in(a)]
    if origin is dict and len(args) == 2:
        return [(".NAME.", m) for _, m in _models_in(args[1])]
    return [found for a in args for found in _models_in(a)]


def _type_text(annotation: Any) -> str:
    if isinstance(annotation, type):
        return "mapping" if issubclass(annotation, BaseModel) else annotation.__name__
    words = re.sub(r"<class '(?:[\w]+\.)*(\w+)'>", r"\1", str(annotation)).replace("typing.", "")
    words = re.sub(r"\b(?:[a-z_]\w*\.)+([A-Z]\w*)", r"\1", words)
    for _, model in _models_in(annotation):  # a section: its keys follow
        words = re.sub(rf"\b{model.__name__}\b", "mapping", words)
    return words


def _default_text(info: Any) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    return "a section (below)" if isinstance(value, BaseModel) else f"default {value!r}"


def _key_rows(model: type[BaseModel], prefix: str, inside: tuple[type[BaseModel], ...] = ()) -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        key = prefix + (info.alias or name)
        bounds = [f"{k} {getattr(m, k)}" for m in info.metadata for k in ("ge", "gt", "le", "lt", "min_length", "pattern")
                  if getattr(m, k, None) is not None]
        rows.append(f"| {code(key)} | {code(_type_text(info.annotation))} | {_meaning(info, _default_text(info), bounds)} |")
        for suffix, sub in _models_in(info.annotation):
            if sub not in inside:
                rows += _key_rows(sub, key + suffix, (*inside, model))
    return rows


def files_markdown() -> str:
    """Every key of the files gameday reads, from the models that validate them."""
    import importlib

    lines = ["# File formats", "",
             "Generated from the models that validate each file (`pydantic`) each time this site is built: every key, "
             "its type, default and bounds. A key not listed here is an error (exit 2, naming the file and the key); "
             "`NAME` stands for a name of your choosing; `[]` for each item of a list; a required key is required in its "
             "section when the section is given. What each means, with examples: the guides.", ""]
    for title, where, module, model_name in FILES:
        model = getattr(importlib.import_module(module), model_name)
        lines += [f"## The {title} (`{where}`) {{#file-{model_name.lower()}}}", ""]
        if model.__doc__:
            lines += [text(model.__doc__), ""]
        lines += ["| key | type | what it is |", "|---|---|---|", *_key_rows(model, ""), ""]
    return "\n".join(lines)


PAGES: dict[str, Callable[[], str]] = {
    "reference/cli.md": cli_markdown,
    "reference/operations.md": operations_markdown,
    "reference/files.md": files_markdown,
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

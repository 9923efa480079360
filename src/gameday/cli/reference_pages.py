"""The reference pages generated from gameday's data: the operation registry, the models of its files and
the Python API (:mod:`gameday.cli.reference` adds the command reference and hands them all to mkdocs).

Plain walks of data structures, written by hand: no mkdocs plugin knows gameday's registry, and
mkdocstrings would be a plugin (and its handler) for one page of signatures.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel

__all__ = ["text", "code", "operations_markdown", "files_markdown", "api_markdown"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def text(value: str) -> str:
    """Plain text made safe in Markdown, table cells included: nothing in it is read as markup."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(" ".join(value.split()), quote=False))


def code(value: str) -> str:
    """``value`` as an inline code span inside a table cell."""
    return "<code>" + html.escape(value, quote=False).replace("|", "&#124;") + "</code>"


def _meaning(info: Any, default: str, bounds: list[str]) -> str:
    """A field's description, then its default and bounds in brackets."""
    words = "; ".join([default, *bounds])
    return text(f"{info.description} ({words})" if info.description else words)


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
        uses.append(f"Chaos Toolkit's `gameday.chaos.actions.{name}`")
    if op.lab:
        uses.append(f"the lab's control API and `gameday lab {'fault ' if op.role == 'fault' else ''}{op.cli}`")
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
    rows = _key_rows(op.args, "")
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


def _docstring(doc: str) -> list[str]:
    """A docstring as Markdown: indented blocks as Python code, ``literals`` as code, the rest as plain text."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", doc.strip()):
        if all(line.startswith("    ") for line in para.splitlines()):
            out += ["```python", *(line[4:] for line in para.splitlines()), "```", ""]
            continue
        para = re.sub(r":\w+:`~?([^`]+)`", r"``\1``", " ".join(para.split()))
        pieces = re.split(r"``(.+?)``", para)
        out += ["".join(code(p) if i % 2 else p[:len(p) - len(p.lstrip())] + text(p) + p[len(p.rstrip()):]
                        for i, p in enumerate(pieces)), ""]
    return out


def _default(value: Any) -> str:
    if isinstance(value, Path):
        return f'Path("{value}")'
    if callable(value):
        return "..."  # a callback that does nothing
    return "[]" if repr(value) == "<factory>" else repr(value)


def _signature(name: str, obj: Any) -> str:
    """``name(...)`` one parameter a line, annotations as written in the source."""
    import inspect

    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return f"{name}(...)"
    params, star = [], False
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star:
            params.append("*")
        star = star or p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL)
        stars = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
        words = stars + p.name
        if p.annotation is not p.empty:
            words += f": {p.annotation if isinstance(p.annotation, str) else inspect.formatannotation(p.annotation)}"
        if p.default is not p.empty:
            words += f" = {_default(p.default)}"
        params.append(words)
    returns = sig.return_annotation
    tail = "" if returns is sig.empty or inspect.isclass(obj) else f" -> {returns}"
    body = "".join(f"\n    {p}," for p in params)
    return f"{'class ' if inspect.isclass(obj) else ''}{name}({body}{chr(10) if params else ''}){tail}"


def api_markdown() -> str:
    """The Python API: every name ``gameday.api`` exports, with its signature and docstring."""
    import inspect

    from gameday import api

    lines = ["# Python API reference", "",
             "Generated from `gameday.api` each time this site is built: every name it exports (`__all__`), with its "
             "signature and docstring. Examples: [the Python API](../python-api.md).", ""]
    for name in api.__all__:
        obj = getattr(api, name)
        doc = inspect.getdoc(obj) or ""
        if doc.startswith(f"{name}("):  # a dataclass's generated docstring: the signature again
            doc = ""
        lines += [f"## `{name}` {{#api-{name.lower()}}}", "", "```python", _signature(name, obj), "```", ""]
        lines += _docstring(doc)
    return "\n".join(lines)

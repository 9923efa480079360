"""The documentation site: it builds with warnings as errors, its command reference names every command,
argument and option the CLI has (walked here from the click tree, independently of the generator), its
list of operations is the registry's, and no page needs the internet to render."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, get_args

import pytest
import typer.main
from mkdocs.commands.build import build
from mkdocs.config import load_config
from pydantic import BaseModel

from gameday.cli import app
from gameday.config import Environment
from gameday.drill.models import Drill, Runbook
from gameday.operations import EFFECT_WITHIN_S, OPERATIONS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built as `make docs` builds it (strict: a warning aborts the build)."""
    out = tmp_path_factory.mktemp("site")
    build(load_config(str(ROOT / "mkdocs.yml"), site_dir=str(out), strict=True))
    return out


def _plain(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _sections(page: str, prefix: str) -> dict[str, str]:
    """The text under each heading whose id starts with ``prefix``, up to the next such heading."""
    parts = re.split(rf'<h[1-6] id="({prefix}[^"]+)"', page)
    return {parts[i]: _plain(parts[i + 1]) for i in range(1, len(parts), 2)}


def _tree(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out = [(path, cmd)]
    for name, sub in getattr(cmd, "commands", {}).items():
        if not sub.hidden:
            out += _tree(sub, (*path, name))
    return out


def _has(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def test_every_command_argument_and_option_is_in_the_reference(site: Path) -> None:
    sections = _sections((site / "reference" / "cli.html").read_text(encoding="utf-8"), "cmd-")
    tree = _tree(typer.main.get_command(app))
    assert len(tree) > 40  # the whole tree, groups and their commands
    missing = []
    for path, cmd in tree:
        key = "cmd-" + ("-".join(path) or "gameday")
        text = sections.get(key)
        if text is None:
            missing.append(f"command gameday {' '.join(path)}")
            continue
        if cmd.help and " ".join(cmd.help.split()[:8]) not in text:
            missing.append(f"help of gameday {' '.join(path)}")
        for param in cmd.params:
            if getattr(param, "hidden", False):
                continue
            if param.param_type_name == "option":
                names = [*param.opts, *param.secondary_opts]
            else:  # an argument is shown by its metavar, as in the usage line
                names = [param.metavar or param.name]
            missing += [f"{n} of gameday {' '.join(path)}" for n in names if not _has(text, n)]
            if param.help and " ".join(param.help.split()) not in text:
                missing.append(f"help of {names[0]} of gameday {' '.join(path)}")
    assert not missing, f"not in the command reference: {missing}"
    assert set(sections) == {"cmd-" + ("-".join(p) or "gameday") for p, _ in tree}, "a section for a command the CLI lacks"


def test_every_operation_of_the_registry_is_listed_with_its_arguments(site: Path) -> None:
    sections = _sections((site / "reference" / "operations.html").read_text(encoding="utf-8"), "op-")
    assert set(sections) == {f"op-{name}" for name in OPERATIONS}
    for name, op in OPERATIONS.items():
        text = sections[f"op-{name}"]
        assert " ".join(op.summary.split()) in text, name
        for field, info in op.args.model_fields.items():
            assert _has(text, field), (name, field)
            assert (info.description or "") in text, (name, field)
        if op.inverse:
            assert f"undone by {op.inverse}" in text, name
        if name in EFFECT_WITHIN_S:
            assert f"effect window: {EFFECT_WITHIN_S[name]:g} s" in text, name


def test_no_page_loads_anything_from_the_internet(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    remote = []
    for page in pages:
        markup = page.read_text(encoding="utf-8")
        for tag, attr in re.findall(r"<(script|link|img|iframe|source)\b[^>]*?\b(?:src|href)=\"([^\"]*)\"", markup):
            if re.match(r"(?i)([a-z][a-z0-9+.-]*:|//)", attr) and not attr.startswith("data:"):
                remote.append(f"{page.relative_to(site)}: <{tag}> {attr}")
    for sheet in site.rglob("*.css"):
        remote += [f"{sheet.name}: {u}" for u in re.findall(r"(?:@import|url\()\s*[\"']?(https?:[^\"')]+)",
                                                              sheet.read_text(encoding="utf-8"))]
    assert not remote, remote


def test_the_readme_and_the_pages_link_only_to_what_exists() -> None:
    """GitHub renders README.md and docs/*.md directly: their relative links must resolve there too."""
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
            path = target.split("#")[0]
            if not path or re.match(r"[a-z]+:", path) or path.startswith("reference/"):
                continue  # a remote URL, an anchor, or a page generated at build time
            if not (doc.parent / path).exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_no_page_shows_markdown_it_did_not_render(site: Path) -> None:
    """Python-Markdown is stricter than GitHub: a list or table not set off by a blank line stays raw text."""
    raw = []
    for page in sorted(site.rglob("*.html")):
        for para in re.findall(r"<p>(.*?)</p>", page.read_text(encoding="utf-8"), flags=re.S):
            raw += [f"{page.relative_to(site)}: {line.strip()[:60]}" for line in para.splitlines()[1:]
                    if re.match(r"\s*([-*+] |\d+\. |\|.*\|\s*$|```)", line)]
    assert not raw, raw


def _prose_joined(text: str) -> str:
    """Lines of prose joined (an inline `gameday ...` may wrap); in code blocks only continued lines."""
    parts = re.split(r"(```.*?```)", text, flags=re.S)
    return "".join(p.replace("\\\n", " ") if p.startswith("```") else p.replace("\n", " ") for p in parts)


def test_every_gameday_command_line_in_the_docs_names_a_real_command_and_options() -> None:
    root = typer.main.get_command(app)
    wrong = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for m in re.finditer(r"gameday((?: [a-z][a-z0-9-]*)+)([^`\n#|]*)", _prose_joined(doc.read_text(encoding="utf-8"))):
            cmd, path = root, []
            for word in m.group(1).split():
                subs = getattr(cmd, "commands", None)
                if not subs:
                    break
                if word not in subs:  # "gameday journal" in prose is no command; "gameday lab bogus" is one gone wrong
                    wrong += [f"{doc.name}: gameday {' '.join(path)} {word}: no such command"] if path else []
                    break
                if getattr(subs[word], "hidden", False):  # an old name: it runs, warning; the docs teach the one name
                    wrong.append(f"{doc.name}: gameday {' '.join([*path, word])}: an old, hidden name")
                    break
                cmd, path = subs[word], [*path, word]
            if not path or getattr(cmd, "commands", None):
                continue
            options = {o for p in cmd.params for o in [*p.opts, *p.secondary_opts]} | {"--help"}
            wrong += [f"{doc.name}: gameday {' '.join(path)} {o}: no such option"
                      for o in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", m.group(2)) if o not in options]
    assert not wrong, wrong


def _field_names(model: type[BaseModel], seen: tuple[type[BaseModel], ...] = ()) -> set[str]:
    """Every key a model and the models inside it accept."""
    def models(annotation: Any) -> list[type[BaseModel]]:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return [annotation]
        return [m for a in get_args(annotation) for m in models(a)]

    out = set()
    for name, info in model.model_fields.items():
        out.add(info.alias or name)
        for sub in models(info.annotation):
            if sub not in seen:
                out |= _field_names(sub, (*seen, model))
    return out


def test_every_key_of_the_environment_drill_and_runbook_files_is_in_the_file_reference(site: Path) -> None:
    page = (site / "reference" / "files.html").read_text(encoding="utf-8")
    parts = re.split(r'<h2 id="(file-[^"]+)"', page)
    sections = {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}
    assert set(sections) == {"file-environment", "file-drill", "file-runbook"}
    for key, model in (("file-environment", Environment), ("file-drill", Drill), ("file-runbook", Runbook)):
        keys = [html.unescape(k) for k in re.findall(r"<tr>\s*<td><code>([^<]+)</code>", sections[key])]
        listed = {segment for k in keys for segment in re.split(r"\[\]\.|\.", k)}
        missing = _field_names(model) - listed
        assert not missing, (key, sorted(missing))
        assert "name" in listed and len(keys) > 5, key


def test_every_name_of_the_python_api_is_in_its_reference_with_its_parameters(site: Path) -> None:
    import inspect

    from gameday import api

    sections = _sections((site / "reference" / "api.html").read_text(encoding="utf-8"), "api-")
    assert set(sections) == {f"api-{name.lower()}" for name in api.__all__}
    for name in api.__all__:
        text = sections[f"api-{name.lower()}"]
        params = inspect.signature(getattr(api, name)).parameters
        assert all(_has(text, p) for p in params), (name, [p for p in params if not _has(text, p)])
        assert "0x" not in text, name  # no object address: the page is the same at every build

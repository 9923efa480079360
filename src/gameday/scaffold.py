"""The standard gameday folder, from the templates the package ships (``gameday/templates``: the repository's
own drills, runbooks, experiments, load profiles and environments, which are the same files, plus a Makefile,
a CI workflow example and a README)."""

from __future__ import annotations

from fnmatch import fnmatch
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from gameday.errors import ConfigError

__all__ = ["SHIPPED", "standard_files", "folder_files", "check_writable", "write_folder"]

# What the package ships of each folder (pyproject.toml's package-data says the same; a test compares the
# built wheel with this): an environment of a developer's own (environments/aws-staging.yaml) never ships.
SHIPPED: dict[str, tuple[str, ...]] = {
    "drills": ("*.yaml",),
    "runbooks": ("*.yaml", "*.md"),
    "experiments": ("*.yaml",),
    "loadprofiles": ("*.py",),
    "environments": ("local.yaml", "*.example.yaml"),
}
# the folder's own files: template name -> name in the folder
_FOLDER = {"Makefile": "Makefile", "README.md": "README.md", "gameday-ci.yml": "gameday-ci.yml",
           "gitignore": ".gitignore"}


def _templates() -> Traversable:
    return files("gameday") / "templates"


def standard_files() -> dict[str, str]:
    """The standard drills, runbooks, experiments, profiles and environments: relative path -> text."""
    out: dict[str, str] = {}
    for folder, patterns in SHIPPED.items():
        for f in sorted(_templates().joinpath(folder).iterdir(), key=lambda t: t.name):
            if f.is_file() and any(fnmatch(f.name, p) for p in patterns):
                out[f"{folder}/{f.name}"] = f.read_text()
    return out


def folder_files(values: dict[str, str]) -> dict[str, str]:
    """The Makefile, CI workflow example, README and .gitignore, with ``@KEY@`` replaced from ``values``."""
    out = {}
    for name, dest in _FOLDER.items():
        text = _templates().joinpath("folder", name).read_text()
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        out[dest] = text
    return out


def check_writable(target: Path, *, force: bool) -> None:
    """Refuse a target that exists as a file, or a folder with anything in it (unless ``force``)."""
    if target.exists() and not target.is_dir():
        raise ConfigError("exists and is not a folder", file=str(target))
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ConfigError("the folder is not empty (--force writes into it, replacing files of the same name)",
                          file=str(target))


def write_folder(target: Path, content: dict[str, str]) -> list[Path]:
    """Write ``content`` (relative path -> text) under ``target``; the written paths."""
    written = []
    for rel, text in content.items():
        p = target / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        written.append(p)
    return written

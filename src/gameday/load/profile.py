"""Which way a locustfile is written, read without running it (``ast``): the gameday engine's way (its
users come from ``gameday.load.users``: open model, rate-driven) or the plain Locust way (``HttpUser``,
``FastHttpUser`` with tasks: a closed model, run as Locust runs it). No ``locust`` import here."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final, Literal

from gameday.errors import ConfigError

__all__ = ["profile_kind", "ENGINE", "CLOSED"]

ENGINE: Final = "engine"
CLOSED: Final = "closed"


def profile_kind(path: Path) -> Literal["engine", "closed"]:
    """ENGINE when the file imports gameday's load users, CLOSED otherwise; ConfigError if it is not Python."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as exc:
        raise ConfigError(f"not a Python locustfile: {exc.msg} (line {exc.lineno})", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the load profile: {exc}", file=str(path)) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gameday.load"):
            return ENGINE
        if isinstance(node, ast.Import) and any(a.name.startswith("gameday.load") for a in node.names):
            return ENGINE
    return CLOSED

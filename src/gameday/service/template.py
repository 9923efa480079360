"""``{{placeholder}}`` templates and ``${VAR}`` values of a service description, checked before anything runs.

Written by hand rather than with Jinja: a template here is rendered for every event of every request
of a load test, so it is compiled once into literal pieces and placeholder names and rendered by a
join (Jinja's rendering costs tens of microseconds per call); and the placeholder set is closed, so an
unknown name is an error naming the file and field, not an empty string.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from gameday.errors import ConfigError

__all__ = ["Template", "expand_env", "EVENT_NAMES", "BODY_NAMES", "READ_NAMES", "PATH_NAMES", "HEADER_NAMES"]

_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

EVENT_NAMES = frozenset({"event_id", "event_uuid", "seq", "ts", "iso_ts", "run_id"})
BODY_NAMES = frozenset({"events", "ts", "iso_ts", "run_id"})
READ_NAMES = frozenset({"event_id", "event_uuid", "seq", "run_id"})
PATH_NAMES = frozenset({"run_id"})
HEADER_NAMES = frozenset({"run_id"})


class Template:
    """A text with ``{{name}}`` placeholders, compiled to pieces: literals at even, names at odd indexes."""

    def __init__(self, text: str, allowed: frozenset[str], *, file: str | None = None, field: str = "") -> None:
        self.text = text
        self.pieces: list[str] = _PLACEHOLDER.split(text)
        self.names = frozenset(self.pieces[1::2])
        unknown = sorted(self.names - allowed)
        if unknown:
            raise ConfigError(f"unknown placeholder {{{{{unknown[0]}}}}}; this field knows: "
                              f"{', '.join('{{' + n + '}}' for n in sorted(allowed))}", file=file, field=field)

    def render(self, values: Mapping[str, str]) -> str:
        out = list(self.pieces)
        out[1::2] = [values[n] for n in self.pieces[1::2]]
        return "".join(out)


def expand_env(value: str, *, file: str | None = None, field: str = "", environ: Mapping[str, str] | None = None) -> str:
    """``${VAR}`` from the process environment; an unset variable is a ConfigError naming file and field."""
    env = os.environ if environ is None else environ

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in env:
            raise ConfigError(f"${{{name}}} is not set in the environment", file=file, field=field)
        return env[name]

    return _ENV.sub(one, value)

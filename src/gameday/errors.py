"""One exception tree for everything a user can cause or meet.

    GamedayError                (exit 1 unless a subclass says otherwise)
    ├── ConfigError             invalid input or usage: names the file and the field (exit 2)
    ├── LabError                the local lab could not do what was asked (exit 1)
    ├── DriverError             a Target driver call failed; lower-level errors are
    │                           translated once, at the driver boundary (exit 1)
    └── Aborted                 a safety stop or a signal ended the run after rollbacks (exit 4)

Exit codes, for every command: 0 pass, 1 fail, 2 invalid input, 3 inconclusive, 4 aborted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_INVALID = 2
EXIT_INCONCLUSIVE = 3
EXIT_ABORTED = 4

__all__ = [
    "EXIT_PASS", "EXIT_FAIL", "EXIT_INVALID", "EXIT_INCONCLUSIVE", "EXIT_ABORTED",
    "GamedayError", "ConfigError", "LabError", "DriverError", "Aborted", "in_environment_file",
]


class GamedayError(Exception):
    """Base of every error gameday raises on purpose."""

    exit_code = EXIT_FAIL


class ConfigError(GamedayError):
    """A file, field or option a user wrote is invalid. Nothing was changed."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.field = field
        where = ": ".join(p for p in (file, field) if p)
        super().__init__(f"{where}: {message}" if where else message)


_ENVIRONMENT_SECTIONS = ("aws.", "service.", "lab.")


@contextmanager
def in_environment_file(file: str | Path) -> Iterator[None]:
    """A ConfigError about a field of the environment (``aws.…``, ``service.…``) raised where the file is not
    known (the AWS driver checks what it resolves) names the file as well: one line, the file and the field."""
    try:
        yield
    except ConfigError as exc:
        if exc.file is None and exc.field and exc.field.startswith(_ENVIRONMENT_SECTIONS):
            raise ConfigError(exc.message, file=str(file), field=exc.field) from None
        raise


class LabError(GamedayError):
    """The local lab could not start, answer or apply a change."""


class DriverError(GamedayError):
    """A Target driver call failed (AWS, Kubernetes or the lab)."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        self.code = code
        super().__init__(f"{message} [{code}]" if code else message)


class Aborted(GamedayError):
    """A stop condition, SIGINT or SIGTERM ended the run; rollbacks ran."""

    exit_code = EXIT_ABORTED

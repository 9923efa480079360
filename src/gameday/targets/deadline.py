"""How long a driver may wait for an action's effect: the runbook step's ``timeout_s``, handed down as a
context variable (the step sets it around its call; the driver's waits read it), so no Target method
needs a timeout argument and a driver called outside a step falls back to its own default."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["deadline", "remaining"]

_DEADLINE: ContextVar[float | None] = ContextVar("gameday_deadline", default=None)


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Waits inside this block end at most ``seconds`` from now (None: the driver's default)."""
    token = _DEADLINE.set(None if seconds is None else time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def remaining(default_s: float) -> float:
    """Seconds left for a wait: until the step's deadline, else ``default_s``."""
    end = _DEADLINE.get()
    return default_s if end is None else max(0.0, end - time.monotonic())

"""Signals while a drill runs: SIGINT and SIGTERM abort the run (its inverses still run), and while it cleans
up a second one is noted and ignored, so the undo is never cut short."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gameday.errors import Aborted

__all__ = ["signals_abort", "signals_deferred"]


def _raise_aborted(signum: int, frame: object) -> None:
    raise Aborted(f"received {signal.Signals(signum).name}")


@contextmanager
def signals_abort() -> Iterator[None]:
    """SIGINT and SIGTERM raise Aborted in the runner (main thread only; elsewhere they are left alone)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_aborted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """While cleaning up, a second SIGINT/SIGTERM must not cut the undo short: note it and go on."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, lambda s, f: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

"""The journal: an append-only JSONL log of one run, fsynced per event; the single source of truth.

Reports and verdicts are computed from it alone (``read_journal``), so they can be regenerated
offline from a copy of the file.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gameday.errors import ConfigError

__all__ = ["Event", "Journal", "read_journal", "iter_journal"]


@dataclass(frozen=True)
class Event:
    seq: int
    t_mono_ns: int
    t_wall: float
    kind: str  # e.g. drill.start, fault.intent, fault.applied, step.start, probe, heartbeat.ack
    actor: str  # runner | load | probe | heartbeat | target | responder
    value: dict[str, Any]
    error: str | None = None


class Journal:
    """Thread-safe appender. Each event is flushed and fsynced before ``record`` returns."""

    def __init__(self, path: Path, *, fsync: bool = True) -> None:
        self.listeners: list[Callable[[Event], None]] = []  # e.g. Grafana annotations, runner metrics
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._seq = 0
        self._fsync = fsync

    def record(self, kind: str, actor: str, value: dict[str, Any] | None = None, *,
               error: str | None = None, t_wall: float | None = None) -> Event:
        with self._lock:
            self._seq += 1
            ev = Event(self._seq, time.monotonic_ns(), t_wall if t_wall is not None else time.time(),
                       kind, actor, value or {}, error)
            self._f.write(json.dumps(asdict(ev), separators=(",", ":")) + "\n")
            self._f.flush()
            if self._fsync:
                os.fsync(self._f.fileno())
        for listen in self.listeners:  # after the event is durable; a listener never breaks the run
            try:
                listen(ev)
            except Exception as exc:  # noqa: BLE001
                print(f"warning: journal listener {listen!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return ev

    def close(self) -> None:
        with self._lock:
            self._f.close()


def read_journal(path: str | Path) -> list[Event]:
    """All events of a journal file; a torn last line (a crash mid-write) is ignored."""
    return list(iter_journal(path))


def iter_journal(path: str | Path) -> Iterator[Event]:
    """The events of a journal file, streamed (memory: one line, whatever the journal's length); a torn last
    line is ignored, a bad line anywhere else is a ConfigError naming it."""
    path = Path(path)
    try:
        f = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("journal not found", file=str(path)) from None
    except OSError as exc:  # a folder, no permission: one line, not a traceback
        raise ConfigError(f"cannot read the journal: {exc.strerror or exc}", file=str(path)) from None
    bad = 0  # a line that did not parse: an error unless it turns out to be the last one
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            if bad:
                raise ConfigError(f"line {bad} is not a journal event", file=str(path))
            try:
                yield Event(**json.loads(line))
            except (json.JSONDecodeError, TypeError):
                bad = n

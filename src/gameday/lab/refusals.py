"""The lab's watch on connection refusals: PostgreSQL's own log says when it turned a client away for want of a
connection slot ("too many clients already", "remaining connection slots are reserved ..."); each instance's
refusals become lab events (``gameday lab events``), at most one per instance per ``every_s`` with the count
since the last, so a connection storm is visible without flooding the event list."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.lab.postgres import REFUSED_MARKERS

__all__ = ["RefusalWatch", "refusals_in"]

# log_line_prefix '%m [%p] %q%u@%d ': the role is the word before '@' after the pid
_LINE = re.compile(r"\[\d+\] (?P<user>[^@\s]*)@\S* FATAL:\s+(?P<msg>.*)$")


def refusals_in(text: str) -> tuple[dict[str, int], str | None]:
    """Refusals per role in a piece of PostgreSQL log, and the first refusal's message."""
    by_role: dict[str, int] = {}
    first: str | None = None
    for line in text.splitlines():
        if not any(m in line for m in REFUSED_MARKERS):
            continue
        found = _LINE.search(line)
        role = (found.group("user") if found else "") or "?"
        by_role[role] = by_role.get(role, 0) + 1
        if first is None:
            first = (found.group("msg") if found else line).strip()[:200]
    return by_role, first


@dataclass
class _Tail:
    path: Path
    offset: int = 0
    carry: str = ""
    pending: dict[str, int] = field(default_factory=dict)
    message: str | None = None
    last_emit: float = float("-inf")

    def read(self) -> str:
        """Whole new lines since the last read (a partial last line waits for its end)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return ""
        if size < self.offset:  # a new file
            self.offset, self.carry = 0, ""
        if size == self.offset:
            return ""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read(min(size - self.offset, 4 << 20))
        self.offset += len(data)
        text = self.carry + data.decode("utf-8", errors="replace")
        text, _, self.carry = text.rpartition("\n")
        return text


@dataclass
class RefusalWatch:
    logs: dict[str, Path]  # instance -> its server log
    record: Callable[[str, dict[str, Any]], None]
    max_connections: int
    every_s: float = 5.0
    _tails: dict[str, _Tail] = field(default_factory=dict)

    def start_at_end(self) -> None:
        """Only what the servers log from now on counts."""
        for name, path in self.logs.items():
            self._tails[name] = _Tail(path, path.stat().st_size if path.exists() else 0)

    def poll(self, now: float | None = None) -> None:
        """Read what the logs gained; journal the refusals due (called about once a second)."""
        now = time.monotonic() if now is None else now
        for name, path in self.logs.items():
            tail = self._tails.setdefault(name, _Tail(path))
            by_role, first = refusals_in(tail.read())
            for role, n in by_role.items():
                tail.pending[role] = tail.pending.get(role, 0) + n
            tail.message = tail.message or first
            if tail.pending and now - tail.last_emit >= self.every_s:
                self.record("rds.connections_refused", {
                    "instance": name, "refused": sum(tail.pending.values()), "by_role": dict(tail.pending),
                    "max_connections": self.max_connections, "message": tail.message})
                tail.pending, tail.message, tail.last_emit = {}, None, now

"""The generator's ``progress.jsonl`` read as it grows: each read costs what was appended since the last one,
never the file's whole length (a 24-hour soak of 8 workers writes ~700 000 lines).

A line is taken once its newline is there: a line still being written (torn) waits for the next read. A complete
line that is not JSON (a disk that filled up, a hand edit) is skipped and counted, never a reason to stop
reading what follows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["ProgressTail", "iter_progress", "last_records"]

CHUNK = 4 << 20  # at most this many bytes per read: a reader that fell behind catches up in bounded steps


class ProgressTail:
    """Keeps its offset in the file; ``read_new`` returns the records appended since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self.records = 0  # records returned so far
        self.skipped = 0  # complete lines that were not JSON

    def read_new(self, limit: int = CHUNK) -> list[dict[str, Any]]:
        """The complete records appended since the last call (at most ``limit`` bytes of them per call)."""
        try:
            with open(self.path, "rb") as f:
                if os.fstat(f.fileno()).st_size < self.offset:  # the file was replaced: start again
                    self.offset = 0
                f.seek(self.offset)
                data = f.read(limit)
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) >= limit:  # a single line longer than a chunk: read it whole
                return self.read_new(limit * 2)
            return []
        self.offset += end + 1
        out = []
        for line in data[:end].split(b"\n"):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                self.skipped += 1
        self.records += len(out)
        return out

    def read_all_new(self) -> list[dict[str, Any]]:
        """Every complete record not yet returned (the reader catches up to the end of the file)."""
        out: list[dict[str, Any]] = []
        while True:
            got = self.read_new()
            out += got
            if not got:
                return out


def iter_progress(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete record of the file, streamed (memory: one chunk, not the file)."""
    tail = ProgressTail(path)
    while True:
        got = tail.read_new()
        if not got:
            return
        yield from got


def last_records(path: Path, n: int, *, block: int = 64 << 10) -> list[dict[str, Any]]:
    """The last ``n`` complete records of the file, read from its end (cost: those lines, not the file)."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return []
    with f:
        size = f.seek(0, os.SEEK_END)
        pos, data = size, b""
        while pos > 0 and data.count(b"\n") <= n + 1:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            data = f.read(step) + data
    lines = data.split(b"\n")
    complete = lines[:-1] if not data.endswith(b"\n") else lines  # the last one may be torn
    if pos > 0:
        complete = complete[1:]  # the first one may be cut by the block boundary
    out = []
    for line in complete:
        if line.strip():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out[-n:] if n > 0 else []

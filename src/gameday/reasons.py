"""Why requests failed: one short reason string per failure class, tallied with counts and first/last times.

A reason is ``"<op>: HTTP <status>: <first 200 characters of the body>"`` or ``"<op>: <ExceptionClass>:
<message>"`` (``op`` is ``write``, ``read`` or ``request``), with the service's secrets redacted. A
:class:`ReasonTally` aggregates them so a long outage costs the journal one ``failures`` event per interval
per source, not one line per failed request:

    {"kind": "failures", "actor": "probe" | "load" | ..., "value": {"source": "probe",
     "reasons": {"write: HTTP 401: bad token": {"count": 15, "first": 1717.2, "last": 1720.1}}}}

:func:`top_reasons` folds a journal's ``failures`` events back into one table (pure; reports use it), and
:func:`failure_cause` names the category of an error text (``too many connections``, ``refused``, ...).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["BODY_CHARS", "http_reason", "exc_reason", "redact", "ReasonTally", "Tallied", "top_reasons",
           "FAILURES", "CAUSES", "failure_cause"]

BODY_CHARS = 200
FAILURES = "failures"  # the journal event kind


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def http_reason(op: str, status: int, body: bytes | str = b"", secrets: Iterable[str] = ()) -> str:
    """``write: HTTP 503: upstream busy`` (the body's first 200 characters, on one line, secrets redacted)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = _one_line(redact(text[:BODY_CHARS * 4], secrets))[:BODY_CHARS]
    return f"{op}: HTTP {status}: {text}" if text else f"{op}: HTTP {status}"


# aiohttp's connection errors carry the SSL context's repr (a memory address that differs per process, so one
# cause would tally as several) and "[None]" when the OS gave no message: what a reader needs is "over TLS"
_NOISE = ((re.compile(r" ssl:<[^>]*>"), " (TLS)"), (re.compile(r" ssl:(default|True)\b"), " (TLS)"),
          (re.compile(r" ssl:(None|False)\b"), ""), (re.compile(r" \[None\]"), ""), (re.compile(r"\[Errno None\] "), ""),
          (re.compile(r" at 0x[0-9a-f]+"), ""))


def exc_reason(op: str, exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """``write: ClientConnectorError: Cannot connect to host 127.0.0.1:9 ...`` (class and message)."""
    msg = redact(str(exc), secrets)
    for pattern, repl in _NOISE:
        msg = pattern.sub(repl, msg)
    msg = _one_line(msg)[:BODY_CHARS]
    name = type(exc).__name__
    return f"{op}: {name}: {msg}" if msg else f"{op}: {name}"


@dataclass
class Tallied:
    reason: str
    count: int
    first: float  # wall time of the first failure of this class
    last: float  # wall time of the last one

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "first": self.first, "last": self.last}


class ReasonTally:
    """Thread-safe counts per reason. ``drain()`` returns what was added since the last drain (for periodic
    journaling); ``total()`` everything since the start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: dict[str, Tallied] = {}
        self._all: dict[str, Tallied] = {}

    def add(self, reason: str, t: float, count: int = 1) -> None:
        with self._lock:
            for book in (self._since, self._all):
                cur = book.get(reason)
                if cur is None:
                    book[reason] = Tallied(reason, count, t, t)
                else:
                    cur.count += count
                    cur.first, cur.last = min(cur.first, t), max(cur.last, t)

    def merge(self, reasons: dict[str, dict[str, Any]]) -> None:
        """Fold in another tally's ``drain()`` (e.g. a load worker's, carried by its progress line)."""
        for reason, v in reasons.items():
            self.add(reason, v["first"], v["count"])
            self.add(reason, v["last"], 0)

    def drain(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            out = {r: v.as_dict() for r, v in self._since.items()}
            self._since = {}
        return out

    def total(self) -> list[Tallied]:
        with self._lock:
            return sorted((Tallied(v.reason, v.count, v.first, v.last) for v in self._all.values()),
                          key=lambda v: (-v.count, v.first))


def top_reasons(events: Iterable[Any], *, source: str | None = None, t0: float | None = None,
                limit: int = 5) -> list[dict[str, Any]]:
    """The journal's ``failures`` events folded into the top ``limit`` reasons by count: reason, count, source,
    first and last (wall times, and relative to ``t0`` as ``first_s``/``last_s`` when given)."""
    book: dict[tuple[str, str], Tallied] = {}
    for e in events:
        if e.kind != FAILURES or (source is not None and e.value.get("source") != source):
            continue
        src = e.value.get("source", e.actor)
        for reason, v in e.value.get("reasons", {}).items():
            cur = book.get((src, reason))
            if cur is None:
                book[(src, reason)] = Tallied(reason, v["count"], v["first"], v["last"])
            else:
                cur.count += v["count"]
                cur.first, cur.last = min(cur.first, v["first"]), max(cur.last, v["last"])
    rows = sorted(book.items(), key=lambda kv: (-kv[1].count, kv[1].first))[:limit]
    out = []
    for (src, _), v in rows:
        row: dict[str, Any] = {"reason": v.reason, "source": src, "count": v.count, "first": v.first, "last": v.last}
        if t0 is not None:
            row["first_s"], row["last_s"] = round(v.first - t0, 3), round(v.last - t0, 3)
        out.append(row)
    return out


# the category of a failure, by what its text says (first match wins): what a reader acts on
CAUSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("too many connections", ("too many clients", "too many connections", "remaining connection slots")),
    ("no primary", ("no db instance is primary", "no primary")),
    ("refused", ("connection refused", "connect call failed", "connectionrefused", "cannot connect to host")),
    ("timed out", ("timeout", "timed out", "no answer within")),
    ("authentication", ("password authentication failed", "http 401", "http 403")),
)


def failure_cause(text: str) -> str:
    """``too many connections``, ``no primary``, ``refused``, ``timed out``, ``authentication``, or ``error``."""
    low = text.lower()
    return next((name for name, words in CAUSES if any(w in low for w in words)), "error")

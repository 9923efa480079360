"""Event ids and the ledger that records the outcome of every one of them.

Ids are a run prefix and a counter: ``{prefix}-{n:012d}`` (``{{event_id}}``), or a UUID whose last 12
hex digits are the counter (``{{event_uuid}}``, for APIs that demand UUIDs). Either form is fixed-width,
so requests can be pre-encoded, and maps back to the counter, so the ledger records runs of ids, not ids.

Ledger lines (text, one per run of consecutive ids with the same outcome and ack time bucket):

    R <a|f|i> <prefix> <width> <first> <count> [<t_wall>]     ids {prefix}-{n:0width}
    U <a|f|i> <uuid prefix> <first> <count> [<t_wall>]         ids {uuid prefix}{n:012x}

``a`` acknowledged, ``f`` failed (a definite refusal), ``i`` indeterminate (no answer, or a 504).
``t_wall`` is when the answer came (the drill's ledger-based RPO needs it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["IdScheme", "LedgerRun", "read_ledger", "ledger_runs", "ack_times", "outcome_series", "ACKED", "FAILED",
           "INDETERMINATE"]

ACKED, FAILED, INDETERMINATE = "a", "f", "i"
WIDTH = 12


@dataclass(frozen=True)
class IdScheme:
    prefix: str
    uuid: bool = False  # the templates use {{event_uuid}}: the ledger and present_query see UUIDs

    @property
    def uuid_prefix(self) -> str:
        h = hashlib.sha256(self.prefix.encode()).hexdigest()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-"

    def event_id(self, n: int) -> str:
        return f"{self.prefix}-{n:0{WIDTH}d}"

    def event_uuid(self, n: int) -> str:
        return f"{self.uuid_prefix}{n:012x}"

    def ledger_id(self, n: int) -> str:
        return self.event_uuid(n) if self.uuid else self.event_id(n)

    def ledger_line(self, mark: str, first: int, count: int, t: float | None = None) -> str:
        tail = f" {t:.3f}" if t is not None else ""
        if self.uuid:
            return f"U {mark} {self.uuid_prefix} {first} {count}{tail}\n"
        return f"R {mark} {self.prefix} {WIDTH} {first} {count}{tail}\n"


@dataclass(frozen=True)
class LedgerRun:
    mark: str
    ids: list[str]
    t: float | None


def ledger_runs(path: Path) -> Iterator[LedgerRun]:
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "R":
            _, mark, prefix, width, first, count, *t = parts
            ids = [f"{prefix}-{n:0{int(width)}d}" for n in range(int(first), int(first) + int(count))]
        elif parts[0] == "U":
            _, mark, uprefix, first, count, *t = parts
            ids = [f"{uprefix}{n:012x}" for n in range(int(first), int(first) + int(count))]
        elif len(parts) >= 2 and parts[0] in (ACKED, FAILED, INDETERMINATE):  # one id per line
            mark, ids, t = parts[0], [parts[1]], parts[2:3]
        else:
            continue
        yield LedgerRun(mark, ids, float(t[0]) if t else None)


def read_ledger(path: Path) -> dict[str, set[str]]:
    """Event ids by outcome: acked, failed (a definite error), indeterminate (no answer, or 504)."""
    out: dict[str, set[str]] = {ACKED: set(), FAILED: set(), INDETERMINATE: set()}
    for run in ledger_runs(path):
        if run.mark in out:
            out[run.mark].update(run.ids)
    return out


def outcome_series(path: Path, bucket_s: float) -> dict[str, Any]:
    """Events per ``bucket_s`` by outcome, from the ledger's answer times: the drill timeline's fine-grained
    throughput (the load's own progress comes once a second)."""
    counts: dict[str, dict[int, int]] = {ACKED: {}, FAILED: {}, INDETERMINATE: {}}
    for run in ledger_runs(path):
        if run.t is not None and run.mark in counts:
            b = int(run.t // bucket_s)
            counts[run.mark][b] = counts[run.mark].get(b, 0) + len(run.ids)
    every = [b for c in counts.values() for b in c]
    if not every:
        return {}
    lo, hi = min(every), max(every)
    return {"bucket_s": bucket_s, "t_start": lo * bucket_s,
            **{name: [counts[m].get(b, 0) for b in range(lo, hi + 1)]
               for name, m in (("acked", ACKED), ("failed", FAILED), ("indeterminate", INDETERMINATE))}}


def ack_times(path: Path) -> dict[str, float]:
    """Acknowledged id -> when it was acknowledged (ids from lines without a time are left out)."""
    out: dict[str, float] = {}
    for run in ledger_runs(path):
        if run.mark == ACKED and run.t is not None:
            out.update(dict.fromkeys(run.ids, run.t))
    return out

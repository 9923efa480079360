"""The steady state a drill judges, checked after its warm-up and before its fault, as Chaos Toolkit checks a
hypothesis before the method: the last ``probe.consecutive`` probes answered ok (the streak recovery is
judged by), and the load's failed or unanswered requests at most :data:`LOAD_FAILED_MAX` in the later half of
the warm-up (its ticks from the middle of their span on: the state before the fault, not a cold start's first
requests, which a service opening its pools may time out; the whole warm-up's count is said beside it).

A service already failing is not faulted: the run journals ``steady.failed`` with a one-line summary of what
the service answered ("not healthy before the fault: write: HTTP 401: bad token × 15 in 3 s") and the top
failure reasons, and ends INCONCLUSIVE. A pure function of the journal's events so far.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gameday.journal import Event
from gameday.reasons import top_reasons

__all__ = ["LOAD_FAILED_MAX", "STEADY_FAILED", "STEADY_OK", "Steady", "steady_state"]

LOAD_FAILED_MAX = 0.01  # the share of the warm-up's load requests that may fail or go unanswered
STEADY_FAILED, STEADY_OK = "steady.failed", "steady.ok"  # journal event kinds


@dataclass(frozen=True)
class Steady:
    holds: bool
    summary: str
    reasons: list[dict[str, Any]] = field(default_factory=list)

    def value(self) -> dict[str, Any]:
        return {"summary": self.summary, "reasons": self.reasons}


def _secs(s: float) -> str:
    return f"{round(s, 1):g} s"


def _full(short: str, reasons: list[dict[str, Any]], source: str) -> str:
    """The tallied reason (with the body) a probe's short error stands for, when it was journaled already."""
    return next((r["reason"] for r in reasons if r["source"] == source and r["reason"].startswith(short)), short)


def _count(ticks: Sequence[Event]) -> tuple[int, int]:
    sent = sum(int(t.value.get("sent") or 0) for t in ticks)
    return sent, sum(int(t.value.get("errors") or 0) + int(t.value.get("indeterminate") or 0) for t in ticks)


def _load(events: Sequence[Event]) -> tuple[int, int, int, int, float]:
    """(sent, failed) of the later half of the load's ticks, of all of them, and that half's span (s)."""
    ticks = [e for e in events if e.kind == "load.tick"]
    if not ticks:
        return 0, 0, 0, 0, 0.0
    mid = (ticks[0].t_wall + ticks[-1].t_wall) / 2
    late = [e for e in ticks if e.t_wall >= mid]
    return (*_count(late), *_count(ticks), ticks[-1].t_wall - late[0].t_wall + 1.0)  # a tick is a second


def steady_state(events: Sequence[Event], *, consecutive: int, now: float) -> Steady:
    """Whether the warm-up's evidence (every probe, load tick and failure tally in ``events``) shows the steady
    state; ``now`` is the check's instant (the reasons' times are relative to it)."""
    probes = [e for e in events if e.kind == "probe"]
    reasons = top_reasons(events, t0=now)
    start = min((e.value.get("started", e.t_wall) for e in probes), default=now)
    window = _secs(max(0.0, now - start))
    last = probes[-consecutive:]
    failed = [e for e in probes if not e.value.get("ok")]
    sent, bad, all_sent, all_bad, span = _load(events)
    if not all_sent and not any(e.kind == "load.evidence" for e in events):
        return Steady(False, f"not healthy before the fault: the load had not been answered once in {window} "
                             "(the generator did not start, or nothing it sent came back)", reasons)
    if last and all(e.value.get("ok") for e in last) and len(last) == consecutive:
        if sent and bad / sent > LOAD_FAILED_MAX:
            top = next((r for r in reasons if r["source"] == "load"), None)
            why = f": {top['reason']} × {top['count']}" if top else ""
            return Steady(False, f"not healthy before the fault: the load's requests failed, {bad} of {sent} "
                                 f"({bad / sent:.0%}) in the warm-up's last {_secs(span)}{why}", reasons)
        return Steady(True, f"steady: the last {consecutive} probes ok, the load's requests failed {bad} of {sent} "
                            f"in the warm-up's last {_secs(span)} ({all_bad} of {all_sent} in all)", reasons)
    if not failed:
        return Steady(False, f"not healthy before the fault: only {len(probes)} probe(s) answered in {window} "
                             f"({consecutive} consecutive ok needed)", reasons)
    short, count = Counter(e.error or "failed" for e in failed).most_common(1)[0]
    return Steady(False, f"not healthy before the fault: {_full(short, reasons, 'probe')} × {count} in {window}",
                  reasons)

"""The client's evidence, read from journal events the same way live and offline.

Two sources journal it: ``probe`` events (one per synthetic write-then-read, at its end) and
``load.evidence`` events (the load's answers per bucket, a second's worth at a time, so up to a second
late). :class:`EvidenceStream` merges them in time order behind a *watermark*: a piece of evidence is fed
to the recovery machine only once every expected source has reported up to its time (a source silent for
``stale_s`` while another goes on stops holding the others back, and one that journaled ``load.failed``
is no longer expected). The live runner feeds the stream from a journal listener; the checker feeds it
every event of the file and flushes the rest. Both see the events in the same order, so a recovery
declared live is the one the report computes.

A load bucket fails when more than :data:`LOAD_FAIL_RATIO` of its answers were refused or went
unanswered (a service's background error rate below that does not read as an outage).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from gameday.journal import Event
from gameday.judge.recovery import Evidence, Recovery, RecoveryMachine

__all__ = ["LOAD_FAIL_RATIO", "STALE_S", "evidence_of", "EvidenceStream", "load_bucket_event", "stream_recovery"]

LOAD_FAIL_RATIO = 0.05
STALE_S = 3.0


def load_bucket_event(bucket_s: float, buckets: list[list[float]]) -> dict[str, Any]:
    """The value of a ``load.evidence`` event: ``buckets`` are ``[t_start, acked, failed, indeterminate]``
    (counts of requests answered in ``[t_start, t_start + bucket_s)``), complete and in time order."""
    return {"bucket_s": bucket_s, "buckets": buckets}


def evidence_of(e: Event) -> list[Evidence]:
    """The evidence one journal event carries (none for other kinds)."""
    if e.kind == "probe":
        started = e.value.get("started", e.t_wall - e.value.get("latency_ms", 0) / 1000)
        return [Evidence(e.t_wall, bool(e.value["ok"]), "probe", started)]
    if e.kind == "load.evidence":
        width = float(e.value["bucket_s"])
        out = []
        for t_start, acked, failed, indet in e.value["buckets"]:
            answers = acked + failed + indet
            if answers:
                out.append(Evidence(round(t_start + width, 6), (failed + indet) <= LOAD_FAIL_RATIO * answers,
                                    "load", t_start))
        return out
    return []


class EvidenceStream:
    """Journal events in -> the recovery machine's evidence, in time order behind the watermark.

    ``sources``: the sources expected to report (``probe``; ``load`` when the run has load)."""

    def __init__(self, machine: RecoveryMachine, sources: Iterable[str] = ("probe",), stale_s: float = STALE_S) -> None:
        self.machine = machine
        self.expected = set(sources)
        self.stale_s = stale_s
        self._pending: list[Evidence] = []
        self._latest: dict[str, float] = {}
        self._lock = threading.Lock()
        self.first_failure: float | None = None  # of the evidence received, held back or not (an alert needs no order)

    def on_event(self, e: Event) -> None:
        """Take one journal event (a journal listener)."""
        with self._lock:
            if e.kind == "load.failed":
                self.expected.discard("load")
            elif e.kind == "window.closed":
                self.machine.close_window(float(e.value["t"]))
            items = evidence_of(e)
            if not items:
                if e.kind in ("load.failed", "window.closed"):
                    self._release(self._watermark())
                return
            src = items[0].source
            self._note_failures(items)
            self._latest[src] = max(self._latest.get(src, items[-1].t), items[-1].t)
            self._pending.extend(items)
            self._release(self._watermark())

    def _note_failures(self, items: list[Evidence]) -> None:
        t0 = self.machine.t0
        for ev in items:
            if not ev.ok and ev.t >= t0 and (ev.source != "probe" or ev.started is None or ev.started >= t0):
                self.first_failure = ev.t if self.first_failure is None else min(self.first_failure, ev.t)

    def _watermark(self) -> float:
        """The time up to which every live source has reported (a source silent for ``stale_s`` behind the
        front, or never heard from, is not waited for)."""
        times = [self._latest.get(s, float("-inf")) for s in self.expected]
        if not times:
            return float("inf")
        front = max(times)
        if front == float("-inf"):
            return front
        return min(t for t in times if front - t <= self.stale_s)

    def _release(self, upto: float) -> None:
        ready = sorted((e for e in self._pending if e.t <= upto), key=lambda e: e.t)
        if not ready:
            return
        self._pending = [e for e in self._pending if e.t > upto]
        for ev in ready:
            self.machine.feed(ev)

    def flush(self) -> None:
        """The run is over: whatever is still held back is fed (the checker's last step)."""
        with self._lock:
            self._release(float("inf"))

    def result(self) -> Recovery:
        with self._lock:
            return self.machine.result()


def stream_recovery(events: Iterable[Event], t0: float, n: int, window_end: float | None,
                    sources: Iterable[str]) -> Recovery:
    """The checker's answer: every event of the journal through the stream, then a flush."""
    stream = EvidenceStream(RecoveryMachine(t0, n, window_end), sources)
    for e in events:
        stream.on_event(e)
    stream.flush()
    return stream.result()

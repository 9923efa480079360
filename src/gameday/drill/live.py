"""The recovery machine, live: a journal listener that feeds every event, in journal order, to the same
evidence stream the checker builds from the file (``gameday.judge.evidence``), so the runbook's waits, the
runner's final wait and the live RTO clock see exactly what the report will compute.

Listeners are called after each event is durable, from whichever thread recorded it; events may arrive
out of ``seq`` order and are put back in order before they are fed. Until the fault is applied (T0 and
its effect window known) the events are kept and then replayed, as the checker reads them from the start.
"""

from __future__ import annotations

import threading

from gameday.journal import Event
from gameday.judge.evidence import EvidenceStream
from gameday.judge.recovery import Recovery, RecoveryMachine, State

__all__ = ["LiveRecovery"]


class LiveRecovery:
    def __init__(self, sources: tuple[str, ...], n: int, first_seq: int = 1) -> None:
        self.sources, self.n = sources, n
        self._lock = threading.Lock()
        self._next_seq = first_seq
        self._held: dict[int, Event] = {}
        self._kept: list[Event] = []  # in order, before T0 is known
        self._stream: EvidenceStream | None = None

    def on_event(self, e: Event) -> None:
        """A journal listener."""
        with self._lock:
            self._held[e.seq] = e
            while self._next_seq in self._held:
                ev = self._held.pop(self._next_seq)
                self._next_seq += 1
                if self._stream is None:
                    self._kept.append(ev)
                else:
                    self._stream.on_event(ev)

    def start(self, t0: float, window_end: float | None) -> None:
        """The fault is applied: from now on the machine answers."""
        with self._lock:
            self._stream = EvidenceStream(RecoveryMachine(t0, self.n, window_end), self.sources)
            for ev in self._kept:
                self._stream.on_event(ev)
            self._kept = []

    def outage_seen(self) -> bool:
        """A client-visible failure since T0 has been received (an alert; the report's T_detect is the same
        evidence, in time order)."""
        with self._lock:
            return self._stream is not None and self._stream.first_failure is not None

    def result(self) -> Recovery:
        with self._lock:
            if self._stream is None:
                return Recovery(State.WATCHING, None, None, None, why="the fault is not applied yet")
            return self._stream.result()

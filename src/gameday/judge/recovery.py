"""The one recovery model: a state machine over the client's evidence (the synthetic probes and the load's
own requests), used by the runbook's live waits, the live RTO clock and the checker that judges the
journal afterwards. The stream that feeds it is built the same way live and offline
(``gameday.judge.evidence``), so the answers agree.

Evidence is fed in the order it became known (its time ``t``: a probe's end, the end of a load bucket);
only evidence known at or after T0 counts, and a probe only when it *started* at or after T0 (one in
flight at the fault says nothing about after it).

States: WATCHING (no client-visible failure yet) -> OUTAGE (the first failure: T_detect) -> RECOVERED; or
WATCHING -> NO_OUTAGE when the fault's effect window (``window_end``: how long the operation's effect may
take to show to clients) has passed without a failure, confirmed by ``n`` successful probes: RTO 0.

In OUTAGE, every failure (probe or load) breaks the current run of successes; the run starts at the first
success after the last failure. Recovery is *declared* once the run holds ``n`` successful probes that
started after the last failure **and** the effect window has passed; T_recovered is the run's start.
Declaring only after the window is what makes the model:

- prefix-stable: once declared, RECOVERED / NO_OUTAGE never change (the machine stops listening);
- detection-first: nothing is recovered before an outage was seen, unless the window passed clean;
- monotonic: a failure added before T_recovered never makes RTO shorter (an earlier blip cannot start
  a recovery that a later failure inside the window would have broken).

A failure after the declaration is a relapse: counted (``relapses``), reported, never moving the instant.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Evidence", "Probe", "State", "Recovery", "RecoveryMachine", "recovery", "failed_since"]


@dataclass(frozen=True)
class Evidence:
    t: float  # when it became known: a probe's end, a load bucket's end (wall seconds)
    ok: bool
    source: str = "probe"  # "probe" | "load"
    started: float | None = None  # a probe's start, a load bucket's start


class Probe(Evidence):
    """A synthetic probe's evidence, built from (started, ended, ok)."""

    def __init__(self, started: float, ended: float, ok: bool) -> None:
        super().__init__(ended, ok, "probe", started)


class State(enum.Enum):
    WATCHING = "watching"  # no client-visible failure yet, the effect window still open
    OUTAGE = "outage"  # a failure was seen; not (yet) recovered
    RECOVERED = "recovered"
    NO_OUTAGE = "no_outage"  # the window passed without a client-visible failure: RTO 0


@dataclass(frozen=True)
class Recovery:
    state: State
    t_detect: float | None  # the first failure after T0
    t_recovered: float | None  # the start of the run of successes that recovered (T0 when there was no outage)
    last_seen: float | None  # the last evidence considered: how long the service was watched
    failures: int = 0  # failed pieces of evidence after T0, up to the declaration
    relapses: int = 0  # failures after the declaration
    why: str = ""  # for a live wait's status line: what it is waiting for

    @property
    def recovered(self) -> bool:
        return self.state in (State.RECOVERED, State.NO_OUTAGE)

    @property
    def outage_seen(self) -> bool:
        return self.t_detect is not None


class RecoveryMachine:
    """Feed evidence in the order it became known; read :meth:`result` at any time."""

    def __init__(self, t0: float, n: int, window_end: float | None) -> None:
        self.t0, self.n = t0, max(1, n)
        self.window_end = window_end  # None: open until close_window (a planned move closes it at its smoke test)
        self.state = State.WATCHING
        self.t_detect: float | None = None
        self.t_recovered: float | None = None
        self.last_seen: float | None = None
        self.failures = self.relapses = 0
        self._last_failure: float | None = None
        self._run_start: float | None = None
        self._run_probes = 0
        self._ok_probes = 0

    def close_window(self, t: float) -> None:
        if self.window_end is None or t < self.window_end:
            self.window_end = t

    def _window_passed(self, t: float) -> bool:
        return self.window_end is not None and t >= self.window_end

    def feed(self, e: Evidence) -> None:
        if e.t < self.t0 or (e.source == "probe" and e.started is not None and e.started < self.t0):
            return
        if self.state in (State.RECOVERED, State.NO_OUTAGE):
            self.relapses += not e.ok
            return
        self.last_seen = e.t if self.last_seen is None else max(self.last_seen, e.t)
        if not e.ok:
            self._fail(e)
        elif self.state is State.WATCHING:
            self._ok_probes += e.source == "probe"
            started = e.started if e.started is not None else e.t
            if self._window_passed(started) and e.source == "probe" and self._ok_probes >= self.n:
                self.state, self.t_recovered = State.NO_OUTAGE, self.t0
        else:
            self._success(e)

    def _fail(self, e: Evidence) -> None:
        self.failures += 1
        if self.state is State.WATCHING:
            self.state, self.t_detect = State.OUTAGE, e.t
        self._last_failure = e.t
        self._run_start, self._run_probes = None, 0

    def _success(self, e: Evidence) -> None:
        assert self._last_failure is not None
        if self._run_start is None:
            self._run_start = e.t
        if e.source == "probe" and (e.started is None or e.started >= self._last_failure):
            self._run_probes += 1
        if self._run_probes >= self.n and self._window_passed(e.t):
            self.state, self.t_recovered = State.RECOVERED, self._run_start

    def result(self) -> Recovery:
        return Recovery(self.state, self.t_detect, self.t_recovered, self.last_seen, self.failures, self.relapses,
                        self._why())

    def _why(self) -> str:
        if self.state is State.WATCHING:
            return "no client-visible failure yet; the fault's effect may take until the end of its window"
        if self.state is State.OUTAGE:
            if self._run_probes >= self.n:
                return "recovered so far; waiting for the end of the fault's effect window"
            return f"{self._run_probes} of {self.n} consecutive successful probes since the last failure"
        return ""


def recovery(evidence: Iterable[Evidence], t0: float, n: int, window_end: float | None = None) -> Recovery:
    """The machine's answer for ``evidence`` in the order given (the order it became known).

    ``window_end`` None means the window is already closed at T0 (the old rule's behaviour, for callers
    that know no window)."""
    m = RecoveryMachine(t0, n, t0 if window_end is None else window_end)
    for e in evidence:
        m.feed(e)
    return m.result()


def failed_since(probes: Iterable[Evidence], t0: float) -> bool:
    """A probe that started at or after ``t0`` has failed (what a rehearsal's alert watches)."""
    return any(not p.ok for p in probes if (p.started if p.started is not None else p.t) >= t0)

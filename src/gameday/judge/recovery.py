"""The one "recovered" rule, shared by the live wait (runbook steps, the runner's final wait, the live
RTO clock) and the checker that judges the journal afterwards.

Only probes that *started* at or after T0 count (one in flight at the fault says nothing about after
it). T_detect is the end of the first failed one. T_recovered is the end of the first of ``n``
consecutive successful probes that all started after the outage was seen (after T_detect), or, when no
probe has failed, after T0. Applied to the probes seen so far, the rule gives the live answer; applied
to the whole journal, the final one; the two agree on every prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Probe", "Recovery", "recovery", "failed_since"]


@dataclass(frozen=True)
class Probe:
    started: float  # wall time the write-then-read began
    ended: float  # wall time it ended
    ok: bool


@dataclass(frozen=True)
class Recovery:
    t_detect: float | None  # end of the first failed probe after T0
    t_recovered: float | None  # end of the first of n consecutive successes after that
    last_probe: float | None  # end of the last probe seen: how long the service was observed

    @property
    def recovered(self) -> bool:
        return self.t_recovered is not None


def recovery(probes: Iterable[Probe], t0: float, n: int) -> Recovery:
    after = [p for p in probes if p.started >= t0]
    t_detect = next((p.ended for p in after if not p.ok), None)
    start = t_detect if t_detect is not None else t0
    last = after[-1].ended if after else None
    run: list[Probe] = []
    for p in after:
        if p.ended < start:
            continue
        run = [*run, p] if p.ok else []
        if len(run) >= n:
            return Recovery(t_detect, run[0].ended, last)
    return Recovery(t_detect, None, last)


def failed_since(probes: Iterable[Probe], t0: float) -> bool:
    """A probe that started at or after ``t0`` has failed (the outage is visible)."""
    return any(not p.ok for p in probes if p.started >= t0)

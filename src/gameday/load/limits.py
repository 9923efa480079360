"""Hard limits: judged on the generator's per-second progress, an abort once one stays breached past its grace.

Every metric an SLO may name is judged: latency on that second's percentiles (a percentile it does not carry on
its maximum, the stricter figure), ``errors``, ``late`` as ratios of that second's requests, ``achieved`` as that
second's acknowledged events over that second's target, ``dropped`` as the run's count so far. Pure: time is the
progress records' own ``t``, so a run and a test of it see the same thing.
"""

from __future__ import annotations

from typing import Any

from gameday.load.slo import Slo

__all__ = ["HardLimits", "holds_now"]


def holds_now(limit: Slo, rec: dict[str, Any], dropped_so_far: int) -> bool:
    """Whether ``limit`` holds on one progress record (one worker's second); a figure that second does not
    have (nothing sent, nothing targeted) cannot breach it."""
    sent = rec.get("sent") or 0
    m = limit.metric
    if m.startswith("p") or m == "max":
        v = rec.get({"50": "p50_ms", "95": "p95_ms", "99": "p99_ms"}.get(m[1:], "max_ms"))
        return v is None or limit.holds(v)
    if m == "errors":
        return sent == 0 or limit.holds(((rec.get("errors") or 0) + (rec.get("indeterminate") or 0)) / sent)
    if m == "late":
        return sent == 0 or limit.holds((rec.get("late") or 0) / sent)
    if m == "achieved":
        target = rec.get("target_rate") or 0.0
        return target <= 0 or limit.holds((rec.get("acked_events") or 0) / target)
    if m == "dropped":
        return limit.holds(dropped_so_far)
    raise ValueError(f"no hard-limit rule for {m!r}")


class HardLimits:
    """Feed progress records in order; ``feed`` returns the abort reason once a limit has been breached, in one
    worker's consecutive seconds, for at least ``grace_s`` (0: at the first breached second)."""

    def __init__(self, limits: list[Slo], grace_s: float) -> None:
        self.limits, self.grace_s = limits, grace_s
        self.dropped = 0
        self._since: dict[tuple[int, str], float] = {}

    def feed(self, rec: dict[str, Any]) -> str | None:
        self.dropped += rec.get("dropped") or 0
        t, worker = float(rec.get("t") or 0.0), int(rec.get("worker") or 0)
        for limit in self.limits:
            key = (worker, limit.expr)
            if holds_now(limit, rec, self.dropped):
                self._since.pop(key, None)
                continue
            since = self._since.setdefault(key, t)
            if t - since >= self.grace_s:
                return f"hard limit {limit.expr} breached for {t - since:g} s (grace {self.grace_s:g} s)"
        return None

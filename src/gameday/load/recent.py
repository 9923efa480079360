"""The load's last few seconds as a steady-state probe or a stop condition reads them (a pure function of the
generator's per-second progress records): requests sent, the failed-or-unanswered ratio, the p95 of those
seconds' requests taken together, and whether the generator itself limited them, so that a latency breach
there may be the generator's rather than the service's (the load gate's rule, ``gameday.load.judge``)."""

from __future__ import annotations

import math
from typing import Any

from hdrh.histogram import HdrHistogram

from gameday.load.judge import limited_now
from gameday.load.summary import LATE_SHARE, SATURATED_CPU
from gameday.load.window import LATE_S, added_ms, new_histogram

__all__ = ["window_of", "service_breach", "lookback"]

_PRECISION = 1e-3  # new_histogram's: 3 significant digits


def _p95_ms(recs: list[dict[str, Any]]) -> float:
    """The p95 of every request the records measured, from their histograms merged; records without one
    (older generators) leave only the worst second's p95, which is never lower."""
    measured = [r for r in recs if r.get("acked_requests") or r.get("p95_ms") is not None]
    if measured and all(r.get("hist") for r in measured):
        h = new_histogram()
        for r in measured:
            h.add(HdrHistogram.decode(r["hist"]))
        return h.get_value_at_percentile(95) / 1000
    return max((r.get("p95_ms") or 0.0) for r in recs)


def _limited(recs: list[dict[str, Any]]) -> str | None:
    """Why the generator may have shaped these seconds' latencies (its worst second), or None: the gate's
    per-second rule (``gameday.load.judge.limited_now``)."""
    limited = [r for r in recs if limited_now(r, LATE_SHARE, SATURATED_CPU)]
    if not limited:
        return None
    r = max(limited, key=lambda r: (r.get("max_start_delay_s") or 0.0, r.get("late") or 0))
    if r.get("dropped"):
        return f"the generator dropped {r['dropped']} arrivals in one second"
    if (r.get("cpu_percent") or 0.0) >= SATURATED_CPU:
        return f"the generator saturated its CPU ({r['cpu_percent']:.0f} % of a core)"
    most = f", up to {1000 * r['max_start_delay_s']:.0f} ms" if r.get("max_start_delay_s") else ""
    return (f"{r['late']} starts in one second were over {LATE_S * 1000:g} ms late{most}; "
            f"{r['sent']} requests answered in it")


def _interval_s(r: dict[str, Any]) -> float:
    """One arrival interval of the second ``r`` (its target rate, in requests), or of the requests it answered."""
    batch = (r.get("acked_events") or 0) / r["acked_requests"] if r.get("acked_requests") else 1.0
    if r.get("target_rate"):
        return max(batch, 1.0) / float(r["target_rate"])
    return 1.0 / r["sent"] if r.get("sent") else 0.0


def _added_ms(recs: list[dict[str, Any]]) -> float | None:
    """The most the generator could have added to one request (ms, ``gameday.load.window.added_ms``) with the
    longest arrival interval of the seconds; None when a record does not carry its start delay (older
    generators)."""
    if not recs or any(r.get("max_start_delay_s") is None for r in recs):
        return None
    return added_ms([float(r["max_start_delay_s"]) for r in recs], max(_interval_s(r) for r in recs))


def lookback(recs: list[dict[str, Any]]) -> int:
    """How many seconds before a window its requests may have started: its slowest answer, rounded up, plus one
    (a request is counted in the second it was answered; its start delay in the second it started)."""
    return math.ceil(max((r.get("max_ms") or 0.0) for r in recs) / 1000) + 1 if recs else 0


def window_of(recs: list[dict[str, Any]], before: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """``sent``, ``error_ratio``, ``p95_ms`` over ``recs``, and ``limited`` (why the generator may have shaped
    their latencies, or None) and ``added_ms`` (the most it could have added to a request, or None) over
    ``before`` (the seconds before them in which their requests may have started: :func:`lookback`) and
    ``recs``; None when nothing was sent."""
    sent = sum(r.get("sent") or 0 for r in recs)
    if not sent:
        return None
    started = [*(before or []), *recs]
    return {"sent": sent, "error_ratio": sum((r.get("errors") or 0) + (r.get("indeterminate") or 0)
                                             for r in recs) / sent,
            "p95_ms": round(_p95_ms(recs), 3), "limited": _limited(started), "added_ms": _added_ms(started)}


def service_breach(w: dict[str, Any], p95_ms: float) -> bool:
    """Whether a p95 over ``p95_ms`` in window ``w`` is the service's own: the generator did not limit the
    window, or less the most it could have added the p95 still breaches."""
    if w["p95_ms"] <= p95_ms:
        return False
    if w.get("limited") is None:
        return True
    # the histogram reads a value up to 0.1 % high (3 significant digits): the service's own only beyond that
    return w.get("added_ms") is not None and w["p95_ms"] / (1 + _PRECISION) - w["added_ms"] > p95_ms

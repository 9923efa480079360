"""One second of load, counted: shared by the Locust engine and the drills' built-in writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

__all__ = ["LATE_S", "added_ms", "SecondWindow", "new_histogram", "LATENCY_BUCKETS_S", "bucket_counts"]

LATE_S = 0.010  # a request that started this long after its intended time started late (the generator's doing)

# The bounds (seconds) of the latency histogram the runner's metrics expose: each tick carries the second's
# requests per bucket, so a scrape every 15 s sees all fifteen seconds, not the last one.
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def added_ms(start_delays_s: list[float], interval_s: float) -> float:
    """The most a generator could have added to one request's latency (ms): a start late by at most its
    largest start delay D (at least LATE_S, the delay that counts as late), and a read late by at most D plus
    one arrival interval I (a loop busy or descheduled for longer than I also starts an arrival late, by the
    spell less I): 2 D + I. A latency figure less this that still breaches is the service's own."""
    return round((2 * max(LATE_S, *start_delays_s) + interval_s) * 1000, 3)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, 3_600_000_000, 3)  # microseconds, 3 significant digits


def bucket_counts(h: HdrHistogram) -> list[int]:
    """Requests per latency bucket (not cumulative): one per bound of ``LATENCY_BUCKETS_S``, then over the last.
    Counted on the histogram's own array up to its largest value (a value in the HdrHistogram bucket of a
    bound, within 0.1 % of it, counts as at most the bound)."""
    counts = h.counts
    top = h.get_counts_array_index(h.get_max_value()) + 1 if h.get_total_count() else 0
    out, below = [], 0
    for bound in LATENCY_BUCKETS_S:
        edge = min(top, h.get_counts_array_index(int(bound * 1_000_000)) + 1)
        upto = sum(counts[below:edge]) if edge > below else 0
        out.append(upto)
        below = max(below, edge)
    out.append(h.get_total_count() - sum(out))
    return out


@dataclass
class SecondWindow:
    sent: int = 0
    acked_events: int = 0
    errors: int = 0
    indeterminate: int = 0
    dropped: int = 0
    late: int = 0
    max_delay_s: float = 0.0  # the engine's: the second's largest start delay of a late request
    http_errors: int = 0  # the engine's failed requests by who they point at (``gameday.load.http.blame``)
    refused: int = 0
    timeouts: int = 0
    steady_sent: int = 0  # the engine's: requests intended inside the steady window
    steady_acked_events: int = 0
    hist: HdrHistogram = field(default_factory=new_histogram)
    edge: HdrHistogram = field(default_factory=new_histogram)  # the engine's requests outside the steady window
    lat_sum_us: int = 0  # when kept (the engine), the mean without walking the histogram (a hot path)

    def latency_fields(self) -> dict[str, Any]:
        """p50/p95/p99/max in milliseconds (None when nothing completed)."""
        h, n = self.hist, self.hist.get_total_count()
        return {"p50_ms": h.get_value_at_percentile(50) / 1000 if n else None,
                "p95_ms": h.get_value_at_percentile(95) / 1000 if n else None,
                "p99_ms": h.get_value_at_percentile(99) / 1000 if n else None,
                "max_ms": h.get_max_value() / 1000 if n else None,
                "mean_ms": round((self.lat_sum_us / n if self.lat_sum_us else h.get_mean_value()) / 1000, 3)
                if n else None,
                "latency_buckets": bucket_counts(h) if n else None}

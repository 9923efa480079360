"""One second of load, counted: shared by the Locust engine and the drills' built-in writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

__all__ = ["SecondWindow", "new_histogram"]


def new_histogram() -> HdrHistogram:
    return HdrHistogram(1, 3_600_000_000, 3)  # microseconds, 3 significant digits


@dataclass
class SecondWindow:
    sent: int = 0
    acked_events: int = 0
    errors: int = 0
    indeterminate: int = 0
    dropped: int = 0
    late: int = 0
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
                if n else None}

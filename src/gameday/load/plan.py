"""Fleet sizing from a calibration run (pure arithmetic, shown to the user)."""

from __future__ import annotations

import math
from typing import Any

from gameday.errors import ConfigError

__all__ = ["fleet_size"]


def fleet_size(calibration: dict[str, Any], *, rate: float, batch: int, headroom: float) -> dict[str, Any]:
    """Workers (one core each) needed for ``rate`` events/s at ``batch`` events per request.

    calibration: {"per_core_requests_per_s": {"1": 12000, "100": 6000}, "machine": "..."}
    """
    table = {int(k): float(v) for k, v in calibration.get("per_core_requests_per_s", {}).items()}
    if not table:
        raise ConfigError("the calibration has no 'per_core_requests_per_s'", field="per_core_requests_per_s")
    if not 0 < headroom <= 1:
        raise ConfigError("headroom must be in (0, 1]", field="--headroom")
    nearest = min(table, key=lambda b: abs(math.log(b) - math.log(batch)))
    per_core_req = table[nearest]
    per_core_events = per_core_req * batch
    workers = math.ceil(rate / (per_core_events * headroom))
    explanation = (f"{rate:,.0f} events/s at batch {batch} = {rate / batch:,.0f} requests/s. This machine measured "
                   f"{per_core_req:,.0f} requests/s per generator core at batch {nearest} (calibration), i.e. "
                   f"{per_core_events:,.0f} events/s per core. At {headroom:.0%} of a core per worker (the gate "
                   f"calls a generator above 90 % saturated), that is {workers} workers: ceil({rate:,.0f} / "
                   f"({per_core_events:,.0f} x {headroom})). The system under test must of course take it.")
    return {"rate": rate, "batch": batch, "calibrated_batch": nearest, "per_core_requests_per_s": per_core_req,
            "headroom": headroom, "workers": workers, "cores": workers, "explanation": explanation}

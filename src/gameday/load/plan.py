"""Fleet sizing from a calibration run and the target's latency (pure arithmetic, shown to the user)."""

from __future__ import annotations

import math
import re
from typing import Any

from gameday.errors import ConfigError

__all__ = ["fleet_size", "parse_latency"]

_LATENCY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s)\s*$")


def parse_latency(text: str) -> float:
    """'400ms', '0.4s', '250us' -> seconds (> 0); ConfigError otherwise."""
    m = _LATENCY.match(text)
    if not m or float(m[1]) <= 0:
        raise ConfigError(f"{text!r} is not a latency > 0 with a unit, e.g. 400ms or 1.5s", field="--latency")
    return float(m[1]) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m[2]]


def fleet_size(calibration: dict[str, Any], *, rate: float, batch: int, headroom: float,
               latency_s: float | None = None, max_connections: int = 500) -> dict[str, Any]:
    """Workers (one core each) and connections for ``rate`` events/s at ``batch`` events per request.

    calibration: {"per_core_requests_per_s": {"1": 12000, "100": 6000}, "machine": "..."}. With the target's
    latency, an open model keeps rate x latency requests in flight, one per connection: the fleet needs
    that many connections, at most ``max_connections`` per worker.
    """
    if rate <= 0 or batch < 1:
        raise ConfigError("rate must be > 0 and batch >= 1", field="--rate/--batch")
    table = {int(k): float(v) for k, v in calibration.get("per_core_requests_per_s", {}).items()}
    if not table:
        raise ConfigError("the calibration has no 'per_core_requests_per_s'", field="per_core_requests_per_s")
    if not 0 < headroom <= 1:
        raise ConfigError("headroom must be in (0, 1]", field="--headroom")
    nearest = min(table, key=lambda b: abs(math.log(b) - math.log(batch)))
    per_core_req = table[nearest]
    per_core_events = per_core_req * batch
    cpu_workers = math.ceil(rate / (per_core_events * headroom))
    explanation = (f"{rate:,.0f} events/s at batch {batch} = {rate / batch:,.0f} requests/s. The calibration measured "
                   f"{per_core_req:,.0f} requests/s per generator core at batch {nearest}, i.e. "
                   f"{per_core_events:,.0f} events/s per core. At {headroom:.0%} of a core per worker (the gate "
                   f"calls a generator above 90 % saturated), that is {_workers(cpu_workers)}: ceil({rate:,.0f} / "
                   f"({per_core_events:,.0f} x {headroom})).")
    workers, connections = cpu_workers, None
    if latency_s is not None:
        connections = math.ceil(rate / batch * latency_s)
        conn_workers = math.ceil(connections / max_connections)
        workers = max(cpu_workers, conn_workers)
        explanation += (f" At {latency_s * 1000:,.0f} ms of latency, {rate / batch:,.0f} requests/s keep "
                        f"{connections:,} requests in flight (rate x latency), one connection each: at most "
                        f"{max_connections} per worker (--max-connections) needs {_workers(conn_workers)}. "
                        f"Fleet: {_workers(workers)}, {math.ceil(connections / workers):,} connections each.")
    else:
        explanation += " Without --latency the connections the target's latency needs are not counted."
    explanation += " The system under test must of course take it."
    return {"rate": rate, "batch": batch, "calibrated_batch": nearest, "per_core_requests_per_s": per_core_req,
            "headroom": headroom, "workers": workers, "cores": workers, "cpu_workers": cpu_workers,
            "latency_s": latency_s, "connections": connections, "max_connections": max_connections,
            "connections_per_worker": math.ceil(connections / workers) if connections else None,
            "explanation": explanation}


def _workers(n: int) -> str:
    return f"{n} worker" if n == 1 else f"{n} workers"

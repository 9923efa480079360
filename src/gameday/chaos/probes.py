"""Chaos Toolkit probes: steady-state measurements through the public endpoint, the lab status and the
database, on the Target the environment names."""

from __future__ import annotations

import time
import uuid
from typing import Any

from chaoslib.exceptions import ActivityFailed
from chaoslib.types import Configuration, Secrets

from gameday.chaos.session import session_for
from gameday.drill.reconcile import reconcile
from gameday.load.run import recent_window
from gameday.synthetic import write_then_read_once

__all__ = ["ingest_slo_met", "writes_succeed", "zone_serving", "replication_lag_s", "acked_events_present",
           "spot_capacity_restored"]


def _write_then_read(endpoint: str, timeout: float = 2.0) -> tuple[bool, float]:
    return write_then_read_once(endpoint, f"chaos-probe-{uuid.uuid4().hex}", timeout)


def writes_succeed(n: int = 5, within_s: float = 0.0, configuration: Configuration = None,
                   secrets: Secrets = None) -> bool:
    """True once ``n`` consecutive synthetic write-then-read transactions succeed through the public
    endpoint, trying for at most ``within_s`` real seconds (scaled by the environment's time_scale)."""
    s = session_for(configuration)
    endpoint = s.target.public_endpoint()
    deadline = time.monotonic() + within_s * s.environment.time_scale
    streak = 0
    while True:
        ok, _ = _write_then_read(endpoint)
        streak = streak + 1 if ok else 0
        if streak >= n:
            return True
        if time.monotonic() >= deadline and not ok:
            return False
        time.sleep(0.1)


def ingest_slo_met(p95_ms: float = 300.0, max_error_ratio: float = 0.001, window_s: float = 3.0,
                   configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """True when ingest met its SLO over the last ``window_s`` seconds of the background load (or, with no
    load running, over a burst of 20 synthetic transactions)."""
    s = session_for(configuration)
    load = s.current_load()
    if load is not None:
        w = recent_window(load.progress, window_s)
        if w is None:
            raise ActivityFailed("the background load has not measured anything yet")
        return w["p95_ms"] <= p95_ms and w["error_ratio"] <= max_error_ratio
    results = [_write_then_read(s.target.public_endpoint()) for _ in range(20)]
    lat = sorted(d * 1000 for _, d in results)
    errors = sum(1 for ok, _ in results if not ok) / len(results)
    return lat[int(0.95 * (len(lat) - 1))] <= p95_ms and errors <= max_error_ratio


def zone_serving(zone: str, configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """True when at least one healthy ingest node serves in ``zone``."""
    return bool(session_for(configuration).target.status().healthy_nodes(zone=zone))


def spot_capacity_restored(configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """True when every primary-region zone has as many healthy spot nodes as the environment configures."""
    s = session_for(configuration)
    st = s.target.status()
    want = s.environment.lab.nodes.spot_per_zone if s.environment.lab else 0
    zones = [z for z in st.zones if z.startswith(st.primary_region)]
    return all(len(st.healthy_nodes(zone=z, capacity_type="spot")) >= want for z in zones)


def replication_lag_s(replica: str = "us-west-2", configuration: Configuration = None, secrets: Secrets = None) -> float:
    """Seconds since the last transaction replayed on the replica in region or zone ``replica`` (grows on an
    idle source: a measurement of replication, never of RPO)."""
    import psycopg

    st = session_for(configuration).target.status()
    db = next((d for d in st.dbs if replica in (d.region, d.zone, d.name) and d.role == "standby"), None)
    if db is None or db.port is None:
        raise ActivityFailed(f"no running replica matches {replica!r}")
    with psycopg.connect(f"host=127.0.0.1 port={db.port} user=postgres dbname=postgres", connect_timeout=2) as c:
        row = c.execute("SELECT coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)").fetchone()
    return float(row[0]) if row else 0.0


def acked_events_present(configuration: Configuration = None, secrets: Secrets = None) -> int:
    """How many events the background load saw acknowledged are missing from the current primary (0: none
    lost). Stops the load first so its ledger is complete; with no load, 0."""
    s = session_for(configuration)
    load = s.current_load()
    if load is None:
        return 0
    load.stop()
    if not load.ledger.exists():
        raise ActivityFailed("the background load left no ledger")
    result: dict[str, Any] = reconcile(s.target.primary_dsn(), load.ledger, "none")
    return int(result["events_lost"])

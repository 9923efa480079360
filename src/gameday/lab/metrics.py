"""The lab's own Prometheus metrics (served by the supervisor at /metrics), built from its status."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Gauge, generate_latest

__all__ = ["lab_metrics"]


def lab_metrics(st: dict[str, Any]) -> bytes:
    """Prometheus text for one lab status (a pure function of it)."""
    r = CollectorRegistry()
    up = Gauge("gameday_lab_nodes_healthy", "Healthy ingest nodes", ["region", "zone", "capacity_type"], registry=r)
    total = Gauge("gameday_lab_nodes", "Ingest nodes that exist (any state)", ["region", "zone", "capacity_type"],
                  registry=r)
    for z in st["zones"]:
        region = st["regions"]["primary"] if z.startswith(st["regions"]["primary"]) else st["regions"]["dr"]
        for cap in ("on-demand", "spot"):
            up.labels(region, z, cap).set(0)
            total.labels(region, z, cap).set(0)
    for p in st["processes"]:
        if p["kind"] == "node" and p["state"] not in ("killed", "interrupted", "stopped"):
            total.labels(p["region"], p["zone"], p["capacity_type"]).inc()
            if p["health"] == "healthy":
                up.labels(p["region"], p["zone"], p["capacity_type"]).inc()
    role = Gauge("gameday_lab_db_role", "1 for the DB instance's current role", ["db", "zone", "role"], registry=r)
    for p in st["processes"]:
        if p["kind"] == "db":
            role.labels(p["name"], p["zone"], p["role"]).set(1)
    _connections(st, r)
    writer = Gauge("gameday_lab_writer_target", "1 for the instance a region's writer endpoint points to",
                   ["region", "db"], registry=r)
    by_port = {p["port"]: p["name"] for p in st["processes"] if p["kind"] == "db"}
    for region, w in st["writer_endpoints"].items():
        if w["target"] is not None:
            writer.labels(region, by_port.get(w["target"], "unknown")).set(1)
    lag = Gauge("gameday_lab_replication_lag_bytes", "WAL bytes the standby has not replayed", ["standby", "sync_state"],
                registry=r)
    for row in st["replication"]:
        lag.labels(row["standby"], row["sync_state"]).set(row["lag_bytes"] or 0)
    _cache(st, r)
    Gauge("gameday_lab_link_delay_seconds", "One-way delay of the cross-region link", registry=r).set(
        st["link"]["delay_ms"] / 1000)
    Gauge("gameday_lab_link_cut", "1 while the cross-region link is cut", registry=r).set(1 if st["link"]["cut"] else 0)
    dns = Gauge("gameday_lab_dns_answer", "1 for the region the failover record answers", ["region"], registry=r)
    dns.labels(st["dns"]["answer"]).set(1)
    return generate_latest(r)


def _cache(st: dict[str, Any], r: CollectorRegistry) -> None:
    """Per cache node: its current role (1) and its replication offset and bytes behind the primary (absent
    while the node does not answer)."""
    labels = ["node", "region", "zone"]
    role = Gauge("gameday_lab_cache_role", "1 for the cache node's current role", [*labels, "role"], registry=r)
    offset = Gauge("gameday_lab_cache_repl_offset_bytes", "The cache node's replication offset", labels, registry=r)
    behind = Gauge("gameday_lab_cache_lag_bytes", "Replication bytes the cache replica is behind its primary", labels,
                   registry=r)
    for p in (p for p in st["processes"] if p["kind"] == "cache"):
        key = (p["name"], p["region"], p["zone"])
        role.labels(*key, p["role"]).set(1)
        if p.get("repl_offset") is not None:
            offset.labels(*key).set(float(p["repl_offset"]))
        if p.get("lag_bytes") is not None:
            behind.labels(*key).set(p["lag_bytes"])


def _connections(st: dict[str, Any], r: CollectorRegistry) -> None:
    """Per DB instance (as RDS's DatabaseConnections): client connections in use, the application's, and the
    maximum of each (absent while the instance does not answer)."""
    labels = ["db", "zone"]
    in_use = Gauge("gameday_lab_db_connections", "Client connections to the DB instance (all roles)", labels,
                   registry=r)
    app = Gauge("gameday_lab_db_app_connections", "The application's connections to the DB instance", labels,
                registry=r)
    mx = Gauge("gameday_lab_db_max_connections", "max_connections of the DB instance", labels, registry=r)
    app_max = Gauge("gameday_lab_db_app_max_connections",
                    "Connections the application can have (max_connections minus the control plane's reserved)",
                    labels, registry=r)
    for p in st["processes"]:
        c = p.get("connections") if p["kind"] == "db" else None
        if c:
            in_use.labels(p["name"], p["zone"]).set(c["in_use"])
            app.labels(p["name"], p["zone"]).set(c["app"])
            mx.labels(p["name"], p["zone"]).set(c["max"])
            app_max.labels(p["name"], p["zone"]).set(c["app_max"])

"""What ``gameday lab status`` shows: one row per process, replication, endpoints (a pure read)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gameday.lab.lab import Lab

__all__ = ["lab_status"]


async def lab_status(lab: Lab) -> dict[str, Any]:
    procs: list[dict[str, Any]] = []
    for db in lab.dbs.values():
        rec, conns = await db.look()
        role = "down" if rec is None else ("standby" if rec else "primary")
        if db.fenced and rec is not None:
            role = "fenced"
        procs.append({"kind": "db", "name": db.name, "region": db.spec.region, "zone": db.spec.zone,
                      "role": role, "configured_role": db.spec.role, "capacity_type": "on-demand",
                      "pid": db.pid, "port": db.port, "state": db.state, "connections": conns,
                      "health": "frozen" if db.state == "frozen" else ("ok" if rec is not None else "down")})
    for n in lab.fleet.nodes:
        procs.append({"kind": "node", "name": n.name, "region": n.region, "zone": n.zone, "role": "ingest",
                      "capacity_type": n.capacity_type, "pid": n.pid, "port": n.port, "state": n.state,
                      "health": "healthy" if n.healthy else "unhealthy"})
    if lab.cache is not None:
        procs += await lab.cache.rows()
    sh = lab.shape
    return {
        "ready": lab.ready,
        "supervisor_pid": os.getpid(),
        "public_endpoint": f"{lab.hosted.scheme if lab.hosted is not None else 'http'}://127.0.0.1:{lab.public.port}",
        "regions": {"primary": sh.primary_region, "dr": sh.dr_region},
        "zones": list(sh.all_zones),
        "dns": {"record": "ingest.lab.gameday.internal", "type": "failover", "answer": lab.dns_region,
                "ttl_s": lab.settings.dns_ttl_s},
        "writer_endpoints": {r: {"port": w.port, "target": (w.route() if not w.is_cut else None)}
                             for r, w in lab.writers.items()},
        "balancers": {r: {"port": b.port, "down": b.is_cut} for r, b in lab.balancers.items()},
        "link": {"port": lab.link.port, "delay_ms": round(lab.link.delay_s * 1000, 3), "cut": lab.link.is_cut},
        "regions_down": sorted(lab.regions_down),
        "zones_down": sorted(lab.zones_down),
        "zones_frozen": sorted(lab.zones_frozen),
        "dr_promoted": lab.dr_promoted,
        "cache": None if lab.cache is None else {
            "primary_endpoint": f"redis://127.0.0.1:{lab.cache.endpoint.port}", "port": lab.cache.endpoint.port,
            "target": lab.cache.target(), "elected": getattr(lab.cache.node_at(lab.cache.target()), "name", None),
            "dr_promoted": lab.cache.secondary.promoted},
        "backups": {**lab.backups.status(list(lab.restored.all)).model_dump(),
                    "restored_instances": lab.restored.rows(), "enabled": lab.settings.backups.enabled,
                    "archive": str(lab.backups.wal_dir()), "failed_backups": lab.backups.errors},
        "processes": procs,
        "replication": await lab.replication(),
        "events": lab.events[-30:],
    }

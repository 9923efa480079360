"""``--dry-run``: what each gameday action of an experiment would touch, resolved with read-only calls."""

from __future__ import annotations

import itertools
from typing import Any

from gameday import spellings
from gameday.config import LabSettings
from gameday.errors import ConfigError
from gameday.lab.topology import shape_of

__all__ = ["plan_experiment", "configured_status"]

_MODULE = "gameday.chaos.actions"


def _nodes_and_dbs(st: dict[str, Any], pick: Any) -> list[str]:
    return [f"{p['kind']} {p['name']} ({'not started' if p['pid'] is None else 'pid ' + str(p['pid'])}, {p['zone']})"
            for p in st["processes"] if pick(p) and p["state"] in ("running", "starting", "draining", "frozen", "configured")]


def configured_status(settings: LabSettings) -> dict[str, Any]:
    """What ``lab status`` would show of a lab that is not running: its configured shape (no pids), so a dry
    run needs no lab. Names follow the lab's (``node-<zone>-<od|spot>-<n>``, ``db-<zone>``)."""
    sh = shape_of(settings)
    seq = itertools.count(1)
    procs = [{"kind": "db", "name": d.name, "region": d.region, "zone": d.zone, "pid": None, "state": "configured",
              "role": "primary" if d.role == "primary" else "standby", "capacity_type": "on-demand"} for d in sh.dbs]
    procs += [{"kind": "node", "name": f"node-{n.zone}-{'spot' if n.capacity_type == 'spot' else 'od'}-{next(seq)}",
               "region": n.region, "zone": n.zone, "pid": None, "state": "configured", "role": "ingest",
               "capacity_type": n.capacity_type} for n in sh.nodes]
    return {"processes": procs, "zones": list(sh.all_zones), "public_endpoint": "the lab's public endpoint",
            "regions": {"primary": sh.primary_region, "dr": sh.dr_region}}


def _resolve(func: str, args: dict[str, Any], st: dict[str, Any]) -> list[str]:
    if func in ("fail_zone", "freeze_zone"):
        zone = str(args.get("zone", ""))
        full = zone if zone in st["zones"] else f"{st['regions']['primary']}{zone}"
        return _nodes_and_dbs(st, lambda p: p["zone"] == full)
    if func == "fail_region":
        return _nodes_and_dbs(st, lambda p: p["region"] == args.get("region"))
    if func == "interrupt_spot":
        spot_zone = args.get("zone")
        spots = _nodes_and_dbs(st, lambda p: p["kind"] == "node" and p["capacity_type"] == "spot"
                               and p["region"] == st["regions"]["primary"] and (not spot_zone or p["zone"].endswith(spot_zone)))
        return spots[: int(args.get("count", 1))]
    if func == "fail_over_db":
        return _nodes_and_dbs(st, lambda p: p["kind"] == "db" and p["role"] == "primary")
    if func == "fail_cache_primary":
        return _nodes_and_dbs(st, lambda p: p["kind"] == "cache" and p["role"] == "primary"
                              and p["region"] == st["regions"]["primary"])
    if func in ("restore_zone", "restore"):
        return ["the environment's configured shape (lab restore)"]
    if func in ("start_load", "stop_load"):
        return [f"ingest traffic to {st['public_endpoint']} ({args.get('profile', 'loadprofiles/ingest_steady.py')}, "
                f"{args.get('rate', 100)} events/s)"]
    return []


def plan_experiment(experiment: dict[str, Any], status: dict[str, Any], source: str) -> list[dict[str, Any]]:
    """One entry per gameday action (method, then rollbacks); a fault that resolves to nothing is an error."""
    out = []
    for phase in ("method", "rollbacks"):
        for act in experiment.get(phase) or []:
            prov = act.get("provider", {})
            if prov.get("module") != _MODULE:
                continue
            func, args = prov.get("func", ""), prov.get("arguments", {}) or {}
            touches = _resolve(spellings.resolve(func, quiet=True)[0], args, status)
            if not touches:
                raise ConfigError(f"action '{act.get('name')}' ({func} {args}) resolves to nothing on this target",
                                  file=source, field=f"{phase}[{act.get('name')}]")
            out.append({"phase": phase, "name": act.get("name"), "call": f"{func}({args})", "touches": touches})
    return out

"""Failback on the lab: the planned return from the DR region, step by step as the runbook
(runbooks/region-failback.yaml) does it on AWS, each returning once its effect holds.

1. ``rebuild_primary_region``: the primary region's network comes back, its database is rebuilt as a
   standby of the DR primary, its ingest nodes start (writing to the DR primary through the region's writer
   endpoint, as RDS Proxy would after a cross-region promotion);
2. ``return_primary_db``: the planned switchover: the DR primary is shut down cleanly once the rebuilt
   standby has replayed everything (a clean shutdown ships the last WAL: nothing acknowledged is lost),
   the primary region's database is promoted, its sync standby rebuilt, both writer endpoints follow it;
3. ``rebuild_dr_db``: the DR replica is re-seeded from the primary and follows it across the link again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from gameday.lab import postgres as pg
from gameday.lab.link import set_link_delay
from gameday.lab.restore import restore_nodes, switch_over

if TYPE_CHECKING:
    from gameday.lab.lab import Lab

__all__ = ["rebuild_primary_region", "return_primary_db", "rebuild_dr_db"]


async def rebuild_primary_region(lab: Lab) -> dict[str, Any]:
    sh = lab.shape
    p, d = lab.dbs[sh.db("primary").name], lab.dbs[sh.db("dr-replica").name]
    if not lab.dr_promoted or d.state != "running":
        raise ValueError("the DR region's database is not the primary: there is nothing to fail back from")
    r = sh.primary_region
    lab.rds.paused = True
    lab.regions_down.discard(r)
    for relay in (lab.writers[r], lab.balancers[r]):
        relay.mend()
    lab.writers[r].route = lambda: d.port  # the region's writer endpoint follows the current primary
    await p.rebuild_as_standby(source_port=d.port, upstream_port=d.port)
    started = restore_nodes(lab, region=r)["nodes_started"]
    await lab.fleet.settle(40, replacements=len(started))  # raises naming each node that is not healthy, and why
    await _streaming(lab, p.name, d.name)
    out = {"region": r, "rebuilt": p.name, "follows": d.name, "nodes_started": started}
    lab.record("action.rebuild_primary_region", out)
    return out


async def return_primary_db(lab: Lab) -> dict[str, Any]:
    sh = lab.shape
    p, s, d = (lab.dbs[sh.db(role).name] for role in ("primary", "sync-standby", "dr-replica"))
    if not lab.dr_promoted or await p.in_recovery() is not True:
        raise ValueError("rebuild the primary region first: its database is not a standby of the DR primary")
    await switch_over(lab, d, p)  # d is shut down cleanly: writes are refused until p answers
    lab.writers[sh.primary_region].route = lambda: p.port
    lab.writers[sh.dr_region].route = lambda: p.port  # DR nodes write across regions until DNS moves back
    lab.dr_promoted = False
    await s.rebuild_as_standby(source_port=p.port, upstream_port=p.port)
    await _streaming(lab, s.name, p.name)
    await asyncio.to_thread(pg.set_sync_standby, p.port, pg.app_name(s.name))
    lab.rds.adopt(p, s, sync=True)
    lab.rds.paused = False
    out = {"writer": p.name, "from": d.name, "sync_standby": s.name}
    lab.record("action.return_primary_db", out)
    return out


async def rebuild_dr_db(lab: Lab) -> dict[str, Any]:
    sh = lab.shape
    p, d = lab.dbs[sh.db("primary").name], lab.dbs[sh.db("dr-replica").name]
    if lab.dr_promoted or lab.rds.primary is not p:
        raise ValueError("return the writer to the primary region first")
    lab.link.mend()
    await set_link_delay(lab.settings.link.delay_ms / 1000, lab.link, lab.dbs.values(), lab.cache)  # a drill's undone
    await d.rebuild_as_standby(source_port=p.port, upstream_port=lab.link.port)
    dr = sh.dr_region
    lab.writers[dr].route = lambda: None if dr in lab.regions_down else d.port
    await _streaming(lab, d.name, p.name)
    out = {"rebuilt": d.name, "follows": p.name}
    lab.record("action.rebuild_dr_db", out)
    return out


async def _streaming(lab: Lab, standby: str, upstream: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if any(r["standby"] == standby and r["upstream"] == upstream and r["state"] == "streaming"
               for r in await lab.replication()):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{standby} does not stream from {upstream} after {timeout:.0f} s")

"""Bring the lab back to its configured shape, whatever faults and runbook actions did to it.

The shape: the DB primary in the primary region's first zone with a synchronous standby in the
second, the DR replica streaming through the link, every configured ingest node up and healthy,
the DR region back to its warm size, the failover record on the primary region.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from gameday.lab import postgres as pg
from gameday.lab.link import set_link_delay

if TYPE_CHECKING:
    from gameday.lab.database import DbInstance
    from gameday.lab.lab import Lab

__all__ = ["restore", "switch_over", "restore_nodes"]


async def restore(lab: Lab) -> dict[str, Any]:
    sh = lab.shape
    lab.record("restore.started", {})
    lab.restores += 1
    for db in lab.dbs.values():
        db.thaw()
    for n in lab.fleet.nodes:
        lab.fleet.thaw(n)
    lab.zones_frozen.clear()
    lab.zones_down.clear()
    lab.regions_down.clear()
    for relay in [*lab.writers.values(), *lab.balancers.values(), lab.link]:
        relay.mend()
    await set_link_delay(lab.settings.link.delay_ms / 1000, lab.link, lab.dbs.values(), lab.cache)
    lab.rds.paused = True
    try:
        rebuilt = await _restore_databases(lab)
    finally:
        lab.rds.paused = False
    rebuilt += [f"deleted {n}" for n in await lab.restored.delete_all()]  # no restored instance outlives it
    # The cache replication group back to its shape (primary in the first zone) while the ingest nodes start and
    # get healthy: they share no process, so the group's rebuild (seven processes) no longer adds to the wait.
    cache = asyncio.create_task(_rebuild_cache(lab))
    try:
        nodes = restore_nodes(lab)
        for b in (lab.public, *lab.balancers.values()):  # the latency and stall faults live in the network path
            b.inject_s, b.stall_until = 0.0, 0.0
        lab.latency_ms = 0.0
        if lab.hosted is None:
            await lab.fleet.set_latency(0.0)
        lab.dns_region = sh.primary_region
        lab._resolved = (sh.primary_region, 0.0)
        await lab._settle(timeout=60)
    finally:
        rebuilt += await cache  # awaited whatever happened: never left running behind an error
    out = {"rebuilt": rebuilt, **nodes}
    lab.record("restore.completed", out)
    return out


async def _rebuild_cache(lab: Lab) -> list[str]:
    return [] if lab.cache is None else await lab.cache.rebuild(lab.settings.link.delay_ms / 1000)


async def _source(lab: Lab) -> DbInstance:
    """The instance holding every acknowledged write: where writes currently go."""
    swapped = lab.restored.swapped()
    if swapped is not None:  # the writer was swapped to a restored instance (a restore drill)
        return swapped.db
    dr = lab.dbs[lab.shape.db("dr-replica").name]
    src = dr if lab.dr_promoted else lab.rds.primary
    if src.state in ("killed", "stopped"):  # a dead primary's data is intact: crash recovery brings it back
        await src.start()
    return src


async def _restore_databases(lab: Lab) -> list[str]:
    sh = lab.shape
    p, s, d = (lab.dbs[sh.db(r).name] for r in ("primary", "sync-standby", "dr-replica"))
    src = await _source(lab)
    rebuilt: list[str] = []
    if src is not p:  # switch back: p follows src, src shuts down cleanly, p takes over
        await p.rebuild_as_standby(source_port=src.port, upstream_port=src.port)
        rebuilt.append(p.name)
        await switch_over(lab, src, p)
    lab.writers[sh.primary_region].route = lambda: p.port
    streaming = await _streaming_from(lab, p, (s, d))
    for db, upstream in ((s, p.port), (d, lab.link.port)):
        if db.name in streaming and db.state == "running" and not db.fenced:
            continue
        await db.rebuild_as_standby(source_port=p.port, upstream_port=upstream)
        rebuilt.append(db.name)
    await asyncio.to_thread(pg.set_sync_standby, p.port, pg.app_name(s.name))
    lab.rds.adopt(p, s, sync=True)
    lab.dr_promoted = False
    return rebuilt


async def _streaming_from(lab: Lab, p: DbInstance, standbys: tuple[DbInstance, ...], within_s: float = 3.0) -> set[str]:
    """The standbys streaming from ``p``. One still running and unfenced gets ``within_s`` to reconnect first (a
    primary restarted from its crash, a switchover, a link just mended: it retries every 200 ms), so a standby
    that only lost its connection is kept, not rebuilt from a base backup."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        streaming = {r["standby"] for r in await lab.replication() if r["upstream"] == p.name and r["state"] == "streaming"}
        waiting = [db for db in standbys if db.name not in streaming and db.state == "running" and not db.fenced]
        if not waiting or loop.time() >= deadline:
            return streaming
        await asyncio.sleep(0.2)


async def switch_over(lab: Lab, old: DbInstance, new: DbInstance) -> None:
    """The planned switchover: ``new`` (a standby of ``old``) has replayed everything, ``old`` shuts down
    cleanly (which ships its last WAL), ``new`` is promoted. Nothing ``old`` acknowledged is lost."""
    await _caught_up(old, new)
    await old.stop_clean()
    await asyncio.to_thread(pg.promote, new.port)
    lab.record("restore.switched_back", {"from": old.name, "to": new.name})


async def _caught_up(src: DbInstance, standby: DbInstance, timeout: float = 60) -> None:
    target = (await src.query("SELECT pg_current_wal_lsn()::text"))[0][0]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        rows = await standby.query(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
        if rows[0][0]:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{standby.name} did not catch up with {src.name} within {timeout:.0f} s")


def restore_nodes(lab: Lab, region: str | None = None) -> dict[str, list[str]]:
    """Every configured ingest node (of ``region`` only, when given) up again, extras stopped."""
    sh = lab.shape
    lab.fleet.forget_dead()
    wanted: dict[tuple[str, str, str], int] = {}
    for spec in sh.nodes:
        key = (spec.region, spec.zone, spec.capacity_type)
        if region is None or spec.region == region:
            wanted[key] = wanted.get(key, 0) + 1
    started, stopped = [], []
    for (r, zone, cap), n in wanted.items():
        have = [x for x in lab.fleet.nodes if (x.region, x.zone, x.capacity_type) == (r, zone, cap)]
        for extra in have[n:]:
            lab.fleet.kill(extra, state="stopped")
            stopped.append(extra.name)
        for _ in range(n - len(have)):
            started.append(lab.fleet.add(r, zone, cap).name)
    for x in [n for n in lab.fleet.nodes if region is None or n.region == region]:  # draining: interrupted
        if x.state == "draining":
            lab.fleet.kill(x, state="stopped")
            stopped.append(x.name)
            started.append(lab.fleet.add(x.region, x.zone, x.capacity_type).name)
    lab.fleet.forget_dead()
    return {"nodes_started": started, "nodes_stopped": stopped}

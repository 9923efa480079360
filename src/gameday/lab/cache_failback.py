"""The cache's failback after a region failover: the Global Datastore failed back to the primary region.

The primary region's group is rebuilt fed from the DR node (the promoted DR replica, or, when the cache was
not promoted, the DR replica itself: a chained replica), and once it has caught up the writer moves back in a
planned switchover: writes on the DR node are paused (``CLIENT PAUSE WRITE``), the new primary has replayed
every byte the DR node acknowledged, it is promoted, its replica and the sentinels start, the DR node follows
it again through the cross-region link and the primary endpoint routes to it. Nothing acknowledged is lost,
as with ``FailoverGlobalReplicationGroup`` back to the primary region on AWS.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gameday.lab.cache import CacheGroup, command, node_conf, sentinel_conf
from gameday.procs import free_port

__all__ = ["fail_back"]


async def _until(check: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if await check():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet: asked again
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the cache failback: {what} not within {timeout:.0f} s")
        await asyncio.sleep(0.05)


async def _offset(port: int, key: str) -> int:
    return int((await command(port, "INFO", "replication"))[key])


async def fail_back(g: CacheGroup) -> dict[str, Any]:
    dr = g.dr
    if dr is None or dr.state != "running":
        raise ValueError("the DR cache replica is not running: there is nothing to fail back from")
    primary, replica = g.nodes
    g.kill([*g.nodes, *g.sentinels], state="stopped")  # what is left of the primary region's group
    for n in [*g.nodes, *g.sentinels]:
        n.port = free_port()  # fresh: no process may still hold the old addresses
    g._spawn(primary, node_conf(primary.port, g._dir(primary), dr.port))

    async def linked() -> bool:
        return (await command(primary.port, "INFO", "replication")).get("master_link_status") == "up"
    await _until(linked, "the primary region's node replicating from the DR node")
    t = time.time()
    await command(dr.port, "CLIENT", "PAUSE", "10000", "WRITE", timeout=2.0)  # the switchover's write pause
    try:
        target = await _offset(dr.port, "master_repl_offset")

        async def caught_up() -> bool:
            return await _offset(primary.port, "slave_repl_offset") >= target
        await _until(caught_up, "the primary region's node caught up with the DR node", timeout=8.0)
        await command(primary.port, "REPLICAOF", "NO", "ONE", timeout=2.0)
        g.primary_port = primary.port
        g.secondary.promoted = False
        g.secondary.link.mend()
        g.endpoint.drop_all()  # clients reconnect to the primary region's primary
        await command(dr.port, "REPLICAOF", "127.0.0.1", str(g.secondary.link.port), timeout=2.0)
    finally:
        await command(dr.port, "CLIENT", "UNPAUSE", timeout=2.0)
        paused = round(time.time() - t, 3)
    g._spawn(replica, node_conf(replica.port, g._dir(replica), primary.port))

    async def replica_linked() -> bool:
        return (await command(replica.port, "INFO", "replication")).get("master_link_status") == "up"
    # The sentinels learn the primary's replicas from its INFO, asked at start and then every 10 s: started
    # before the replica is linked, they could take 10 s more to know it (the failback step over its budget).
    await _until(replica_linked, "the primary region's replica replicating from the new primary")
    for s in g.sentinels:
        g._spawn(s, sentinel_conf(s.port, g._dir(s), primary.port, g.settings), sentinel=True)
    await g.wait_ready()
    return {"primary": primary.name, "from": dr.name, "offset": target, "t_applied": t, "write_pause_s": paused}

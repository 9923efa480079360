"""The cache group alone (Valkey processes, no lab around them): the DR replica follows through its link, is
promoted when the primary region is lost (the endpoint moves, writes are taken), and the failback rebuilds
the primary region's group from it and moves the writer back without losing an acknowledged write."""

from __future__ import annotations

import asyncio
import time

from gameday.config import CacheSettings
from gameday.lab.cache import CacheGroup, command
from gameday.lab.cache_failback import fail_back


async def _eventually(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "not within the time"
        await asyncio.sleep(0.05)


async def _get(port: int, key: str) -> str | None:
    try:
        return await command(port, "GET", key)
    except Exception:  # noqa: BLE001 - the endpoint is between primaries
        return None


async def _scenario(root) -> None:
    events: list[str] = []
    g = CacheGroup(CacheSettings(), root, "us-east-1", ("us-east-1a", "us-east-1b", "us-east-1c"),
                   lambda kind, detail: events.append(kind), dr=("us-west-2", "us-west-2a"), link_delay_s=0.05)
    try:
        await g.start()
        await g.wait_ready()
        assert g.dr is not None
        ep = g.endpoint.port
        await command(ep, "SET", "before", "1")
        await _eventually(lambda: _get(g.dr.port, "before"))  # through the cross-region link
        # the primary region lost: its nodes and sentinels, and the link
        g.kill([*g.nodes, *g.sentinels])
        g.secondary.link.cut()
        promoted = await g.promote_dr()
        assert promoted["endpoint_role"] == "primary" and promoted["endpoint_write"], promoted
        await command(ep, "SET", "during", "2")  # the DR period: written to the DR node
        back = await fail_back(g)
        assert back["primary"] == "cache-us-east-1a" and back["write_pause_s"] < 10, back
        info = await command(ep, "INFO", "replication")
        assert info["role"] == "master" and g.target() == g.nodes[0].port, "the endpoint is on zone a again"
        assert await _get(ep, "before") == "1" and await _get(ep, "during") == "2", "nothing acknowledged lost"
        await command(ep, "SET", "after", "3")
        await _eventually(lambda: _get(g.dr.port, "after"))  # the DR node follows the primary region again
        assert await g._in_shape(), "primary in zone a, its replica, the DR replica and three sentinels"
    finally:
        await g.stop()


def test_the_dr_cache_replica_is_promoted_and_the_failback_returns_the_writer_losing_nothing(tmp_path):
    asyncio.run(asyncio.wait_for(_scenario(tmp_path), 120))

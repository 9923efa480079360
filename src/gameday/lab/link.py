"""The cross-region link's delay: one setting for the database's WAL shipping, the cache's Global Datastore
replication and PostgreSQL's replication timeouts behind them (``pg.replication_timeout_ms``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from gameday.lab import postgres as pg

if TYPE_CHECKING:
    from gameday.lab.cache import CacheGroup
    from gameday.lab.database import DbInstance
    from gameday.lab.network import Relay

__all__ = ["set_link_delay"]


async def set_link_delay(delay_s: float, link: Relay, dbs: Iterable[DbInstance], cache: CacheGroup | None) -> None:
    """Delay both links by ``delay_s`` each way and fit the replication timeouts on every running server."""
    link.delay_s = delay_s
    if cache is not None:
        cache.secondary.link.delay_s = delay_s
    await asyncio.to_thread(pg.fit_replication_timeouts, [d.port for d in dbs if d.pid], delay_s)

"""The DR region's cache replica: an ElastiCache Global Datastore secondary, fed through the cross-region link.

One Valkey replica in the DR region's first zone replicating the primary group's elected primary through its
own relay (``cache-link``: the database link's delay and cut, so replication lag is real and a region loss
stops it). Asynchronous, as Global Datastore: what had not crossed when the primary region was lost is lost.

The primary region's sentinels must never fail over to it, nor re-point it (on AWS the secondary belongs
to another replication group): it has ``replica-priority 0`` and announces an address nobody listens on,
so to them it is a replica they cannot reach (Sentinel neither promotes nor reconfigures an unreachable
replica). ``promote`` is ``FailoverGlobalReplicationGroup``: the replica stops replicating and becomes the
primary; the group's primary endpoint then routes to it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gameday.lab.network import Relay

__all__ = ["CacheSecondary", "dr_conf", "UNREACHABLE_PORT"]

UNREACHABLE_PORT = 1  # tcpmux: nothing on a loopback test machine listens there


def dr_conf(port: int, datadir: Path, link_port: int) -> str:
    return "\n".join([
        f"port {port}", "bind 127.0.0.1", "protected-mode no", f"dir {datadir}", 'save ""', "appendonly no",
        # once promoted it feeds the primary region's node in the failback: a full sync at once, not after
        # Valkey's default 5 s wait for more replicas (the failback's cache step over its budget)
        "repl-diskless-sync yes", "repl-diskless-sync-delay 0",
        "repl-timeout 5", "loglevel warning", "replica-read-only yes",
        "replica-priority 0", "replica-announce-ip 127.0.0.1", f"replica-announce-port {UNREACHABLE_PORT}",
        f"replicaof 127.0.0.1 {link_port}"]) + "\n"


class CacheSecondary:
    """The DR replica's link and promotion state; its process is one of the group's nodes."""

    def __init__(self, upstream: Any, delay_s: float) -> None:
        self.link = Relay("cache-link", upstream, delay_s=delay_s, delayable=True)
        self.promoted = False
        self.t_promoted: float | None = None

    async def start(self) -> int:
        if not self.link.port:
            await self.link.start()
        return self.link.port

    def promoted_now(self) -> float:
        self.promoted = True
        self.t_promoted = time.time()
        return self.t_promoted

    def reset(self, delay_s: float) -> None:
        self.promoted = False
        self.t_promoted = None
        self.link.mend()
        self.link.delay_s = delay_s

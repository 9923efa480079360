"""The lab's compute: ingest node processes, their health checks, balancing and autoscaling."""

from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from gameday.config import HealthCheckSettings
from gameday.lab.hosted import HostedService
from gameday.lab.postgres import app_dsn
from gameday.procs import free_port, kill_tree, kill_trees, signal_tree, spawn

__all__ = ["Node", "Fleet"]


@dataclass
class Node:
    name: str
    region: str
    zone: str
    capacity_type: str
    port: int
    proc: subprocess.Popen[bytes] | None = None
    state: str = "starting"  # starting | running | draining | frozen | killed | interrupted | stopped | exited
    healthy: bool = False
    ok_streak: int = 0
    fail_streak: int = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    @property
    def alive(self) -> bool:
        return self.state in ("starting", "running", "draining", "frozen")


@dataclass
class Fleet:
    """All ingest nodes; picks a healthy node per region for the balancers."""

    root: Path
    hc: HealthCheckSettings
    db_port_of: Callable[[str], int]  # region -> its writer endpoint port
    pool_size: int
    record: Callable[[str, dict[str, object]], None]
    hosted: HostedService | None = None  # the team's own service as the nodes (default: the lab's ingest node)
    workers: int = 8  # writes each of the lab's own nodes works on at once (lab settings' node_workers)
    latency_ms: float = 0.0  # the latency fault inside the lab's own nodes: new nodes start with it
    cache_port: Callable[[], int | None] = lambda: None  # the cache's primary endpoint (None: no cache)
    idempotency_all: bool = False  # the lab's ingest node keys every batch in the cache (else: those with the header)
    nodes: list[Node] = field(default_factory=list)
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))
    _rr: dict[str, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _session: aiohttp.ClientSession | None = None

    def add(self, region: str, zone: str, capacity_type: str) -> Node:
        kind = "spot" if capacity_type == "spot" else "od"
        node = Node(f"node-{zone}-{kind}-{next(self._seq)}", region, zone, capacity_type, free_port())
        cache = self.cache_port()
        if self.hosted is not None:
            argv = self.hosted.command(port=node.port, dsn=app_dsn(self.db_port_of(region)), region=region,
                                       zone=zone, node=node.name, cache_url=f"redis://127.0.0.1:{cache}" if cache else "")
            node.proc = spawn(argv, log=self.root / f"{node.name}.log", env=self.hosted.env)
        else:
            node.proc = spawn(
                [sys.executable, "-m", "gameday.lab.ingest_node", "--name", node.name, "--region", region,
                 "--zone", zone, "--capacity-type", capacity_type, "--port", str(node.port),
                 "--db-port", str(self.db_port_of(region)), "--pool-size", str(self.pool_size),
                 "--workers", str(self.workers), "--latency-ms", str(self.latency_ms),
                 *(["--cache-port", str(cache)] if cache else []),
                 *(["--idempotency-all"] if cache and self.idempotency_all else [])],
                log=self.root / f"{node.name}.log")
        self.nodes.append(node)
        return node

    def in_zone(self, zone: str) -> list[Node]:
        return [n for n in self.nodes if n.zone == zone and n.alive]

    def in_region(self, region: str) -> list[Node]:
        return [n for n in self.nodes if n.region == region and n.alive]

    def pick(self, region: str) -> int | None:
        """Round-robin over the region's healthy nodes (the balancer's routing decision)."""
        ready = [n for n in self.nodes if n.region == region and n.healthy and n.state in ("running", "starting")]
        if not ready:
            return None
        i = self._rr.get(region, 0)
        self._rr[region] = i + 1
        return ready[i % len(ready)].port

    def kill(self, node: Node, state: str = "killed") -> None:
        if node.pid is not None:
            kill_trees([node.pid], timeout=0)  # called from the event loop: signal, do not wait
        node.state, node.healthy = state, False

    def freeze(self, node: Node) -> None:
        if node.pid is not None:
            signal_tree(node.pid, signal.SIGSTOP)
            node.state = "frozen"

    def thaw(self, node: Node) -> None:
        if node.pid is not None and node.state == "frozen":
            signal_tree(node.pid, signal.SIGCONT)
            node.state = "running"

    async def drain(self, node: Node) -> None:
        """Deliver an interruption notice: the balancer deregisters the node at once; the lab's own node is
        told to drain, a hosted service gets SIGTERM (and SIGKILL after its grace period)."""
        node.state, node.healthy = "draining", False
        if self.hosted is None:
            await self.admin(node, "drain", {})
            return
        if node.pid is not None:
            signal_tree(node.pid, signal.SIGTERM)
            asyncio.get_running_loop().call_later(self.hosted.spec.stop_grace_s, self._sigkill, node)

    def _sigkill(self, node: Node) -> None:
        if node.pid is not None:
            kill_trees([node.pid], timeout=0)

    async def admin(self, node: Node, what: str, body: dict[str, float]) -> bool:
        """POST /admin/<what> to a node; False when it does not answer."""
        try:
            async with self._client().post(f"http://127.0.0.1:{node.port}/admin/{what}", json=body,
                                           timeout=aiohttp.ClientTimeout(total=1)) as r:
                await r.read()
                return r.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False

    async def set_latency(self, ms: float) -> list[str]:
        """Every running node of the lab's own holds each write ``ms`` longer (and so will the nodes started
        later); the names of the nodes that did not answer."""
        self.latency_ms = ms
        nodes = [n for n in self.nodes if n.state in ("starting", "running", "draining")]
        done = await asyncio.gather(*(self.admin(n, "latency", {"ms": ms}) for n in nodes))
        return [n.name for n, ok in zip(nodes, done, strict=True) if not ok]

    def forget_dead(self) -> None:
        self.nodes = [n for n in self.nodes if n.alive]

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._health_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.proc.terminate()
        for n in self.nodes:
            if n.proc is not None:
                try:
                    await asyncio.to_thread(n.proc.wait, 3)
                except subprocess.TimeoutExpired:
                    kill_tree(n.proc.pid)
            n.state = "stopped"
        if self._session is not None:
            await self._session.close()

    def reap(self) -> list[Node]:
        """Nodes whose process ended on its own while starting or running (a fault's kill says so first): now
        ``exited``, each recorded with its exit code and the last line of its log."""
        ended = [n for n in self.nodes if n.state in ("starting", "running") and n.proc is not None
                 and n.proc.poll() is not None]
        for n in ended:
            n.state, n.healthy = "exited", False
            self.record("node.exited", {"node": n.name, "zone": n.zone, "why": self.why_down(n)})
        return ended

    def why_down(self, node: Node) -> str:
        """Why a node is not healthy, in a line: its exit code and its log's last line, or its state."""
        code = node.proc.poll() if node.proc is not None else None
        head = f"exited with code {code}" if code is not None else f"{node.state}, health check failing"
        try:
            lines = [x for x in (self.root / f"{node.name}.log").read_text(errors="replace").splitlines() if x.strip()]
        except OSError:
            lines = []
        return f"{head}: {lines[-1].strip()[:200]}" if lines else head

    async def wait_healthy(self, timeout: float) -> bool:
        """True once every starting or running node is healthy; False at the deadline, or as soon as one of
        them exited (its replacement is the caller's decision)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            self.reap()
            if any(n.state == "exited" for n in self.nodes):
                return False
            if all(n.healthy for n in self.nodes if n.state in ("starting", "running")):
                return True
            await asyncio.sleep(0.1)
        return False

    async def settle(self, timeout: float, replacements: int) -> None:
        """Every starting or running node healthy within ``timeout``; a node whose process died on its own is
        replaced, as an auto scaling group replaces an instance (at most ``replacements`` in all). Raises
        RuntimeError naming each node that is not healthy, and why (its exit code, its log's last line)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self.wait_healthy(deadline - asyncio.get_running_loop().time()):
            exited = [n for n in self.nodes if n.state == "exited"]
            if not exited or replacements < len(exited) or asyncio.get_running_loop().time() > deadline:
                bad = [f"{n.name} ({self.why_down(n)})" for n in self.nodes
                       if n.state in ("starting", "running", "exited") and not n.healthy]
                raise RuntimeError(f"ingest nodes not healthy within {timeout:.0f} s: {'; '.join(bad)}")
            for n in exited:
                new = self.add(n.region, n.zone, n.capacity_type)
                self.record("autoscaler.replaced", {"old": n.name, "new": new.name, "zone": n.zone,
                                                    "why": self.why_down(n)})
            replacements -= len(exited)
            self.forget_dead()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True))
        return self._session

    async def _health_loop(self) -> None:
        while True:
            self.reap()
            targets = [n for n in self.nodes if n.state in ("starting", "running", "draining", "frozen")]
            await asyncio.gather(*(self._check(n) for n in targets))
            await asyncio.sleep(self.hc.interval_s)

    async def _check(self, node: Node) -> None:
        ok = False
        try:
            scheme, path = ("http", "/healthz") if self.hosted is None else (self.hosted.scheme,
                                                                             self.hosted.spec.health_path)
            async with self._client().get(f"{scheme}://127.0.0.1:{node.port}{path}", ssl=False,
                                          timeout=aiohttp.ClientTimeout(total=self.hc.timeout_s)) as r:
                ok = r.status == 200
        except (TimeoutError, aiohttp.ClientError, OSError):
            ok = False
        if ok:
            node.ok_streak, node.fail_streak = node.ok_streak + 1, 0
            if node.state == "starting":
                node.state = "running"
            if not node.healthy and node.ok_streak >= self.hc.healthy_threshold and node.state != "draining":
                node.healthy = True
                self.record("balancer.target_healthy", {"node": node.name, "zone": node.zone})
        else:
            node.fail_streak, node.ok_streak = node.fail_streak + 1, 0
            if node.healthy and node.fail_streak >= self.hc.unhealthy_threshold:
                node.healthy = False
                self.record("balancer.target_unhealthy", {"node": node.name, "zone": node.zone})

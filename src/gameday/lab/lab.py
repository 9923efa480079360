"""The Lab: builds the configured shape, applies faults and runbook actions, restores the shape.

Everything here runs inside the supervisor process's event loop; other processes reach it
through the control API (``gameday.lab.control``).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from gameday.config import LabSettings
from gameday.lab import postgres as pg
from gameday.lab.backups import Backups
from gameday.lab.cache import CacheGroup, CacheNode
from gameday.lab.database import DbInstance, RdsController, replication_of
from gameday.lab.fleet import Fleet, Node
from gameday.lab.hosted import HostedService
from gameday.lab.link import set_link_delay
from gameday.lab.network import Relay
from gameday.lab.refusals import RefusalWatch
from gameday.lab.restored import RestoredInstances
from gameday.lab.topology import Shape, resolve_zone, shape_of
from gameday.procs import kill_trees

__all__ = ["Lab"]


class Lab:
    def __init__(self, settings: LabSettings, root: Path) -> None:
        self.settings = settings
        self.shape: Shape = shape_of(settings)
        self.root = root
        self.events: list[dict[str, Any]] = []
        self._events_file = open(root / "events.jsonl", "a")
        sh = self.shape
        self.dbs = {d.name: DbInstance(d, root / "pg" / d.name, root / f"{d.name}.log") for d in sh.dbs}
        self.writers = {r: Relay(f"writer-{r}", lambda: None) for r in (sh.primary_region, sh.dr_region)}
        self.balancers = {r: Relay(f"balancer-{r}", lambda r=r: self._balance(r)) for r in self.writers}  # type: ignore[misc]
        self.link = Relay("link", self._link_route, delay_s=settings.link.delay_ms / 1000, delayable=True)
        self.public = Relay("public", self._public_route)
        self.regions_down: set[str] = set()
        self.zones_down: set[str] = set()
        self.zones_frozen: set[str] = set()
        self.dns_region = sh.primary_region
        self._resolved: tuple[str, float] = (sh.primary_region, 0.0)
        self.dr_promoted = False
        self.latency_ms = 0.0
        self.hosted = HostedService.prepare(settings.service, root) if settings.service is not None else None
        self.fleet = Fleet(root, settings.health_check, lambda r: self.writers[r].port, settings.db_pool_size,
                           self.record, self.hosted, workers=settings.node_workers)
        self.rds = RdsController(settings.rds, self.writers[sh.primary_region], self.dbs[sh.db("primary").name],
                                 self.dbs[sh.db("sync-standby").name], self.record)
        self._pending: set[asyncio.Task[None]] = set()
        self.restores = 0  # how many restores ran: an interruption begun before one is over (restore replaced it)
        self.refusals = RefusalWatch({n: db.log for n, db in self.dbs.items()}, self.record, settings.rds.max_connections)
        self.backups = Backups(settings.backups, root, (sh.primary_region, sh.dr_region), self._primary_port, self.record)
        self.restored = RestoredInstances(root, sh.primary_region, sh.zones[0])
        self.cache = (CacheGroup(settings.cache, root, sh.primary_region, sh.zones, self.record,
                                 dr=(sh.dr_region, sh.dr_zones[0]), link_delay_s=settings.link.delay_ms / 1000)
                      if settings.cache.enabled else None)
        if self.cache is not None:  # a hosted service's {{cache_url}}; the lab ingest API's idempotency keys
            self.fleet.cache_port = lambda: self.cache.endpoint.port if self.cache is not None else None
            self.fleet.idempotency_all = settings.cache.idempotency_keys == "every-batch"
        self.ready = False

    # ---- journal of what the lab itself did -------------------------------------------------
    def record(self, kind: str, detail: dict[str, Any]) -> None:
        ev = {"t": time.time(), "kind": kind, **detail}
        self.events.append(ev)
        del self.events[:-200]
        self._events_file.write(json.dumps(ev) + "\n")
        self._events_file.flush()

    # ---- routing ----------------------------------------------------------------------------
    def _balance(self, region: str) -> int | None:
        return None if region in self.regions_down else self.fleet.pick(region)

    def resolve_dns(self) -> str:
        """The region the failover record answers, as a resolver caching it for the TTL sees it."""
        region, expires = self._resolved
        now = time.monotonic()
        if now >= expires:
            region = self.dns_region
            self._resolved = (region, now + self.settings.dns_ttl_s)
        return region

    def _public_route(self) -> int | None:
        return self._balance(self.resolve_dns())

    def _link_route(self) -> int | None:
        p = self.shape.primary_region
        return None if p in self.regions_down else self.writers[p].port

    # ---- bring-up ---------------------------------------------------------------------------
    async def up(self) -> None:
        sh = self.shape
        self.refusals.start_at_end()
        self._later(self._watch_refusals())
        if self.cache is not None:  # milliseconds to start; it syncs while PostgreSQL starts
            await self.cache.start()
        await asyncio.to_thread(pg.prepare, self.root / "pg")
        for relay in [*self.writers.values(), *self.balancers.values(), self.link, self.public]:
            await relay.start()
        p, s, d = (self.dbs[sh.db(r).name] for r in ("primary", "sync-standby", "dr-replica"))
        b = self.settings.backups
        if b.enabled:
            await asyncio.to_thread(self.backups.prepare)
        await asyncio.to_thread(pg.init_primary, p.datadir, self.settings.rds.max_connections,
                                archive=self.backups.wal_dir() if b.enabled else None, archive_timeout_s=b.archive_timeout_s,
                                link_delay_s=self.link.delay_s)
        await p.start()
        await asyncio.to_thread(pg.create_app_role, p.port)
        await asyncio.to_thread(self._create_schema, p.port, 0 if self.hosted is not None else b.seed_rows)
        if self.hosted is not None:  # the team's migration, once, against the primary, as the application
            await asyncio.to_thread(self.hosted.run_setup, pg.app_dsn(p.port), self.root / "service-setup.log")
        await asyncio.gather(s.rebuild_as_standby(source_port=p.port, upstream_port=p.port),
                             d.rebuild_as_standby(source_port=p.port, upstream_port=self.link.port))
        await asyncio.to_thread(pg.set_sync_standby, p.port, pg.app_name(s.name))
        self.writers[sh.dr_region].route = lambda: None if sh.dr_region in self.regions_down else d.port
        self.rds.start()
        for spec in sh.nodes:
            self.fleet.add(spec.region, spec.zone, spec.capacity_type)
        self.fleet.start()
        if b.enabled:
            self._later(self.backups.run())
        await self._settle(timeout=40)
        if self.cache is not None:
            await self.cache.wait_ready()
        self.ready = True
        self.record("lab.up", {"public_port": self.public.port})

    async def _watch_refusals(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                self.refusals.poll()
            except OSError as exc:  # a log the lab cannot read: say so once a second, keep watching
                self.record("rds.error", {"error": f"connection refusal watch: {exc}"})

    @staticmethod
    def _create_schema(port: int, seed_rows: int = 0) -> None:
        with pg.connect_app(port) as conn:  # the application owns its tables
            conn.execute(pg.SCHEMA_SQL)
            if seed_rows:  # the history a database has before any drill (an accidental delete hits the oldest)
                conn.execute(pg.SEED_SQL, {"n": seed_rows})

    def _primary_port(self) -> int | None:
        db = self.rds.primary
        return db.port if db.state == "running" and not self.regions_down else None

    async def _settle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        await self.fleet.settle(timeout, replacements=2 * len(self.shape.nodes))
        while len([r for r in await self.replication() if r["state"] == "streaming"]) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError(f"standbys not streaming within {timeout:.0f} s")
            await asyncio.sleep(0.1)

    async def down(self) -> None:
        self.ready = False
        for t in self._pending:
            t.cancel()
        await self.rds.stop()
        if self.cache is not None:
            await self.cache.stop()
        await self.fleet.stop()
        await self.restored.delete_all()
        for relay in [self.public, *self.balancers.values(), self.link, *self.writers.values()]:
            await relay.stop()
        await asyncio.gather(*(db.stop_clean(timeout=5) for db in self.dbs.values() if db.state != "frozen"))
        for db in self.dbs.values():
            db.kill()
        self._events_file.close()

    # ---- faults -----------------------------------------------------------------------------
    def _zone(self, zone: str) -> str:
        return resolve_zone(self.shape, zone)

    def _region(self, region: str) -> str:
        if region not in self.writers:
            raise ValueError(f"unknown region {region!r}; expected one of: {', '.join(self.writers)}")
        return region

    async def fail_zone(self, zone: str) -> dict[str, Any]:
        z = self._zone(zone)
        nodes = self.fleet.in_zone(z)
        dbs = [db for db in self.dbs.values() if db.spec.zone == z and db.state in ("running", "frozen")]
        self.zones_down.add(z)
        cache = self.cache.in_zone(z) if self.cache is not None else []
        t = self._kill_at_once(nodes, dbs, cache)
        out = {"zone": z, "nodes": [n.name for n in nodes], "dbs": [d.name for d in dbs],
               "cache": [c.name for c in cache], "t_applied": t}
        self.record("fault.fail_zone", out)
        return out

    def _kill_at_once(self, nodes: list[Node], dbs: list[DbInstance], cache: list[CacheNode] | None = None) -> float:
        """SIGKILL all of them in one instant (a power loss); returns that instant (epoch s)."""
        t = time.time()
        pids = [n.pid for n in nodes] + [d.pid for d in dbs] + [c.pid for c in cache or []]
        kill_trees([p for p in pids if p is not None], timeout=0)  # never block the loop
        for n in nodes:
            self.fleet.kill(n)
        for db in dbs:
            db.kill()
        if cache and self.cache is not None:
            self.cache.kill(cache)
        return t

    async def freeze_zone(self, zone: str) -> dict[str, Any]:
        z = self._zone(zone)
        nodes = [n for n in self.fleet.in_zone(z) if n.state != "frozen"]
        for n in nodes:
            self.fleet.freeze(n)
        dbs = [db for db in self.dbs.values() if db.spec.zone == z and db.state == "running"]
        for db in dbs:
            db.freeze()
        cache = self.cache.in_zone(z) if self.cache is not None else []
        if self.cache is not None:
            self.cache.freeze(cache)
        self.zones_frozen.add(z)
        out = {"zone": z, "nodes": [n.name for n in nodes], "dbs": [d.name for d in dbs], "cache": [c.name for c in cache]}
        self.record("fault.freeze_zone", out)
        return out

    async def interrupt_spot(self, count: int = 1, zone: str | None = None) -> dict[str, Any]:
        if count < 1:
            raise ValueError("count must be at least 1")
        z = self._zone(zone) if zone else None
        spots = [n for n in self.fleet.nodes if n.capacity_type == "spot" and n.state == "running"
                 and n.region == self.shape.primary_region and (z is None or n.zone == z)]
        if not spots:
            raise ValueError(f"no running spot node{' in ' + z if z else ''} to interrupt")
        by_zone: dict[str, list[Node]] = {}
        for n in spots:
            by_zone.setdefault(n.zone, []).append(n)
        chosen: list[Node] = []
        while len(chosen) < count and any(by_zone.values()):
            for zn in sorted(by_zone):
                if by_zone[zn] and len(chosen) < count:
                    chosen.append(by_zone[zn].pop(0))
        for n in chosen:
            await self.fleet.drain(n)
            self._later(self._finish_interruption(n))
        out = {"nodes": [n.name for n in chosen], "notice_s": self.settings.spot_notice_s}
        self.record("fault.interrupt_spot", out)
        return out

    async def _finish_interruption(self, node: Node) -> None:
        restores = self.restores
        await asyncio.sleep(self.settings.spot_notice_s)
        if self.restores != restores:  # a restore stopped the draining node and started its replacement
            return
        self.fleet.kill(node, state="interrupted")
        self.record("spot.terminated", {"node": node.name})
        await asyncio.sleep(self.settings.spot_replace_delay_s)
        if node.zone in self.zones_down or node.region in self.regions_down or self.restores != restores:
            return
        new = self.fleet.add(node.region, node.zone, "spot")
        self.record("autoscaler.replaced", {"old": node.name, "new": new.name, "zone": node.zone})

    def _later(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def fail_over_db(self) -> dict[str, Any]:
        db = self.rds.primary
        if db.state not in ("running", "frozen"):
            raise ValueError(f"the primary {db.name} is not running ({db.state})")
        t = time.time()
        db.kill()
        out = {"instance": db.name, "zone": db.spec.zone, "t_applied": t}
        self.record("fault.fail_over_db", out)
        return out

    async def fail_cache_primary(self) -> dict[str, Any]:
        """Kill the cache primary (SIGKILL): the sentinels fail over to the replica, the endpoint follows."""
        if self.cache is None:
            raise ValueError("the lab has no cache (lab.cache.enabled is false)")
        out = self.cache.fail_primary()
        self.record("fault.fail_cache_primary", out)
        return out

    async def fail_region(self, region: str) -> dict[str, Any]:
        r = self._region(region)
        self.regions_down.add(r)
        if r == self.shape.primary_region:
            self.rds.paused = True
        nodes = self.fleet.in_region(r)
        dbs = [db for db in self.dbs.values() if db.spec.region == r and db.state in ("running", "frozen")]
        self.link.cut()
        if self.cache is not None:
            self.cache.secondary.link.cut()
        self.writers[r].cut()
        self.balancers[r].cut()
        cache = [c for c in self.cache.all if c.region == r and c.state in ("running", "frozen")] if self.cache else []
        t = self._kill_at_once(nodes, dbs, cache)
        out = {"region": r, "nodes": [n.name for n in nodes], "dbs": [d.name for d in dbs],
               "cache": [c.name for c in cache], "t_applied": t}
        self.record("fault.fail_region", out)
        return out

    async def delay_link(self, ms: float) -> dict[str, Any]:
        if ms < 0:
            raise ValueError("the delay must be >= 0 ms")
        await set_link_delay(ms / 1000, self.link, self.dbs.values(), self.cache)
        self.record("fault.delay_link", {"ms": ms})
        return {"ms": ms}

    async def inject_latency(self, ms: float = 0.0, stall_s: float = 0.0) -> dict[str, Any]:
        """Every write takes ``ms`` more; with ``stall_s``, requests arriving in the next ``stall_s`` wait until
        it is over (in the network path). On the lab's own nodes the latency is inside each node, holding one of
        its workers as a slow dependency would (so it lowers the node's capacity, as in production); on a hosted
        service, which gameday cannot reach into, it is in the network path in front of it."""
        if ms < 0 or stall_s < 0 or stall_s > 600:
            raise ValueError("ms must be >= 0 and stall_s between 0 and 600")
        inside = self.hosted is None
        for b in (self.public, *self.balancers.values()):  # every way into the nodes
            b.inject_s = 0.0 if inside else ms / 1000
            b.stall_until = time.monotonic() + stall_s if stall_s else 0.0
        missed = await self.fleet.set_latency(ms) if inside else []
        self.latency_ms = ms
        out = {"ms": ms, "stall_s": stall_s, "balancers": sorted(self.balancers), "t_applied": time.time(),
               "where": "inside each ingest node (holding a worker)" if inside else "the network path",
               **({"nodes_not_answering": missed} if missed else {})}
        self.record("fault.inject_latency", out)
        return out

    # ---- runbook actions --------------------------------------------------------------------
    async def promote_dr_db(self) -> dict[str, Any]:
        d = self.dbs[self.shape.db("dr-replica").name]
        if d.state != "running":
            raise ValueError(f"the DR replica {d.name} is not running ({d.state})")
        self.link.cut()  # stop shipping from the old region: the promoted replica must not follow it
        await asyncio.to_thread(pg.promote, d.port)
        self.dr_promoted = True
        self.record("action.promote_dr_db", {"instance": d.name})
        return {"instance": d.name}

    async def promote_cache(self) -> dict[str, Any]:
        """Runbook: promote the DR cache replica (Global Datastore failover); the primary endpoint moves to it."""
        if self.cache is None:  # a runbook written for a cache runs on a lab without one: nothing to promote
            return {"skipped": "the lab has no cache (lab.cache.enabled is false)"}
        out = await self.cache.promote_dr()
        self.record("action.promote_cache", out)
        if not out.get("endpoint_write", True):  # promoted, but the primary endpoint takes no write: not done
            raise RuntimeError(f"the primary endpoint takes no write after the promotion: {out.get('endpoint_error')}")
        return out

    async def return_primary_cache(self) -> dict[str, Any]:
        """Failback: the primary region's cache group rebuilt from the DR node, then the writer back (planned)."""
        if self.cache is None:
            return {"skipped": "the lab has no cache (lab.cache.enabled is false)"}
        from gameday.lab.cache_failback import fail_back

        out = await fail_back(self.cache)
        self.record("action.return_primary_cache", out)
        return out

    async def switch_dns(self, region: str) -> dict[str, Any]:
        self.dns_region = self._region(region)
        out = {"region": region, "ttl_s": self.settings.dns_ttl_s}
        self.record("action.switch_dns", out)
        return out

    async def drain_zone(self, zone: str) -> dict[str, Any]:
        """Take the zone's ingest nodes out of the balancers (an AZ evacuation); restore brings them back."""
        z = self._zone(zone)
        nodes = [n for n in self.fleet.in_zone(z) if n.state in ("running", "starting")]
        for n in nodes:
            n.state, n.healthy = "draining", False
        out = {"zone": z, "nodes": [n.name for n in nodes], "t_applied": time.time()}
        self.record("action.drain_zone", out)
        return out

    async def scale_dr(self, count: int) -> dict[str, Any]:
        r = self.shape.dr_region
        if count < 1 or count > 16:
            raise ValueError("count must be between 1 and 16")
        have = self.fleet.in_region(r)
        added = [self.fleet.add(r, self.shape.dr_zones[i % len(self.shape.dr_zones)], "on-demand")
                 for i in range(len(have), count)]
        removed = have[count:]  # scaling down (back to the warm standby): the newest go first
        for n in reversed(removed):
            self.fleet.kill(n, state="stopped")
        self.fleet.forget_dead()
        out = {"region": r, "count": count, "added": [n.name for n in added], "removed": [n.name for n in removed]}
        self.record("action.scale_dr", out)
        return out

    # ---- status -----------------------------------------------------------------------------
    async def replication(self) -> list[dict[str, Any]]:
        """Standbys as their upstream primaries see them (pg_stat_replication), with byte lag."""
        return await replication_of(self.dbs.values())

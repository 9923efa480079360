"""One ingest node of the lab: ``POST /v1/trips`` answers 202 only after COMMIT.

Like a real deployment's pod, a node works on at most ``--workers`` writes at once (its server's worker
concurrency); the others wait in its queue. So a node serves at most workers / service time writes per second,
and latency added inside it (``/admin/latency``: a slow dependency, ``gameday lab fault inject-latency``) lowers
that capacity, as it would in production. The queue's wait counts in the latency clients see.

Run as its own process: ``python -m gameday.lab.ingest_node --name … --port … --db-port … [--workers N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gameday.lab.idempotency import IN_FLIGHT, CacheUnavailable, IdempotencyKeys
from gameday.lab.postgres import app_dsn
from gameday.lab.trips import BatchError, parse_batch

__all__ = ["build_app", "main"]

_INSERT = """
INSERT INTO trips (event_id, trip_id, kind, ts, lat, lon, node)
SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::float8[], %s::float8[], %s::text[])
ON CONFLICT (event_id) DO NOTHING
"""
_DB_DEADLINE_S = 5.0

T = TypeVar("T")


class Connections:
    """A fixed number of database connections, each (re)connected on demand when it is next used.

    Written by hand rather than with psycopg_pool: the pool reconnects broken connections in the
    background with a fixed 1 s initial backoff and makes requests wait for it, so one writer
    endpoint flip during a failover stalls every request for a second or more. Here a request that
    finds its connection broken reconnects at once, which is what an application tuned for fast
    failover does (and what the drill measures).
    """

    def __init__(self, conninfo: str, size: int) -> None:
        self.conninfo = conninfo
        self.stale_before = 0.0  # connections opened before this moment are presumed broken (a failover)
        self._free: asyncio.Queue[tuple[psycopg.AsyncConnection, float] | None] = asyncio.Queue()
        for _ in range(size):
            self._free.put_nowait(None)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        slot = await self._free.get()
        try:
            conn, opened = slot if slot is not None else (None, 0.0)
            if conn is None or conn.closed or conn.broken or opened <= self.stale_before:
                if conn is not None:
                    await conn.close()
                slot = None
                conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=False)
                slot = (conn, time.monotonic())
            async with conn.transaction():  # COMMIT on leaving the block, ROLLBACK on an error
                yield conn
        except BaseException as exc:
            if isinstance(exc, psycopg.OperationalError):
                self.stale_before = time.monotonic()  # one broken connection: reopen them all on next use
            if slot is not None and (slot[0].broken or slot[0].closed):
                slot = None
            elif slot is not None and isinstance(exc, asyncio.CancelledError):
                # a request cut off by its deadline mid-transaction: its connection may still be inside that
                # transaction (and hold its row locks); never hand it to the next request
                asyncio.ensure_future(slot[0].close())
                slot = None
            raise
        finally:
            self._free.put_nowait(slot)

    async def run(self, work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        """``work`` in a transaction; once more on a fresh connection if the first one was broken
        (a failover breaks every open connection; callers' work must be idempotent)."""
        try:
            async with self.connection() as conn:
                return await work(conn)
        except psycopg.OperationalError:
            async with self.connection() as conn:
                return await work(conn)

    async def close(self) -> None:
        while not self._free.empty():
            slot = self._free.get_nowait()
            if slot is not None:
                await slot[0].close()


NODE_KEY = web.AppKey("node", dict)
POOL_KEY = web.AppKey("pool", Connections)
IDEM_KEY = web.AppKey("idempotency", IdempotencyKeys)  # absent: no cache, no idempotency keys
METRICS_KEY = web.AppKey("metrics", dict)


_NODE_LABELS = ("node", "region", "zone")  # on every series, so a panel can say which node it shows


def _metrics(labels: dict[str, str]) -> dict[str, Any]:
    """The node's metrics; every series carries node, region and zone (never ``instance``, a target label)."""
    reg = CollectorRegistry()
    info = Gauge("gameday_ingest_node_info", "Ingest node labels", list(labels), registry=reg)
    info.labels(**labels).set(1)
    base = {k: labels[k] for k in _NODE_LABELS}
    return {
        "registry": reg,
        "base": base,
        "requests": Counter("gameday_ingest_requests", "Ingest requests by HTTP status", [*_NODE_LABELS, "code"],
                            registry=reg),
        "events": Counter("gameday_ingest_events", "Trip events committed (new ids)", _NODE_LABELS,
                          registry=reg).labels(**base),
        "duplicates": Counter("gameday_ingest_duplicate_events", "Re-sent event ids not stored twice", _NODE_LABELS,
                              registry=reg).labels(**base),
        "latency": Histogram("gameday_ingest_request_seconds", "Time to answer an ingest write", _NODE_LABELS,
                             registry=reg, buckets=(.002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5)).labels(**base),
        "draining": Gauge("gameday_ingest_draining", "1 once a spot interruption notice arrived", _NODE_LABELS,
                          registry=reg).labels(**base),
    }


async def post_trips(request: web.Request) -> web.Response:
    m = request.app[METRICS_KEY]
    node = request.app[NODE_KEY]
    started = time.perf_counter()
    async with node["workers"]:  # a worker of the node's: the rest wait in its queue
        node["busy"] += 1
        node["peak_busy"] = max(node["peak_busy"], node["busy"])
        try:
            if node["latency_s"]:
                await asyncio.sleep(node["latency_s"])  # the injected latency holds the worker, as a slow dependency does
            status, body = await _ingest(request)
        finally:
            node["busy"] -= 1
    m["requests"].labels(**m["base"], code=str(status)).inc()
    m["latency"].observe(time.perf_counter() - started)
    return web.json_response(body, status=status)


async def _ingest(request: web.Request) -> tuple[int, dict[str, object]]:
    try:
        batch = parse_batch(await request.read())
    except BatchError as exc:
        return 400, {"error": str(exc)}
    keys = request.app.get(IDEM_KEY)
    header = request.headers.get("Idempotency-Key")
    if keys is None or not batch.events or (header is None and not request.app[NODE_KEY]["idempotency_all"]):
        return await _store(request, batch.events)
    key = keys.key(header, batch.events[0].event_id)
    try:
        prior = await keys.claim(key)
    except CacheUnavailable as exc:
        return 503, {"error": f"idempotency store unavailable: {exc}"}
    if prior == IN_FLIGHT:
        return 409, {"error": "a request with this idempotency key is in flight"}
    if isinstance(prior, dict):
        return 202, {**prior, "replayed": True}
    status, body = await _store(request, batch.events)
    await keys.settle(key, body if status == 202 else None)
    return status, body


async def _store(request: web.Request, ev: list[Any]) -> tuple[int, dict[str, object]]:
    node = request.app[NODE_KEY]["name"]
    cols = ([e.event_id for e in ev], [e.trip_id for e in ev], [e.kind for e in ev], [e.ts for e in ev],
            [e.lat for e in ev], [e.lon for e in ev], [node] * len(ev))
    try:
        inserted = await asyncio.wait_for(_commit(request.app[POOL_KEY], cols), _DB_DEADLINE_S)
    except TimeoutError:
        return 504, {"error": "database did not answer in time; the batch may or may not be committed"}
    except Exception as exc:  # noqa: BLE001 - any driver error means "not acknowledged"
        return 503, {"error": f"database unavailable: {type(exc).__name__}: {str(exc).strip()[:200]}"}
    m = request.app[METRICS_KEY]
    m["events"].inc(inserted)
    m["duplicates"].inc(len(ev) - inserted)
    return 202, {"accepted": len(ev), "stored": inserted, "node": node}


async def _commit(pool: Connections, cols: tuple[list[Any], ...]) -> int:
    """Insert and COMMIT (a retry is safe: event ids make the insert idempotent)."""
    async def insert(conn: psycopg.AsyncConnection) -> int:
        cur = await conn.execute(_INSERT, cols)
        return cur.rowcount
    return await pool.run(insert)


async def get_trip(request: web.Request) -> web.Response:
    """Read one event back from the database: the read half of the synthetic write-then-read probe."""
    eid = request.match_info["event_id"]
    try:
        async def read(conn: psycopg.AsyncConnection) -> tuple[object, ...] | None:
            cur = await conn.execute("SELECT event_id, trip_id, kind, ts FROM trips WHERE event_id = %s", (eid,))
            return await cur.fetchone()

        async with asyncio.timeout(_DB_DEADLINE_S):
            row = await request.app[POOL_KEY].run(read)
    except TimeoutError:
        return web.json_response({"error": "database did not answer in time"}, status=504)
    except Exception as exc:  # noqa: BLE001
        return web.json_response({"error": f"database unavailable: {type(exc).__name__}"}, status=503)
    if row is None:
        return web.json_response({"error": f"no event {eid!r}"}, status=404)
    return web.json_response({"event_id": row[0], "trip_id": row[1], "kind": row[2], "ts": row[3]})


async def healthz(request: web.Request) -> web.Response:
    node = request.app[NODE_KEY]
    labels = {k: node[k] for k in ("name", "region", "zone", "capacity_type")}
    if node["draining"]:
        return web.json_response({"status": "draining", **labels}, status=503)
    return web.json_response({"status": "ok", **labels, "workers_busy": node["busy"], "workers_peak": node["peak_busy"]})


async def drain(request: web.Request) -> web.Response:
    request.app[NODE_KEY]["draining"] = True
    request.app[METRICS_KEY]["draining"].set(1)
    return web.json_response({"status": "draining"})


async def latency(request: web.Request) -> web.Response:
    """The latency fault inside the node: every write holds its worker ``ms`` longer (0: none)."""
    ms = float((await request.json()).get("ms") or 0.0)
    request.app[NODE_KEY]["latency_s"] = max(0.0, ms) / 1000
    return web.json_response({"ms": ms})


async def metrics(request: web.Request) -> web.Response:
    data = generate_latest(request.app[METRICS_KEY]["registry"])
    return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_app(*, name: str, region: str, zone: str, capacity_type: str, db_port: int, pool_size: int,
              workers: int = 8, latency_ms: float = 0.0, cache_port: int | None = None,
              idempotency_all: bool = False) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[NODE_KEY] = {"name": name, "region": region, "zone": zone, "capacity_type": capacity_type, "draining": False,
                     "workers": asyncio.Semaphore(workers), "busy": 0, "peak_busy": 0, "latency_s": latency_ms / 1000,
                     "idempotency_all": idempotency_all}  # every batch keyed, not only those sending Idempotency-Key
    app[METRICS_KEY] = _metrics({"node": name, "region": region, "zone": zone, "capacity_type": capacity_type})
    conninfo = app_dsn(db_port)  # the application's role: the control plane's slots are not its to take
    pool = Connections(conninfo, pool_size)
    app[POOL_KEY] = pool
    keys = IdempotencyKeys(cache_port) if cache_port else None  # idempotency keys in the cache (the lab has one)
    if keys is not None:
        app[IDEM_KEY] = keys

    async def lifecycle(app: web.Application):
        yield
        await pool.close()
        if keys is not None:
            await keys.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/v1/trips", post_trips)
    app.router.add_get("/v1/trips/{event_id}", get_trip)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/admin/drain", drain)
    app.router.add_post("/admin/latency", latency)
    return app


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="gameday-ingest-node", description="One ingest node of the gameday lab")
    p.add_argument("--name", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--zone", required=True)
    p.add_argument("--capacity-type", choices=["on-demand", "spot"], required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--db-port", type=int, required=True)
    p.add_argument("--pool-size", type=int, default=4)
    p.add_argument("--workers", type=int, default=8, help="writes worked on at once (the rest queue)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="injected latency each write holds its worker")
    p.add_argument("--cache-port", type=int, default=None, help="the cache's primary endpoint: idempotency keys")
    p.add_argument("--idempotency-all", action="store_true", help="key every batch (default: those with the header)")
    a = p.parse_args(argv)
    app = build_app(name=a.name, region=a.region, zone=a.zone, capacity_type=a.capacity_type,
                    db_port=a.db_port, pool_size=a.pool_size, workers=a.workers, latency_ms=a.latency_ms,
                    cache_port=a.cache_port, idempotency_all=a.idempotency_all)
    web.run_app(app, host="127.0.0.1", port=a.port, print=None, access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()

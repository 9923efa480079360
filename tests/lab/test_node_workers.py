"""A lab ingest node bounds its concurrency as a real pod does (no lab, no database: the node in-process, its
database port closed, so each write ends in a quick 503): it works on at most ``workers`` writes at once, the
rest wait in its queue, and latency injected inside it holds a worker. So n writes take at least
ceil(n / workers) x the latency: a node's capacity is workers / service time, and more latency lowers it."""

from __future__ import annotations

import asyncio
import json
import math
import time

import aiohttp
from aiohttp import web

from gameday.lab.ingest_node import build_app
from gameday.procs import free_port

BODY = json.dumps({"events": [{"event_id": "e1", "trip_id": "t1", "kind": "start", "ts": 1.0, "lat": 0.0,
                               "lon": 0.0}]})


async def _burst(workers: int, latency_ms: float, n: int) -> tuple[float, dict, list[int]]:
    """n concurrent writes to a node: (seconds until the last answer, its /healthz, the statuses)."""
    app = build_app(name="n1", region="r", zone="z", capacity_type="on-demand", db_port=free_port(), pool_size=2,
                    workers=workers)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
            async with s.post(f"{base}/admin/latency", json={"ms": latency_ms}) as r:
                assert r.status == 200

            async def one() -> int:
                async with s.post(f"{base}/v1/trips", data=BODY, headers={"Content-Type": "application/json"}) as r:
                    await r.read()
                    return r.status

            t0 = time.monotonic()
            statuses = await asyncio.gather(*(one() for _ in range(n)))
            took = time.monotonic() - t0
            async with s.get(f"{base}/healthz") as r:
                health = await r.json()
    finally:
        await runner.cleanup()
    return took, health, list(statuses)


def test_a_node_works_on_at_most_its_workers_and_the_latency_holds_them():
    took, health, statuses = asyncio.run(_burst(workers=2, latency_ms=150, n=6))
    assert statuses == [503] * 6, "the database is unreachable: every write refused, none lost silently"
    assert health["workers_peak"] == 2 and health["workers_busy"] == 0
    assert took >= math.ceil(6 / 2) * 0.150, f"6 writes, 2 workers, 150 ms each: three waves, not {took:.3f} s"


def test_with_enough_workers_the_same_burst_is_one_wave():
    took, health, _ = asyncio.run(_burst(workers=6, latency_ms=150, n=6))
    assert health["workers_peak"] == 6, "every write worked on at once: the bound above is the node's, not the client's"

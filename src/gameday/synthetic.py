"""The synthetic write-then-read transaction through the public endpoint: the one probe the drill's
live probe, the RTO measurement and the chaos probes all use."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

__all__ = ["write_then_read", "write_then_read_once", "probe_event"]


def probe_event(eid: str, now: float) -> dict[str, object]:
    return {"event_id": eid, "trip_id": "trip-" + eid[-6:], "kind": "update", "ts": now, "lat": 40.7, "lon": -74.0}


async def write_then_read(session: aiohttp.ClientSession, endpoint: str, eid: str) -> tuple[bool, str | None]:
    """Write one event, read it back; (ok, why not). Never raises for network or HTTP trouble."""
    try:
        body = json.dumps({"events": [probe_event(eid, time.time())]})
        async with session.post(endpoint + "/v1/trips", data=body, headers={"Content-Type": "application/json"}) as r:
            if r.status != 202:
                return False, f"write: HTTP {r.status}"
        async with session.get(f"{endpoint}/v1/trips/{eid}") as r:
            if r.status != 200 or (await r.json()).get("event_id") != eid:
                return False, f"read: HTTP {r.status}"
        return True, None
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"[:200]


def write_then_read_once(endpoint: str, eid: str, timeout: float = 2.0) -> tuple[bool, float]:
    """One transaction from synchronous code (chaos probes): (ok, seconds it took)."""
    async def once() -> bool:
        conn = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), connector=conn) as session:
            ok, _ = await write_then_read(session, endpoint, eid)
            return ok

    started = time.monotonic()
    ok = asyncio.run(once())
    return ok, time.monotonic() - started

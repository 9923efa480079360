"""The synthetic write-then-read transaction through the public endpoint, as the service description
says: the one probe the drill's live probe, the RTO measurement and the chaos probes all use."""

from __future__ import annotations

import asyncio
import ssl
import time

import aiohttp

from gameday.service.ids import IdScheme
from gameday.service.resolved import Service

__all__ = ["write_then_read", "write_then_read_once", "post_batch"]


def _tls(svc: Service) -> ssl.SSLContext | bool:
    return svc.ssl_context if svc.ssl_context is not None else True


async def post_batch(session: aiohttp.ClientSession, svc: Service, ids: IdScheme, first: int, count: int,
                     run_id: str) -> int:
    """Write events ``first .. first+count-1``; the HTTP status (an exception when there is no answer)."""
    body = svc.write_body(ids, first, count, time.time(), run_id)
    async with session.request(svc.spec.write.method, svc.url + svc.write_target(run_id), data=body.encode(),
                               headers=svc.request_headers(run_id), ssl=_tls(svc)) as r:
        await r.read()
        return r.status


async def write_then_read(session: aiohttp.ClientSession, svc: Service, ids: IdScheme, n: int,
                          run_id: str) -> tuple[bool, str | None]:
    """Write event ``n``, read it back (when the service has a read); (ok, why not). Never raises for
    network or HTTP trouble."""
    try:
        status = await post_batch(session, svc, ids, n, 1, run_id)
        if not svc.write_ok(status):
            return False, f"write: HTTP {status}"
        path = svc.read_target(ids, n, run_id)
        if path is None or svc.spec.read is None:
            return True, None
        async with session.request(svc.spec.read.method, svc.url + path, headers=svc.request_headers(run_id),
                                   ssl=_tls(svc)) as r:
            await r.read()
            if not svc.read_ok(r.status):
                return False, f"read: HTTP {r.status}"
        return True, None
    except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        return False, svc.redact(f"{type(exc).__name__}: {exc}")[:200]


def write_then_read_once(svc: Service, ids: IdScheme, n: int, run_id: str, timeout: float = 2.0) -> tuple[bool, float]:
    """One transaction from synchronous code (chaos probes): (ok, seconds it took)."""
    async def once() -> bool:
        conn = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), connector=conn) as session:
            ok, _ = await write_then_read(session, svc, ids, n, run_id)
            return ok

    started = time.monotonic()
    ok = asyncio.run(once())
    return ok, time.monotonic() - started

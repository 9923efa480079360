"""The synthetic write-then-read transaction through the public endpoint, as the service description
says: the one probe the drill's live probe, the RTO measurement and the chaos probes all use.

A failed probe says why: a short ``error`` (``write: HTTP 401``, for the probe's own journal line) and a
``reason`` with the answer's body or the exception's message, secrets redacted (``gameday.reasons``), which
the caller tallies. With ``read.within_s`` the read-back of an asynchronous service is asked again, at most
:data:`READ_POLLS_MAX` times, until it answers ok or that long after the write was acknowledged.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass

import aiohttp

from gameday.reasons import exc_reason, http_reason
from gameday.service.ids import IdScheme
from gameday.service.resolved import Service

__all__ = ["ProbeAnswer", "READ_POLLS_MAX", "write_then_read", "write_then_read_once", "post_batch", "write_batch"]

READ_POLLS_MAX = 20  # reads of one event at most, whatever read.within_s says
_FIRST_PAUSE_S, _MAX_PAUSE_S = 0.05, 0.5  # between two reads: doubling from the first to the largest
_NETWORK = (TimeoutError, aiohttp.ClientError, OSError, ValueError)


@dataclass(frozen=True)
class ProbeAnswer:
    ok: bool
    error: str | None = None  # short: "write: HTTP 401", "read: ClientConnectorError: ..."
    reason: str | None = None  # with the body's first characters: what the failure tally counts
    reads: int = 0  # how many times the read-back was asked


def _tls(svc: Service) -> ssl.SSLContext | bool:
    return svc.ssl_context if svc.ssl_context is not None else True


async def write_batch(session: aiohttp.ClientSession, svc: Service, ids: IdScheme, first: int, count: int,
                      run_id: str) -> tuple[int, bytes]:
    """Write events ``first .. first+count-1``: the HTTP status and body (an exception when there is no answer)."""
    body = svc.write_body(ids, first, count, time.time(), run_id)
    async with session.request(svc.spec.write.method, svc.url + svc.write_target(run_id), data=body.encode(),
                               headers=svc.request_headers(run_id), ssl=_tls(svc)) as r:
        return r.status, await r.read()


async def post_batch(session: aiohttp.ClientSession, svc: Service, ids: IdScheme, first: int, count: int,
                     run_id: str) -> int:
    """Write events ``first .. first+count-1``; the HTTP status (an exception when there is no answer)."""
    return (await write_batch(session, svc, ids, first, count, run_id))[0]


async def _read(session: aiohttp.ClientSession, svc: Service, path: str, run_id: str) -> tuple[int, bytes]:
    assert svc.spec.read is not None
    async with session.request(svc.spec.read.method, svc.url + path, headers=svc.request_headers(run_id),
                               ssl=_tls(svc)) as r:
        return r.status, await r.read()


async def _read_back(session: aiohttp.ClientSession, svc: Service, path: str, run_id: str,
                     acked_at: float) -> tuple[int, bytes, int]:
    """Read until ok, or ``read.within_s`` after the acknowledgement, or READ_POLLS_MAX reads: (status, body, reads)."""
    assert svc.spec.read is not None
    deadline = acked_at + svc.spec.read.within_s
    pause, reads = _FIRST_PAUSE_S, 0
    while True:
        status, body = await _read(session, svc, path, run_id)
        reads += 1
        left = deadline - time.monotonic()
        if svc.read_ok(status) or reads >= READ_POLLS_MAX or left <= 0:
            return status, body, reads
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, _MAX_PAUSE_S)


def _exc(op: str, exc: BaseException, session: aiohttp.ClientSession, svc: Service) -> ProbeAnswer:
    if isinstance(exc, TimeoutError) and not str(exc):
        exc = TimeoutError(f"no answer within {session.timeout.total:g} s")
    reason = exc_reason(op, exc, svc.secrets)
    return ProbeAnswer(False, reason, reason)


async def write_then_read(session: aiohttp.ClientSession, svc: Service, ids: IdScheme, n: int,
                          run_id: str) -> ProbeAnswer:
    """Write event ``n``, read it back (when the service has a read). Never raises for network or HTTP trouble."""
    try:
        status, body = await write_batch(session, svc, ids, n, 1, run_id)
    except _NETWORK as exc:
        return _exc("write", exc, session, svc)
    if not svc.write_ok(status):
        return ProbeAnswer(False, f"write: HTTP {status}", http_reason("write", status, body, svc.secrets))
    path = svc.read_target(ids, n, run_id)
    if path is None or svc.spec.read is None:
        return ProbeAnswer(True)
    try:
        status, body, reads = await _read_back(session, svc, path, run_id, time.monotonic())
    except _NETWORK as exc:
        return _exc("read", exc, session, svc)
    if not svc.read_ok(status):
        return ProbeAnswer(False, f"read: HTTP {status}", http_reason("read", status, body, svc.secrets), reads)
    return ProbeAnswer(True, reads=reads)


def write_then_read_once(svc: Service, ids: IdScheme, n: int, run_id: str,
                         timeout: float = 2.0) -> tuple[ProbeAnswer, float]:
    """One transaction from synchronous code (chaos probes): (what the service answered, seconds it took)."""
    async def once() -> ProbeAnswer:
        conn = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), connector=conn) as session:
            return await write_then_read(session, svc, ids, n, run_id)

    started = time.monotonic()
    answer = asyncio.run(once())
    return answer, time.monotonic() - started

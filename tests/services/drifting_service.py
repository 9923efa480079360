"""A loopback HTTP service that drifts, for the windowed SLO's tests (not gameday's code): every write is answered
202 at once until ``--slow-after`` seconds after the first one it received, then ``--slow-ms`` late (a leak that
shows after a while, as soaks find them), until ``--slow-until`` seconds (a passing slowdown; default: never
fast again). Stops by itself after ``--seconds``.

    python drifting_service.py --port P [--slow-after 3] [--slow-ms 250] [--slow-until S] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import web
from loopback import arguments, one_handler, serve_for


def app(a: argparse.Namespace) -> web.Application:
    first: list[float] = []

    async def write(request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        if not first:
            first.append(now)
        if a.slow_after <= now - first[0] < a.slow_until:
            await asyncio.sleep(a.slow_ms / 1000)
        return web.json_response({}, status=202)

    return one_handler(write)


if __name__ == "__main__":
    p = arguments()
    p.add_argument("--slow-after", type=float, default=3.0)
    p.add_argument("--slow-ms", type=float, default=250.0)
    p.add_argument("--slow-until", type=float, default=float("inf"))
    a = p.parse_args()
    serve_for(app(a), a.port, a.seconds)

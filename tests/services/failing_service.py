"""A loopback HTTP service that fails the way real ones do, for the gate's tests (not gameday's code).

Every write is answered ``--ok-status`` (202) except a deterministic share ``--error-share`` answered
``--status`` with ``--body``; ``--delay-ms`` makes every answer that late; ``--token`` makes it require
``Authorization: Bearer TOKEN`` and answer 401 otherwise, echoing the header it got (as careless services do, so
the test can check that gameday redacts it). Stops by itself after ``--seconds``.

    python failing_service.py --port P [--error-share 0.99] [--status 500] [--body TEXT] [--delay-ms 0]
                              [--token T] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import math

from aiohttp import web
from loopback import arguments, one_handler, serve_for


def app(a: argparse.Namespace) -> web.Application:
    seen = [0]

    async def write(request: web.Request) -> web.Response:
        await request.read()
        if a.delay_ms:
            await asyncio.sleep(a.delay_ms / 1000)
        if a.token is not None:
            got = request.headers.get("Authorization", "")
            if got != f"Bearer {a.token}":
                return web.Response(status=401, text=f"unauthorized: token rejected ({got})")
        k = seen[0]
        seen[0] += 1
        if math.floor((k + 1) * a.error_share) > math.floor(k * a.error_share):  # exactly that share fails
            return web.Response(status=a.status, text=a.body)
        return web.json_response({}, status=a.ok_status)

    return one_handler(write)


if __name__ == "__main__":
    p = arguments()
    p.add_argument("--error-share", type=float, default=0.0)
    p.add_argument("--status", type=int, default=500)
    p.add_argument("--body", default="internal error")
    p.add_argument("--ok-status", type=int, default=202)
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--token", default=None)
    a = p.parse_args()
    serve_for(app(a), a.port, a.seconds)

"""A loopback service with a hard capacity, for the capacity search's tests (not gameday's code).

One worker serves one request at a time for exactly ``--service-ms``: a request that arrives while the worker is
busy waits its turn, so the service answers at most 1000 / service-ms requests per second and, past that rate,
a queue grows and every answer comes later than the one before. The worker is simulated exactly (each answer is
due at max(arrival, when the previous one finishes) + service time), so the capacity does not depend on how
busy this machine is. Every write is answered 202. Stops by itself after ``--seconds``.

    python one_worker.py --port P [--service-ms 10] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import web
from loopback import arguments, one_handler, serve_for


def app(a: argparse.Namespace) -> web.Application:
    free_at = [0.0]  # when the one worker finishes the last request it accepted (monotonic seconds)
    service_s = a.service_ms / 1000

    async def write(request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        done = max(now, free_at[0]) + service_s
        free_at[0] = done
        await asyncio.sleep(max(0.0, done - time.monotonic()))
        return web.json_response({}, status=202)

    return one_handler(write)


if __name__ == "__main__":
    p = arguments()
    p.add_argument("--service-ms", type=float, default=10.0)
    a = p.parse_args()
    serve_for(app(a), a.port, a.seconds)

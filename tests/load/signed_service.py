"""A loopback service whose writes need ``X-Signature``: the HMAC-SHA256 of the body under a key (202 when it
matches, 401 otherwise), as a team's API with request signing would. Stops by itself after --seconds.

    python signed_service.py --port P --key K [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac

from aiohttp import web


def app(key: bytes) -> web.Application:
    async def write(request: web.Request) -> web.Response:
        body = await request.read()
        good = hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Signature", ""), good):
            return web.json_response({"error": "bad signature"}, status=401)
        return web.json_response({}, status=202)

    a = web.Application()
    a.router.add_post("/v1/trips", write)
    return a


async def serve(port: int, key: bytes, seconds: float) -> None:
    runner = web.AppRunner(app(key), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.sleep(seconds)
    await runner.cleanup()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--seconds", type=float, default=60.0)
    a = p.parse_args()
    asyncio.run(serve(a.port, a.key.encode(), a.seconds))

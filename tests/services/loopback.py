"""What the small aiohttp test services share: every path answered by one handler, on 127.0.0.1 only, for a
bounded time (a service that outlives its test stops by itself)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web


def one_handler(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    out = web.Application()
    out.router.add_route("*", "/{tail:.*}", handler)
    return out


def arguments() -> argparse.ArgumentParser:
    """``--port`` and ``--seconds`` (how long the service lives); each service adds its own."""
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, default=60.0)
    return p


def serve_for(app: web.Application, port: int, seconds: float) -> None:
    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        await asyncio.sleep(seconds)
        await runner.cleanup()

    asyncio.run(main())

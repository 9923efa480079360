"""The lab's network: TCP relays for the writer endpoints, balancers, the public endpoint and
the cross-region link (delay and cut switch).

Written by hand: no library offers an in-process asyncio TCP relay with per-connection routing,
a byte delay line and a cut switch that drops what is in flight.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["Relay", "Route"]

# A route picks the upstream port for a new client connection (None: refuse it).
Route = Callable[[], "int | None | Awaitable[int | None]"]

_CHUNK = 65536


class Relay:
    """Listen on 127.0.0.1:``port``; forward each connection to the port ``route`` picks.

    ``delay_s`` delays every byte in both directions (a long-haul link). ``cut()`` drops every
    connection at once, bytes in flight included, and refuses new ones until ``mend()``.
    """

    def __init__(self, name: str, route: Route, *, delay_s: float = 0.0, delayable: bool = False) -> None:
        self.name = name
        self.route = route
        self.delay_s = delay_s
        self.delayable = delayable  # a delay set later reaches connections already open (a link's delay line)
        self.inject_s = 0.0  # extra latency on every request (client -> server chunk): the latency fault
        self.stall_until = 0.0  # requests arriving before this monotonic time wait for it: the stall fault
        self.is_cut = False
        self.port = 0
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port, backlog=1024)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_all()

    def cut(self) -> None:
        self.is_cut = True
        self.drop_all()

    def mend(self) -> None:
        self.is_cut = False

    def drop_all(self) -> None:
        """Abort every open connection (RST to both sides); in-flight bytes are lost."""
        for w in list(self._writers):
            w.transport.abort()
        for t in list(self._tasks):
            t.cancel()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        up_writer: asyncio.StreamWriter | None = None
        try:
            if self.is_cut:
                return
            target = self.route()
            if asyncio.iscoroutine(target):
                target = await target
            if not isinstance(target, int):
                return
            try:
                up_reader, upstream = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", target), 2.0)
            except (TimeoutError, OSError):
                return
            up_writer = upstream
            self._writers.add(upstream)
            self.connections += 1
            await asyncio.gather(self._pipe(reader, upstream, inbound=True), self._pipe(up_reader, writer))
        except asyncio.CancelledError:
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    self._writers.discard(w)
                    w.transport.abort() if self.is_cut else w.close()
            self._tasks.discard(task)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, inbound: bool = False) -> None:
        if self.delay_s <= 0 and not self.delayable:
            await self._copy(src, dst, inbound)
        else:
            await self._delayed_copy(src, dst)

    async def _injected(self) -> None:
        """The latency faults, in the network path in front of the service (whatever service it is)."""
        wait = max(self.stall_until - time.monotonic(), 0.0) + self.inject_s
        if wait > 0:
            await asyncio.sleep(wait)

    async def _copy(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, inbound: bool = False) -> None:
        try:
            while data := await src.read(_CHUNK):
                if inbound and (self.inject_s or self.stall_until):
                    await self._injected()
                dst.write(data)
                await dst.drain()
            if dst.can_write_eof():
                dst.write_eof()
        except (OSError, RuntimeError):
            dst.transport.abort()

    async def _delayed_copy(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def emit() -> None:
            while True:
                due, data = await line.get()
                if not data:
                    break
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                dst.write(data)
                await dst.drain()
            if dst.can_write_eof():
                dst.write_eof()

        out = asyncio.ensure_future(emit())
        try:
            while True:
                data = await src.read(_CHUNK)
                line.put_nowait((time.monotonic() + self.delay_s, data))
                if not data:
                    break
            await out
        except (OSError, RuntimeError):
            dst.transport.abort()
        finally:
            out.cancel()

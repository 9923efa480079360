"""A no-op HTTP target on loopback for benchmarks and generator tests: answers every request 202 '{}',
optionally after a fixed delay (a slow service: ``--delay-ms``) and over TLS (``--cert``/``--key``).

Written by hand on asyncio's Protocol API: the benchmark needs a target far cheaper per request
than the generator it measures, which no general-purpose HTTP server is.
"""

from __future__ import annotations

import argparse
import asyncio
import ssl

__all__ = ["serve", "main"]

_RESPONSE = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class _NoOp(asyncio.Protocol):
    delay_s = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        out = []
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buf[:end].lower()
            i = head.find(b"content-length:")
            length = int(head[i + 15:head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None]) if i >= 0 else 0
            if len(self.buf) < end + 4 + length:
                break
            self.buf = self.buf[end + 4 + length:]
            out.append(_RESPONSE)
        if out and self.delay_s:
            asyncio.get_running_loop().call_later(self.delay_s, self._write, b"".join(out))
        elif out:
            self.t.write(b"".join(out))  # type: ignore[attr-defined]

    def _write(self, data: bytes) -> None:
        if not self.t.is_closing():
            self.t.write(data)  # type: ignore[attr-defined]


async def serve(port: int, seconds: float, delay_ms: float = 0.0, cert: str | None = None,
                key: str | None = None) -> None:
    tls = None
    if cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
    proto = type("_Slow", (_NoOp,), {"delay_s": delay_ms / 1000})
    server = await asyncio.get_running_loop().create_server(proto, "127.0.0.1", port, backlog=1024, ssl=tls)
    async with server:
        await asyncio.sleep(seconds)  # bounded: it stops by itself


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="noop-target", description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, default=300.0, help="stop after this long")
    p.add_argument("--delay-ms", type=float, default=0.0, help="answer each request this late")
    p.add_argument("--cert", help="PEM certificate: serve TLS")
    p.add_argument("--key", help="PEM private key of --cert")
    a = p.parse_args(argv)
    asyncio.run(serve(a.port, a.seconds, a.delay_ms, a.cert, a.key))


if __name__ == "__main__":
    main()

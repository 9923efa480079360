"""The cross-region link's delay (``gameday.lab.network.Relay``) and the replication timeouts behind it
(``gameday.lab.postgres``): in-process, an echo server on loopback, no lab.

A drill's ``link_delay_ms`` is set on a link whose replication connection is already open: it must reach that
connection, and PostgreSQL's timeouts must outlast the round trip it makes, or the DR replica's stream ends
before the fault and RPO reads more than the link's lag."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given
from hypothesis import strategies as st

from gameday.lab.network import Relay
from gameday.lab.postgres import _conf, replication_timeout_ms


async def _echo_through(relay: Relay, delay_after_open_s: float) -> tuple[float, float]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(100):
            writer.write(data)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    relay.route = lambda: int(server.sockets[0].getsockname()[1])
    port = await relay.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        rtts = []
        for delay in (relay.delay_s, delay_after_open_s):
            relay.delay_s = delay
            t = time.monotonic()
            writer.write(b"ping")
            await writer.drain()
            assert await asyncio.wait_for(reader.readexactly(4), 5) == b"ping"
            rtts.append(time.monotonic() - t)
        return rtts[0], rtts[1]
    finally:
        writer.close()
        await relay.stop()
        server.close()


def test_a_delay_set_on_an_open_link_reaches_its_connection_both_ways():
    before, after = asyncio.run(_echo_through(Relay("link", lambda: None, delay_s=0.0, delayable=True), 0.2))
    assert before < 0.2 and after >= 0.4, (before, after)  # 0.2 s each way, on the connection opened at 0


def test_a_relay_that_is_not_a_link_stays_a_plain_copy():
    before, after = asyncio.run(_echo_through(Relay("balancer", lambda: None), 0.2))
    assert before < 0.2 and after < 0.2, (before, after)  # the balancers' fast path: no delay line


@given(st.floats(0.0, 60.0))
def test_replication_timeouts_outlast_a_keepalive_round_trip_behind_any_link_delay(delay_s):
    ms = replication_timeout_ms(delay_s)
    assert ms / 2 > 2 * delay_s * 1000  # the walsender asks at half its timeout; the answer takes two delays
    assert ms >= 3000


def test_the_server_configuration_carries_the_links_timeouts():
    conf = _conf(100, 1.5)
    assert "wal_sender_timeout = '9000ms'" in conf and "wal_receiver_timeout = '9000ms'" in conf
    assert "wal_sender_timeout = '3000ms'" in _conf(100)


def test_one_setting_delays_both_links_and_fits_the_running_servers(monkeypatch):
    from types import SimpleNamespace

    from gameday.lab import link

    fitted: list[tuple[list[int], float]] = []
    monkeypatch.setattr(link.pg, "fit_replication_timeouts", lambda ports, d: fitted.append((ports, d)) or [])
    wal, cache_link = Relay("link", lambda: None, delayable=True), Relay("cache-link", lambda: None, delayable=True)
    dbs = [SimpleNamespace(port=5001, pid=11), SimpleNamespace(port=5002, pid=None)]  # the second one is down
    asyncio.run(link.set_link_delay(1.5, wal, dbs, SimpleNamespace(secondary=SimpleNamespace(link=cache_link))))
    assert wal.delay_s == cache_link.delay_s == 1.5 and fitted == [([5001], 1.5)]

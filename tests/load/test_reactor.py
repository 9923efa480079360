"""The engine's exchanges (``gameday.load.reactor`` on ``gameday.load.http``), in this process, against a loopback
server that answers as real services do and as broken ones do: answers split over many writes, chunked, closed
after the body, reset, garbled, or never sent; plain and TLS. And the parser itself, on every way of cutting an
answer into reads (hypothesis)."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from gevent import monkey
from hypothesis import given
from hypothesis import strategies as st

from gameday.lab.tls import self_signed
from gameday.load import reactor as reactor_module
from gameday.load.http import NO_ANSWER, NOT_SENT, NoAnswer, blame, parse
from gameday.load.reactor import Reactor, Slot

REQUEST = b"POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}"
OK = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}"
CHUNKED = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
TRAILERS = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Sum: 1\r\n\r\n"
CLOSE = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
NO_LENGTH = b"HTTP/1.1 503 Service Unavailable\r\n\r\ndown for now"  # the body ends with the stream


class Service:
    """A loopback server answering each request with the next step of ``script``: bytes (sent in pieces of
    ``piece`` bytes, ``gap`` seconds apart), or "close", "reset" or "silent" (never answers). After a reply it keeps the
    connection unless the reply is one that ends it. Records every request it received."""

    def __init__(self, script: list[Any], piece: int = 0, tls: ssl.SSLContext | None = None,
                 gap: float = 0.005) -> None:
        self.script, self.piece, self.tls, self.gap = list(script), piece, tls, gap
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.port = self.srv.getsockname()[1]
        self.got: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.srv.settimeout(10)
        while self.script:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):
                    conn.close()
                    continue
            self._connection(conn)
        self.srv.close()

    def _connection(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            while self.script and (data := conn.recv(65536)):
                self.got.append(data)
                step = self.script.pop(0)
                if step == "silent":
                    time.sleep(2)
                    break
                if step == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
                if step == "close":
                    break
                for k in range(0, len(step), self.piece or len(step)):
                    conn.sendall(step[k:k + (self.piece or len(step))])
                    time.sleep(self.gap if self.piece else 0)
                if step in (CLOSE, NO_LENGTH):
                    break
        except OSError:
            pass
        finally:
            conn.close()


def _exchanges(port: int, n: int, tls: ssl.SSLContext | None = None, timeout_s: float = 1.0) -> list[tuple]:
    """``n`` requests one after the other on one slot (keep-alive when the service keeps the connection): each
    outcome as (status, error, body)."""
    out: list[tuple] = []
    reactor = Reactor("127.0.0.1", port, tls, timeout_s, lambda slot, item, status: out.append(
        (status, slot.error, slot.body)))
    slot = Slot()
    try:
        for k in range(n):
            reactor.start(slot, k, REQUEST)
            end = time.monotonic() + 5
            while len(out) <= k and time.monotonic() < end:  # bounded: 5 s an exchange
                reactor.pump(0.02)
                reactor.expire(time.monotonic())
            assert len(out) == k + 1, f"exchange {k} never ended"
    finally:
        reactor.close()
    return out


@pytest.fixture(params=["epoll", "poll"])
def poller(request, monkeypatch):
    """Both of the loop's pollers: epoll (Linux), and poll(2) where there is no epoll."""
    if request.param == "poll":
        real = monkey.get_original

        def no_epoll(module: str, name: str) -> Any:
            if name == "epoll":
                raise AttributeError(name)
            return real(module, name)
        monkeypatch.setattr(reactor_module.monkey, "get_original", no_epoll)
    return request.param


@pytest.mark.parametrize("piece", [0, 1, 7])
def test_answers_are_read_whole_however_they_are_split_and_framed(piece, poller):
    service = Service([OK, CHUNKED, TRAILERS, OK, CLOSE, OK, NO_LENGTH], piece=piece)
    got = _exchanges(service.port, 7)
    assert [(s, b) for s, _, b in got] == [(202, b"{}"), (201, b"abcdefg"), (201, b"hi"), (202, b"{}"), (201, b"ok"),
                                           (202, b"{}"), (503, b"down for now")]
    assert all(e is None for _, e, _ in got)
    assert len(service.got) == 7 and all(g.startswith(b"POST /ingest") for g in service.got)


def test_a_service_that_closes_resets_garbles_or_stays_silent_gives_no_answer_and_says_why():
    service = Service(["close", OK, "reset", b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "silent"])
    got = _exchanges(service.port, 5, timeout_s=0.5)
    statuses = [s for s, _, _ in got]
    assert statuses == [NO_ANSWER, 202, NO_ANSWER, NO_ANSWER, NO_ANSWER], got
    closed, _, reset, garbled, silent = (e for _, e, _ in got)
    assert isinstance(closed, NoAnswer) and blame(NO_ANSWER, closed) == "refused"
    assert isinstance(reset, ConnectionResetError) and blame(NO_ANSWER, reset) == "refused"
    assert isinstance(garbled, ValueError) and blame(NO_ANSWER, garbled) == "refused"
    assert isinstance(silent, TimeoutError) and blame(NO_ANSWER, silent) == "timeout"


def test_nothing_listening_is_not_sent():
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (status, error, _), = _exchanges(port, 1)
    assert status == NOT_SENT and isinstance(error, ConnectionRefusedError)


def _tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = self_signed(tmp_path)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


@pytest.mark.parametrize("gap", [0.005, 0.0])
def test_tls_answers_split_and_chunked_are_read_on_one_connection(tmp_path, gap):
    """Pieces 5 ms apart, and all at once: several TLS records in one read, decrypted one at a time."""
    server, client = _tls(tmp_path)
    service = Service([OK, CHUNKED, OK, CLOSE], piece=5, tls=server, gap=gap)
    got = _exchanges(service.port, 4, tls=client)
    assert [(s, b) for s, _, b in got] == [(202, b"{}"), (201, b"abcdefg"), (202, b"{}"), (201, b"ok")], got


def test_plaintext_is_never_sent_to_an_https_url():
    service = Service([OK])  # a plain HTTP server
    (status, error, _), = _exchanges(service.port, 1, tls=ssl.create_default_context())
    assert status == NOT_SENT and isinstance(error, (ssl.SSLError, ConnectionError)), error
    assert all(b"POST" not in g for g in service.got), "the TLS handshake failed: no request went out in clear"


@given(answer=st.sampled_from([OK, CHUNKED, TRAILERS, CLOSE]), cuts=st.lists(st.integers(1, 120), max_size=6))
def test_the_parser_waits_for_the_whole_answer_however_it_arrives(answer, cuts):
    whole = parse(answer, eof=False)
    assert whole is not None
    for cut in sorted({c for c in cuts if c < len(answer)}):
        assert parse(answer[:cut], eof=False) is None, f"an answer cut at {cut} was taken as whole"
        status, keep, _ = parse(answer[:cut], eof=True) or (None, None, None)
        assert not keep, "a stream that ended inside an answer cannot carry the next request"
        assert status in (NO_ANSWER, whole[0])


def test_the_framings_say_whether_the_connection_carries_the_next_request():
    assert parse(OK, eof=False) == (202, True, b"{}")
    assert parse(CHUNKED, eof=False) == (201, True, b"abcdefg")
    assert parse(CLOSE, eof=False) == (201, False, b"ok")
    assert parse(NO_LENGTH, eof=False) is None and parse(NO_LENGTH, eof=True) == (503, False, b"down for now")
    assert parse(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", eof=False) == (200, False, b"")
    assert parse(b"HTTP/1.1 204 No Content\r\n\r\n", eof=False) == (204, True, b"")
    assert parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000, eof=False)[2] == b"x" * 1024
    with pytest.raises(ValueError):
        parse(b"SSH-2.0-OpenSSH_9.6\r\n\r\n", eof=False)

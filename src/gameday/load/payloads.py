"""Pre-encoded write requests from the service description (the load engine's hot path).

Each request is the description's write (method, path, headers, body with a batch of events), with
only the events' ids varying. When the event template uses fixed-width ids alone (``{{event_id}}``,
``{{event_uuid}}``), the whole batch body is encoded once and ids are spliced in; with ``{{seq}}``
(variable width) each event is joined from its pieces. ``refresh`` re-encodes with the current time
(the engine calls it every second), so a long test never sends stale ``{{ts}}``.

When a template cannot express a request (a signed header, a computed field), a locustfile builds it in
Python (:data:`RequestHook`, see ``gameday.load.users.IngestUser.build_request``): :class:`HookPayloads`
encodes what the hook returns, adding the description's headers (token, content type) and the Host.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import NamedTuple
from urllib.parse import urlparse

from gameday.service.ids import WIDTH, IdScheme
from gameday.service.resolved import Service, iso

__all__ = ["Payloads", "HookPayloads", "Request", "RequestHook", "hook_payloads"]

_ID, _UUID, _SEQ, _EVENTS = "\x00", "\x01", "\x02", "\x03"


class Payloads:
    def __init__(self, service: Service, ids: IdScheme, batch: int, run_id: str) -> None:
        u = urlparse(service.url)
        self.tls = u.scheme == "https"
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or (443 if self.tls else 80)
        self.service, self.ids, self.batch, self.run_id = service, ids, batch, run_id
        host_header = self.host if u.port is None else f"{self.host}:{self.port}"
        headers = "".join(f"{k}: {v}\r\n" for k, v in service.request_headers(run_id).items())
        self.host_header = host_header
        self.method: str = service.spec.write.method  # method and name: how Locust's statistics group requests
        self.name = service.write_target(run_id)
        self._head = (f"{self.method} {self.name} HTTP/1.1\r\nHost: {host_header}\r\n"
                      f"{headers}Content-Length: ").encode()
        self._fast = "seq" not in service.event.names
        self._marks = sum(1 for p in service.event.pieces[1::2] if p in ("event_id", "event_uuid", "seq"))
        self._parts: list[bytes] = []
        self.refresh()

    def refresh(self) -> None:
        """Re-encode with the current time ({{ts}}, {{iso_ts}})."""
        now = time.time()
        event = self.service.event.render({"event_id": f"{self.ids.prefix}-{_ID}", "event_uuid":
                                           f"{self.ids.uuid_prefix}{_UUID}", "seq": _SEQ, "ts": f"{now:.3f}",
                                           "iso_ts": iso(now), "run_id": self.run_id})
        body = self.service.body.render({"events": _EVENTS, "ts": f"{now:.3f}", "iso_ts": iso(now),
                                         "run_id": self.run_id})
        if self._fast:  # the whole batch at once: ids spliced in
            self._parts = _split(body.replace(_EVENTS, ",".join([event] * self.batch)))
        else:  # around the events, then one event: joined per event
            pre, _, post = body.partition(_EVENTS)
            self._parts = [pre.encode(), post.encode(), *_split(event)]

    def request(self, first: int) -> bytes:
        body = self._fast_body(first) if self._fast else self._slow_body(first)
        return b"".join((self._head, b"%d\r\n\r\n" % len(body), body))

    def _fast_body(self, first: int) -> bytes:
        parts, m = self._parts, self._marks
        out = [parts[0]]
        for k, i in enumerate(range(1, len(parts), 2)):  # mark k belongs to event k // m
            out.append(_value(parts[i], first + k // m))
            out.append(parts[i + 1])
        return b"".join(out)

    def _slow_body(self, first: int) -> bytes:
        pre, post, *event = self._parts
        events = []
        for n in range(first, first + self.batch):
            out = [event[0]]
            for i in range(1, len(event), 2):
                out.append(_value(event[i], n))
                out.append(event[i + 1])
            events.append(b"".join(out))
        return pre + b",".join(events) + post


class Request(NamedTuple):
    """What a locustfile's ``build_request(ids)`` returns: one write carrying the batch ``ids``.
    ``name`` groups it in Locust's statistics (default: the path without its query)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes | str
    name: str | None = None


RequestHook = Callable[[list[str]], Request]


class HookPayloads(Payloads):
    """Requests built by a locustfile hook from the batch's ids (as the ledger records them)."""

    hook: RequestHook

    def request(self, first: int) -> bytes:
        r = self.hook([self.ids.ledger_id(n) for n in range(first, first + self.batch)])
        body = r.body.encode() if isinstance(r.body, str) else r.body
        headers = {**self.service.request_headers(self.run_id), **r.headers}
        self.method, self.name = r.method, r.name or r.path.partition("?")[0]
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() not in ("host", "content-length"))
        return (f"{r.method} {r.path} HTTP/1.1\r\nHost: {self.host_header}\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def hook_payloads(service: Service, ids: IdScheme, batch: int, run_id: str, hook: RequestHook) -> HookPayloads:
    p = HookPayloads(service, ids, batch, run_id)
    p.hook = hook
    return p


def _split(text: str) -> list[bytes]:
    """Literal pieces at even indexes, one-byte marks (id, uuid, seq) at odd ones."""
    out: list[bytes] = []
    start = 0
    for i, ch in enumerate(text):
        if ch in (_ID, _UUID, _SEQ):
            out += [text[start:i].encode(), ch.encode()]
            start = i + 1
    out.append(text[start:].encode())
    return out


def _value(mark: bytes, n: int) -> bytes:
    if mark == b"\x00":
        return b"%0*d" % (WIDTH, n)
    if mark == b"\x01":
        return b"%012x" % n
    return b"%d" % n

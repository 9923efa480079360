"""Pre-encoded write requests from the service description (the load engine's hot path).

Each request is the description's write (method, path, headers, body with a batch of events), with
only the events' ids varying: the whole batch body is encoded once as a bytes %-format whose specs are
the ids (``{{event_id}}``, ``{{event_uuid}}``, ``{{seq}}``), filled by one format operation per request.
``refresh`` re-encodes with the current time
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
        self._tmpl = b""
        self._offs: tuple[int, ...] = ()
        self.refresh()

    def refresh(self) -> None:
        """Re-encode with the current time ({{ts}}, {{iso_ts}})."""
        now = time.time()
        event = self.service.event.render({"event_id": f"{self.ids.prefix}-{_ID}", "event_uuid":
                                           f"{self.ids.uuid_prefix}{_UUID}", "seq": _SEQ, "ts": f"{now:.3f}",
                                           "iso_ts": iso(now), "run_id": self.run_id})
        body = self.service.body.render({"events": _EVENTS, "ts": f"{now:.3f}", "iso_ts": iso(now),
                                         "run_id": self.run_id})
        marks = sum(event.count(m) for m in (_ID, _UUID, _SEQ))  # per event; each takes the event's number
        self._tmpl = body.replace("%", "%%").replace(_EVENTS, ",".join([_format(event)] * self.batch)).encode()
        self._offs = tuple(k // marks for k in range(marks * self.batch)) if marks else ()

    def request(self, first: int) -> bytes:
        body = self._tmpl % tuple([first + o for o in self._offs])  # one C-level format fills every id
        return b"".join((self._head, b"%d\r\n\r\n" % len(body), body))


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


def _format(event: str) -> str:
    """The event as a %-format: literal % doubled, each id mark the format of its id (fixed-width ids, the
    UUID's last 12 hex digits, or the plain sequence number)."""
    return event.replace("%", "%%").replace(_ID, f"%0{WIDTH}d").replace(_UUID, "%012x").replace(_SEQ, "%d")

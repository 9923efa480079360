"""A small ingest service that is not gameday's, for the drills that must see it fail or lag.

It speaks the lab's ingest shape (``POST /v1/trips`` with ``{"events": [...]}``, ``GET /v1/trips/{id}``) and
can be, alone or together:

- guarded by a bearer token: any other ``Authorization`` is answered ``401 {"message": "invalid token"}``;
- asynchronous: an event is readable only ``read_lag_s`` after its write was accepted (before that the read
  answers ``404 {"message": "not indexed yet"}``), as a service whose read side is fed by a pipeline;
- asynchronous on the write side too: with ``write_lag_s``, a write is accepted (202) at once and forwarded
  upstream that much later, as a service that acknowledges into a queue;
- answering reads from its own index (``read_local``) while its writes reach the upstream database later;
- a front for another ingest endpoint (``upstream``, e.g. the lab's public endpoint): writes and reads are
  forwarded, so a fault there is a fault here; without it, events are kept in memory.

Runs in a thread of the test process (``with PipelineService(...) as svc: svc.url``), on 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse


class PipelineService:
    def __init__(self, *, token: str | None = None, read_lag_s: float = 0.0, upstream: str | None = None,
                 write_lag_s: float = 0.0, read_local: bool = False) -> None:
        self.token, self.read_lag_s, self.upstream, self.write_lag_s = token, read_lag_s, upstream, write_lag_s
        self.read_local = read_local  # reads answered from the service's own index, not upstream
        self.accepted: dict[str, float] = {}  # event id -> when its write was accepted
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PipelineService:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)

    def forward(self, method: str, path: str, body: bytes | None) -> tuple[int, bytes]:
        assert self.upstream is not None
        u = urlparse(self.upstream)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=2.0)
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            return 503, json.dumps({"message": f"upstream unavailable: {type(exc).__name__}"}).encode()
        finally:
            conn.close()


def _handler(svc: PipelineService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _authorised(self) -> bool:
            if svc.token is None or self.headers.get("Authorization") == f"Bearer {svc.token}":
                return True
            self._answer(401, b'{"message": "invalid token"}')
            return False

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not self._authorised():
                return
            ids = [e["event_id"] for e in json.loads(body)["events"]]
            if svc.upstream and svc.write_lag_s > 0:  # into the queue: written upstream later, answered now
                timer = threading.Timer(svc.write_lag_s, svc.forward, ("POST", self.path, body))
                timer.daemon = True
                timer.start()
                status, answer = 202, b'{"accepted": true, "queued": true}'
            else:
                status, answer = svc.forward("POST", self.path, body) if svc.upstream else (202, b'{"accepted": true}')
            if status == 202:
                now = time.monotonic()
                with svc.lock:
                    svc.accepted.update(dict.fromkeys(ids, now))
            self._answer(status, answer)

        def do_GET(self) -> None:  # noqa: N802
            if not self._authorised():
                return
            eid = self.path.rsplit("/", 1)[-1]
            with svc.lock:
                at = svc.accepted.get(eid)
            if at is None or time.monotonic() - at < svc.read_lag_s:
                self._answer(404, b'{"message": "not indexed yet"}')
            elif svc.upstream and not svc.read_local:
                self._answer(*svc.forward("GET", self.path, None))
            else:
                self._answer(200, json.dumps({"event_id": eid}).encode())

    return Handler

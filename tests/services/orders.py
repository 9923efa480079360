"""A reference service that is not gameday's, written the way many are: ``http.server``'s
ThreadingHTTPServer, one thread per client connection, and each thread opens ONE NEW database connection
(no pool) the first time it needs one and holds it for as long as the client keeps its connection. When
latency rises and clients open more connections, so does it, until PostgreSQL refuses; it then answers 503
with what the database said. Tests run it as the lab's nodes (``lab.service``).

    python orders.py migrate --dsn DSN
    python orders.py serve --port 8080 --dsn DSN [--cert cert.pem --key key.pem]
"""

from __future__ import annotations

import argparse
import json
import signal
import ssl
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS shop;
CREATE TABLE IF NOT EXISTS shop.orders (
    order_id  uuid PRIMARY KEY,
    item      text NOT NULL,
    placed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the thread (and its database connection) lives with the client's
    dsn = ""
    db: psycopg.Connection | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass

    def finish(self) -> None:
        super().finish()
        if self.db is not None:
            self.db.close()

    def _answer(self, status: int, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
        """Run ``sql`` on this thread's own connection (opened now if it has none); None after a 503."""
        try:
            if self.db is None or self.db.closed:
                self.db = psycopg.connect(self.dsn, autocommit=True, connect_timeout=2)
            cur = self.db.execute(sql, params)
            return cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            if self.db is not None and self.db.closed:
                self.db = None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self._answer(503, {"message": f"database unavailable: {first}"})
            return None

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/health":
            self._answer(200, {"status": "ok"})
            return
        if not self.path.startswith("/orders/"):
            self._answer(404, {"message": "not found"})
            return
        try:
            oid = uuid.UUID(self.path.removeprefix("/orders/"))
        except ValueError:
            self._answer(400, {"message": "not a uuid"})
            return
        rows = self._query("SELECT item FROM shop.orders WHERE order_id = %s", (oid,))
        if rows is not None:
            self._answer(200, {"id": str(oid), "item": rows[0][0]}) if rows else self._answer(404, {"message": "no such order"})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/orders":
            self._answer(404, {"message": "not found"})
            return
        try:
            orders = json.loads(body)["orders"]
            ids = [str(uuid.UUID(o["id"])) for o in orders]
            items = [str(o["item"]) for o in orders]
        except (ValueError, KeyError, TypeError) as exc:
            self._answer(422, {"message": f"bad request: {exc}"})
            return
        done = self._query("INSERT INTO shop.orders (order_id, item) SELECT * FROM unnest(%s::uuid[], %s::text[]) "
                           "ON CONFLICT (order_id) DO NOTHING", (ids, items))
        if done is not None:
            self._answer(201, {"created": len(ids)})


def serve(args: argparse.Namespace) -> None:
    Handler.dsn = args.dsn
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


def main() -> None:
    p = argparse.ArgumentParser(prog="orders")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate").add_argument("--dsn", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--dsn", required=True)
    s.add_argument("--cert", default="")
    s.add_argument("--key", default="")
    a = p.parse_args()
    if a.cmd == "migrate":
        with psycopg.connect(a.dsn, autocommit=True) as conn:
            conn.execute(SCHEMA)
        return
    serve(a)


if __name__ == "__main__":
    main()

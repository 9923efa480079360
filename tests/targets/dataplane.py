"""A small data plane whose answers follow moto's state, for drills against the moto server: it serves
(202 on a write, 200 on a read-back) when the public record points at a region that can serve, and 503
otherwise. The primary region serves unless gameday's isolation NACLs cut it off; the DR region serves once
its replica was promoted (moto sets the BackupRetentionPeriod the promotion asked for). Accepted events are
committed to PostgreSQL (table ``events``), where the reconciliation looks for them. Loopback only."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import psycopg

from gameday.procs import free_port


class DataPlane:
    def __init__(self, dsn: str, zone_id: str) -> None:
        self.dsn, self.zone_id = dsn, zone_id
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.serving = False
        self.answers: dict[int, int] = {}  # status -> count
        self._stop = threading.Event()
        self._lock = threading.Lock()
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("CREATE TABLE IF NOT EXISTS events (id text PRIMARY KEY)")
        self._conn = psycopg.connect(dsn, autocommit=True)
        self._ec2 = boto3.client("ec2", region_name="us-east-1")
        self._rds = boto3.client("rds", region_name="us-west-2")
        self._r53 = boto3.client("route53", region_name="us-east-1")
        self.refresh()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._threads = [threading.Thread(target=self._server.serve_forever, daemon=True),
                         threading.Thread(target=self._watch, daemon=True)]

    def __enter__(self) -> DataPlane:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for t in self._threads:
            t.join(5)
        self._conn.close()

    # ---- what moto says ---------------------------------------------------------------------------
    def refresh(self) -> None:
        isolated = any(t["Key"] == "gameday:isolation-of" for acl in self._ec2.describe_network_acls()["NetworkAcls"]
                       for t in acl.get("Tags", []))
        rec = next(r for r in self._r53.list_resource_record_sets(HostedZoneId=self.zone_id)["ResourceRecordSets"]
                   if r["Name"].startswith("ingest.example.com"))["ResourceRecords"][0]["Value"]
        dr = self._rds.describe_db_instances(DBInstanceIdentifier="ingest-db-dr")["DBInstances"][0]
        promoted = dr.get("BackupRetentionPeriod") == 7
        self.serving = (not isolated) if rec == "ingest-use1.example.com" else promoted

    def _watch(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - moto going away at the end of a test
                return

    # ---- HTTP -------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        plane = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int) -> None:
                with plane._lock:
                    plane.answers[status] = plane.answers.get(status, 0) + 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not plane.serving:
                    return self._answer(503)
                with plane._lock:
                    for e in body["events"]:
                        plane._conn.execute("INSERT INTO events (id) VALUES (%s) ON CONFLICT DO NOTHING", (e["id"],))
                self._answer(202)

            def do_GET(self) -> None:  # noqa: N802
                if not plane.serving:
                    return self._answer(503)
                with plane._lock:
                    row = plane._conn.execute("SELECT 1 FROM events WHERE id = %s",
                                              (self.path.rsplit("/", 1)[1],)).fetchone()
                self._answer(200 if row else 404)

        return Handler

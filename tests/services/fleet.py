"""A reference service that is not gameday's: a fleet-position API, as a team would write it.

It differs from the lab's ingest node in every way the service description covers: HTTPS with its own
certificate, a bearer token, another path and body shape, 201 on success, UUID ids, its own schema and
table, and a read endpoint. With ``--cache URL`` it keeps its idempotency keys in that cache (a Valkey or
Redis OSS primary endpoint): a batch sent again is answered from there, and a cache that does not answer
fails the write (503), so a cache failover is felt by its clients. Tests run it as the lab's nodes
(``lab.service``, the cache given as ``{{cache_url}}``) and drive it only through an environment file's
``service:`` description.

    python fleet.py migrate --dsn DSN
    python fleet.py serve --port 8443 --dsn DSN [--cert cert.pem --key key.pem] [--cache redis://…]  ($FLEET_TOKEN)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import ssl
import uuid
from datetime import datetime

import psycopg
from aiohttp import web
from psycopg_pool import AsyncConnectionPool

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS fleet;
CREATE TABLE IF NOT EXISTS fleet.positions (
    position_id uuid PRIMARY KEY,
    vehicle     text NOT NULL,
    recorded_at timestamptz NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""
INSERT = """
INSERT INTO fleet.positions (position_id, vehicle, recorded_at, lat, lon)
SELECT * FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[], %s::float8[], %s::float8[])
ON CONFLICT (position_id) DO NOTHING
"""
POOL = web.AppKey("pool", AsyncConnectionPool)
TOKEN = web.AppKey("token", str)
CACHE = web.AppKey("cache", object)  # a valkey.asyncio client, when --cache is given


def _positions(doc: object) -> list[tuple[uuid.UUID, str, datetime, float, float]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("positions"), list) or not doc["positions"]:
        raise ValueError("expected {\"positions\": [...]} with at least one position")
    out = []
    for p in doc["positions"]:
        out.append((uuid.UUID(p["id"]), str(p["vehicle"]), datetime.fromisoformat(p["recorded_at"].replace("Z", "+00:00")),
                    float(p["coords"][0]), float(p["coords"][1])))
    return out


@web.middleware
async def _auth(request: web.Request, handler):  # type: ignore[no-untyped-def]
    if request.path != "/livez" and request.headers.get("Authorization") != f"Bearer {request.app[TOKEN]}":
        return web.json_response({"message": "unauthorized"}, status=401)
    return await handler(request)


async def create(request: web.Request) -> web.Response:
    try:
        rows = _positions(json.loads(await request.read()))
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        return web.json_response({"message": f"bad request: {exc}"}, status=422)
    cache = request.app.get(CACHE)
    key = f"fleet:idem:{request.headers.get('Idempotency-Key') or rows[0][0]}"
    if cache is not None:
        try:
            if not await cache.set(key, "in-flight", nx=True, ex=30):
                prior = await cache.get(key)
                if prior in (None, "in-flight"):
                    return web.json_response({"message": "a request with this key is in flight"}, status=409)
                return web.json_response({**json.loads(prior), "replayed": True}, status=201)
        except Exception as exc:  # noqa: BLE001 - no idempotency store, no write (it could apply twice)
            return web.json_response({"message": f"idempotency store unavailable: {type(exc).__name__}"}, status=503)
    cols = tuple(list(c) for c in zip(*rows, strict=True))
    try:
        async with request.app[POOL].connection(timeout=3) as conn:
            await conn.execute(INSERT, cols)
    except (psycopg.Error, TimeoutError) as exc:
        if cache is not None:
            await _quietly(cache.delete(key))
        return web.json_response({"message": f"database unavailable: {type(exc).__name__}"}, status=503)
    if cache is not None:
        await _quietly(cache.set(key, json.dumps({"created": len(rows)}), ex=600))
    return web.json_response({"created": len(rows)}, status=201)


async def _quietly(call) -> None:  # type: ignore[no-untyped-def]
    try:
        await call
    except Exception:  # noqa: BLE001, S110 - the write's answer stands; a claimed key expires by itself
        pass


async def read(request: web.Request) -> web.Response:
    try:
        pid = uuid.UUID(request.match_info["position_id"])
    except ValueError:
        return web.json_response({"message": "not a uuid"}, status=400)
    try:
        async with request.app[POOL].connection(timeout=3) as conn:
            row = await (await conn.execute("SELECT vehicle FROM fleet.positions WHERE position_id = %s",
                                            (pid,))).fetchone()
    except (psycopg.Error, TimeoutError):
        return web.json_response({"message": "database unavailable"}, status=503)
    if row is None:
        return web.json_response({"message": "no such position"}, status=404)
    return web.json_response({"id": str(pid), "vehicle": row[0]})


async def livez(request: web.Request) -> web.Response:
    return web.json_response({"status": "live"})


async def serve(args: argparse.Namespace) -> None:
    pool = AsyncConnectionPool(args.dsn, min_size=1, max_size=4, open=False, timeout=3,
                               check=AsyncConnectionPool.check_connection, reconnect_timeout=3600,
                               kwargs={"autocommit": True, "connect_timeout": 2})
    await pool.open(wait=False)
    app = web.Application(middlewares=[_auth])
    app[POOL], app[TOKEN] = pool, os.environ["FLEET_TOKEN"]
    if args.cache:
        from valkey.asyncio import Valkey

        app[CACHE] = Valkey.from_url(args.cache, socket_timeout=2, socket_connect_timeout=0.5, decode_responses=True)
    app.router.add_post("/api/v2/positions", create)
    app.router.add_get("/api/v2/positions/{position_id}", read)
    app.router.add_get("/livez", livez)
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port, ssl_context=tls).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    await pool.close()


def main() -> None:
    p = argparse.ArgumentParser(prog="fleet")
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("migrate")
    m.add_argument("--dsn", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--dsn", required=True)
    s.add_argument("--cert", default="")
    s.add_argument("--key", default="")
    s.add_argument("--cache", default="", help="idempotency keys in this cache (redis://HOST:PORT)")
    a = p.parse_args()
    if a.cmd == "migrate":
        with psycopg.connect(a.dsn, autocommit=True) as conn:
            conn.execute(SCHEMA)
        return
    asyncio.run(serve(a))


if __name__ == "__main__":
    main()

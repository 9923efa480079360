"""The lab supervisor process: owns every lab process and serves the control API on loopback.

Run by ``gameday lab up`` as ``python -m gameday.lab.supervisor --env FILE --dir DIR`` in a new
session (its own process group); every child dies with it (parent-death signal).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import traceback
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from gameday.config import load_environment
from gameday.errors import ConfigError
from gameday.lab import failback, restores
from gameday.lab.lab import Lab
from gameday.lab.restore import restore
from gameday.lab.status import lab_status
from gameday.operations import lab_arguments, problem

__all__ = ["serve", "OPERATIONS", "write_state", "main"]

# Operations the control API accepts, and the argument model of each: the operation registry's.
OPERATIONS = lab_arguments()
# Operations that are functions of the whole lab rather than methods of it (the rest are Lab methods).
# A zone's restore is the whole lab's: zones are not independent there.
_WHOLE_LAB: dict[str, Any] = {
    "restore": restore, "restore_zone": lambda lab, zone: restore(lab), "rebuild_primary_region": failback.rebuild_primary_region,
    "return_primary_db": failback.return_primary_db, "rebuild_dr_db": failback.rebuild_dr_db,
    "restore_point_in_time": restores.restore_point_in_time, "restore_snapshot": restores.restore_snapshot,
    "verify_restore": restores.verify_restore, "swap_writer": restores.swap_writer,
    "discard_restore": restores.discard_restore}


def write_state(root: Path, **fields: Any) -> None:
    """Atomically merge ``fields`` into DIR/state.json."""
    path = root / "state.json"
    state = json.loads(path.read_text()) if path.exists() else {}
    state.update(fields)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)


def write_scrape_targets(root: Path, lab: Lab, control_port: int) -> None:
    """DIR/prometheus-targets.json, a Prometheus ``file_sd`` file: the supervisor's /metrics and every live
    ingest node's (Prometheus re-reads it as nodes come and go). Each target is labelled with its component
    only: the exporters carry node, region and zone on their series themselves, and a target label of the
    same name would make Prometheus rename theirs to ``exported_node``, ``exported_region``, ..."""
    targets = [{"targets": [f"127.0.0.1:{control_port}"], "labels": {"gameday_component": "lab-supervisor"}}]
    targets += [{"targets": [f"127.0.0.1:{n.port}"], "labels": {"gameday_component": "ingest-node"}}
                for n in lab.fleet.nodes if n.alive]
    tmp = root / "prometheus-targets.json.tmp"
    tmp.write_text(json.dumps(targets, indent=2))
    os.replace(tmp, root / "prometheus-targets.json")


def _child_pids(lab: Lab) -> list[int]:
    pids = [db.pid for db in lab.dbs.values()] + [n.pid for n in lab.fleet.nodes]
    pids += lab.cache.pids() if lab.cache is not None else []
    pids += lab.restored.pids()
    return [p for p in pids if p is not None]


def _api(lab: Lab, stop: asyncio.Event) -> web.Application:
    lock = asyncio.Lock()

    async def op(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in OPERATIONS:
            return web.json_response({"error": f"unknown operation {name!r}"}, status=404)
        try:
            kwargs = await request.json() if request.can_read_body else {}
        except json.JSONDecodeError:
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        try:
            kwargs = OPERATIONS[name].model_validate(kwargs).model_dump(exclude_none=True)
        except ValidationError as exc:
            where, msg = problem(exc)
            return web.json_response({"error": f"{name}: {where}: {msg}"}, status=400)
        async with lock:
            try:
                result = await (_WHOLE_LAB[name](lab, **kwargs) if name in _WHOLE_LAB else getattr(lab, name)(**kwargs))
            except ValueError as exc:
                return web.json_response({"error": str(exc)}, status=400)
            except Exception as exc:  # noqa: BLE001 - reported to the caller, the lab goes on
                lab.record("lab.op_failed", {"op": name, "error": f"{type(exc).__name__}: {exc}"})
                return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=500)
        return web.json_response(result)

    async def status(request: web.Request) -> web.Response:
        return web.json_response(await lab_status(lab))

    async def metrics(request: web.Request) -> web.Response:
        from prometheus_client.exposition import CONTENT_TYPE_LATEST

        from gameday.lab.metrics import lab_metrics

        return web.Response(body=lab_metrics(await lab_status(lab)), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def shutdown(request: web.Request) -> web.Response:
        stop.set()
        return web.json_response({"stopping": True})

    app = web.Application()
    app.router.add_post("/op/{name}", op)
    app.router.add_get("/status", status)
    app.router.add_post("/shutdown", shutdown)
    app.router.add_get("/metrics", metrics)
    return app


async def serve(env_file: Path, root: Path) -> int:
    """Bring the lab up, serve until told to stop, bring it down. Returns an exit code."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "state.json").unlink(missing_ok=True)
    (root / "events.jsonl").unlink(missing_ok=True)
    try:
        env = load_environment(env_file)
        if env.lab is None:
            raise ConfigError("the environment has no 'lab' section", file=str(env_file), field="lab")
    except ConfigError as exc:
        write_state(root, error=str(exc), supervisor_pid=os.getpid())
        return exc.exit_code
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    lab = Lab(env.lab, root)
    runner = web.AppRunner(_api(lab, stop), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    control_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    write_state(root, supervisor_pid=os.getpid(), pgid=os.getpgid(0), control_port=control_port,
                env_file=str(env_file), ready=False, error=None, pids=[])
    code = 0
    try:
        up = asyncio.ensure_future(lab.up())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({up, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if up.done():
            up.result()
            scheme = lab.hosted.scheme if lab.hosted is not None else "http"
            write_state(root, ready=True, public_endpoint=f"{scheme}://127.0.0.1:{lab.public.port}",
                        ca_file=str(lab.hosted.cert) if lab.hosted is not None and lab.hosted.cert else None,
                        pids=_child_pids(lab),
                        cache_endpoint=f"redis://127.0.0.1:{lab.cache.endpoint.port}" if lab.cache else None)
            write_scrape_targets(root, lab, control_port)
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), 1.0)
                except TimeoutError:
                    write_state(root, pids=_child_pids(lab))
                    write_scrape_targets(root, lab, control_port)
        else:
            up.cancel()
    except Exception as exc:  # noqa: BLE001 - reported through the state file, then torn down
        write_state(root, error=f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
        code = 1
    finally:
        await lab.down()
        await runner.cleanup()
        write_state(root, ready=False, stopped=True, pids=[])
    return code


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="gameday-lab-supervisor", description="Run the gameday local lab")
    p.add_argument("--env", type=Path, required=True)
    p.add_argument("--dir", type=Path, required=True)
    a = p.parse_args(argv)
    raise SystemExit(asyncio.run(serve(a.env, a.dir.resolve())))


if __name__ == "__main__":
    main()

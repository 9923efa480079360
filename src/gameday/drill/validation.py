"""The weekly backup validation (section 12.4, ``gameday restore-test``): a short write burst through the
service, the latest restorable point restored into a throwaway instance, that instance checked against the
burst's ledger, timed, deleted. The journal says everything; the verdict is ``gameday.judge.restore``'s.

Journal: ``restore_test.start``, ``burst`` (acked, failed, last ack), ``fault.intent`` (the throwaway
instance's deletion, before the restore begins: ``gameday recover`` deletes what a killed run left),
``restore.done`` or ``restore.failed``, ``verify``, ``fault.inverse_applied``, ``restore_test.end``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp

from gameday import operations
from gameday.drill.restore_steps import verify_restored
from gameday.journal import Journal
from gameday.service.ids import ACKED, FAILED, INDETERMINATE, IdScheme
from gameday.service.resolved import Service
from gameday.synthetic import write_batch
from gameday.targets.base import Target

__all__ = ["write_burst", "validate_backups", "INSTANCE"]

INSTANCE = "gameday-restore-test"
_NETWORK = (TimeoutError, aiohttp.ClientError, OSError)


async def _burst(svc: Service, ids: IdScheme, ledger: Path, events: int, batch: int, run_id: str) -> dict[str, Any]:
    counts = {ACKED: 0, FAILED: 0, INDETERMINATE: 0}
    last_ack = None
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        with open(ledger, "a") as f:
            for first in range(1, events + 1, batch):
                try:
                    status, _ = await write_batch(session, svc, ids, first, batch, run_id)
                except _NETWORK:
                    status = 0
                mark = ACKED if svc.write_ok(status) else INDETERMINATE if status in (0, 504) else FAILED
                t = time.time()
                f.write(ids.ledger_line(mark, first, batch, t))
                counts[mark] += batch
                last_ack = t if mark == ACKED else last_ack
    return {"acked": counts[ACKED], "failed": counts[FAILED], "indeterminate": counts[INDETERMINATE],
            "last_ack": last_ack}


def write_burst(svc: Service, ledger: Path, *, events: int, batch: int, run_id: str) -> dict[str, Any]:
    """``events`` events written through the service, ``batch`` at a time, each outcome in the ledger."""
    return asyncio.run(_burst(svc, IdScheme(f"{run_id}v", uuid=svc.uses_uuid), ledger, events, batch, run_id))


def _wait_restorable(target: Target, t: float, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while True:
        latest = target.backup_status().latest_restorable
        if (latest is not None and latest >= t) or time.monotonic() > deadline:
            return latest
        time.sleep(0.2)


def validate_backups(target: Target, j: Journal, ledger: Path, *, run_id: str, events: int = 200, batch: int = 10,
                     restorable_within_s: float = 60.0) -> None:
    """The validation's steps, each journaled; the throwaway instance is always deleted."""
    svc = target.service()
    burst = write_burst(svc, ledger, events=events, batch=batch, run_id=run_id)
    j.record("burst", "runner", burst)
    if burst["last_ack"] is not None:
        latest = _wait_restorable(target, burst["last_ack"], restorable_within_s)
        j.record("backup.status", "target", {"latest_restorable": latest, "waited_for": burst["last_ack"]})
    args = {"to": "latest", "instance": INSTANCE}
    j.record("fault.intent", "runner", operations.intent("restore_point_in_time", args))
    try:
        result = operations.apply(target, "restore_point_in_time", args)
        j.record("restore.done", "target", result)
        found = operations.apply(target, "verify_restore", {"instance": INSTANCE})
        j.record("verify", "runner", verify_restored(found["dsn"], svc, ledger, result.get("restore_point")))
    except Exception as exc:  # noqa: BLE001 - a backup that cannot be restored or read is the verdict, FAIL
        j.record("restore.failed", "target", {}, error=f"{type(exc).__name__}: {str(exc)[:500]}")
    finally:
        _discard(target, j)


def _discard(target: Target, j: Journal) -> None:
    try:
        out = operations.apply(target, "discard_restore", {"instance": INSTANCE}, journal=j)
        j.record("fault.inverse_applied", "target", {"inverse": "discard_restore", "fault": "restore_point_in_time",
                                                     "intent_seq": _last_intent(j), "result": out})
    except Exception as exc:  # noqa: BLE001 - journaled; `gameday recover` can retry
        j.record("fault.inverse_failed", "target", {"inverse": "discard_restore"}, error=str(exc))


def _last_intent(j: Journal) -> int | None:
    from gameday.journal import read_journal

    return next((e.seq for e in reversed(read_journal(j.path)) if e.kind == "fault.intent"), None)

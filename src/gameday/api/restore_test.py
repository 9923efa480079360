"""``gameday restore-test``: the weekly backup validation from Python (``gameday.drill.validation``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.api.observe import new_run_id
from gameday.api.targets import open_target
from gameday.config import check_service, load_environment
from gameday.drill.validation import validate_backups
from gameday.errors import ConfigError
from gameday.journal import Event, Journal, read_journal
from gameday.judge.restore import check_restore_test
from gameday.lab.control import DEFAULT_DIR
from gameday.runs import claim, run_folder

__all__ = ["run_restore_test", "restore_test_reports"]


def run_restore_test(env_file: Path, *, out_dir: Path | None = None, state_dir: Path = DEFAULT_DIR,
                     keep_lab: bool = False, confirm: str | None = None, events: int = 200,
                     on_progress: Callable[[str], None] = lambda msg: None, run_id: str | None = None) -> dict[str, Any]:
    """Restore the latest restorable point into a throwaway instance, check it against a write burst's ledger,
    time it, delete it; summary.json's content (``verdict``). The lab is started if needed. ``out_dir``
    defaults to a folder of the run's own, ``out/restore-test/<environment>/<time>-<run id>/`` (linked as
    ``latest``), so every week's validation stays for ``gameday history``."""
    env = load_environment(env_file)
    if env.protected and confirm != env.name:
        raise ConfigError(f"environment '{env.name}' is protected: pass --confirm {env.name}", field="--confirm")
    check_service(env, str(env_file))
    if not 1 <= events <= 100_000:
        raise ConfigError("--events must be between 1 and 100000", field="--events")
    run_id = run_id or new_run_id()
    out_dir = claim(out_dir or run_folder("restore-test", env.name, run_id))
    for stale in ("journal.jsonl", "ledger.txt"):
        (out_dir / stale).unlink(missing_ok=True)
    with open_target(env, env_file, state_dir=state_dir, keep_lab=keep_lab, confirm=confirm,
                     on_progress=on_progress) as target:
        j = Journal(out_dir / "journal.jsonl")
        j.record("restore_test.start", "runner", {"environment": env.name, "environment_file": str(env_file),
                                                  "run_id": run_id, "events": events, "time_scale": env.time_scale})
        try:
            on_progress(f"writing {events} events, then restoring the latest restorable point")
            validate_backups(target, j, out_dir / "ledger.txt", run_id=run_id, events=events)
        finally:
            j.record("restore_test.end", "runner", {})
            j.close()
    return restore_test_reports(read_journal(out_dir / "journal.jsonl"), out_dir)


def restore_test_reports(events: list[Event], out_dir: Path) -> dict[str, Any]:
    """summary.json and report.md from the journal alone."""
    s = check_restore_test(events)
    (out_dir / "summary.json").write_text(json.dumps(s, indent=2, default=str))
    rows = [("verdict", s["verdict"].upper()), ("restore duration", _s(s.get("restore_s"))),
            ("restore point", s.get("restore_point")), ("restored from", s.get("source")),
            ("backup age at the restore", _s(s.get("backup_age_s"))),
            ("latest restorable time lag", _s(s.get("restorable_lag_s"))),
            ("burst events acknowledged", s.get("events_acked")),
            ("present / acknowledged by the restore point", f"{s.get('present_before')} / {s.get('acked_before')}"),
            ("missing (a broken backup chain)", s.get("missing_before"))]
    md = ["# Backup validation (gameday restore-test)", "", "| | |", "|---|---|"]
    md += [f"| {k} | {'not measured' if v is None else v} |" for k, v in rows]
    md += ["", *[f"- {r}" for r in s["reasons"]]]
    (out_dir / "report.md").write_text("\n".join(md) + "\n")
    return s


def _s(x: float | None) -> str | None:
    return None if x is None else f"{x} s"

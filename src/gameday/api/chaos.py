"""Chaos Toolkit experiments from Python: validate (chaoslib + every gameday argument), dry-run, run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gameday.api.observe import new_run_id, observers
from gameday.api.targets import open_target
from gameday.chaos.validate import load_experiment_file, validate_experiment
from gameday.config import check_service, load_environment
from gameday.errors import ConfigError, LabError
from gameday.lab.control import DEFAULT_DIR, LabClient
from gameday.runs import claim, run_folder

__all__ = ["validate_experiment", "dry_run_experiment", "run_experiment", "load_experiment_file", "activities"]


def activities() -> list[dict[str, Any]]:
    """The extension's actions and probes as Chaos Toolkit discovers them (each operation once, by its name)."""
    from gameday.chaos import discover

    return list(discover()["activities"])


def dry_run_experiment(path: Path, env_file: Path, *, state_dir: Path = DEFAULT_DIR,
                       confirm: str | None = None) -> list[str]:
    """What each gameday action would touch (AWS: every API call), one line each; nothing is changed."""
    env = load_environment(env_file)
    exp = validate_experiment(path, env)
    check_service(env, env_file)
    if env.kind == "aws":
        from gameday.api.plan import aws_plan, plan_lines

        return plan_lines(aws_plan(path, env_file, confirm=confirm))
    from gameday.chaos.plan import configured_status, plan_experiment

    lines = []
    try:
        status = LabClient(state_dir).status()
    except LabError:  # no lab running: the shape the environment file configures (what 'lab up' would start)
        assert env.lab is not None
        status = configured_status(env.lab)
        lines.append("the lab is not running: targets are the environment's configured shape (no pids yet)")
    for step in plan_experiment(exp, status, str(path)):
        lines.append(f"{step['phase']} {step['name']}: {step['call']}")
        lines += [f"    would touch {t}" for t in step["touches"]]
    return [*lines, "dry run: nothing was changed"]


def run_experiment(path: Path, *, env_file: Path = Path("environments/local.yaml"), out_dir: Path | None = None,
                   state_dir: Path = DEFAULT_DIR, keep_lab: bool = False, confirm: str | None = None,
                   grafana_url: str | None = None,
                   on_progress: Callable[[str], None] = lambda msg: None, run_id: str | None = None) -> dict[str, Any]:
    """Run the experiment (its own process) and return verdict.json's content, judged from the journals (in
    ``out_dir``; default: a new folder ``out/chaos/<experiment>/<time>-<run id>/``)."""
    env = load_environment(env_file)
    validate_experiment(path, env)  # before the lab starts or anything is touched
    check_service(env, env_file)
    if env.protected and confirm != env.name:
        raise ConfigError(f"environment '{env.name}' is protected: pass --confirm {env.name}", field="--confirm")
    run_id = run_id or new_run_id()  # one id: the gameday journal, annotations, heartbeat rows, verdict.json
    out_dir = out_dir or run_folder("chaos", path.stem, run_id)
    with open_target(env, env_file, state_dir=state_dir, keep_lab=keep_lab, confirm=confirm,
                     on_progress=on_progress):
        on_progress(f"running {path} (Chaos Toolkit, its own process)")
        verdict = _run_in_process(path, env_file=env_file, out_dir=out_dir, state_dir=state_dir,
                                  grafana_url=grafana_url, confirm=confirm, run_id=run_id)
    if grafana_url:
        observers("chaos", grafana_url, None, run_id=run_id).finish(verdict["verdict"], "; ".join(verdict["reasons"]))
    return verdict


def _run_in_process(path: Path, *, env_file: Path, out_dir: Path, state_dir: Path, grafana_url: str | None,
                    confirm: str | None, run_id: str) -> dict[str, Any]:
    from gameday.chaos.verdict import chaos_summary
    from gameday.journal import read_journal
    from gameday.report.chaos import write_chaos_reports

    claim(out_dir)
    for old in ("journal.json", "gameday-journal.jsonl", "verdict.json"):
        (out_dir / old).unlink(missing_ok=True)
    extra = (["--grafana-url", grafana_url] if grafana_url else []) + (["--confirm", confirm] if confirm else [])
    extra += ["--run-id", run_id]
    with open(out_dir / "chaos.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gameday.chaos.runner", str(path), "--env",
                                 str(env_file.resolve()), "--state-dir", str(state_dir.resolve()), "--out",
                                 str(out_dir.resolve()), *extra], stdout=log, stderr=subprocess.STDOUT)
    signalled = _wait_forwarding_signals(proc)
    ctk = json.loads((out_dir / "journal.json").read_text()) if (out_dir / "journal.json").exists() else None
    gj = out_dir / "gameday-journal.jsonl"
    verdict = chaos_summary(read_journal(gj) if gj.exists() else [], ctk, signalled=signalled)
    write_chaos_reports(verdict, ctk, out_dir)
    return verdict


def _wait_forwarding_signals(proc: subprocess.Popen[bytes]) -> str | None:
    """Wait for the runner; SIGINT/SIGTERM are passed on as SIGTERM (chaoslib then plays the rollbacks)."""
    signalled: list[str] = []

    def forward(signum: int, frame: Any) -> None:
        signalled.append(signal.Signals(signum).name)
        proc.send_signal(signal.SIGTERM)

    forwarded = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        proc.wait()
    finally:
        for s, h in forwarded.items():
            signal.signal(s, h)
    return signalled[0] if signalled else None

"""``gameday chaos run | validate``: Chaos Toolkit experiments with gameday's actions, probes and verdict."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from gameday.lab.control import DEFAULT_DIR

__all__ = ["chaos_app", "load_valid_experiment", "run_chaos"]

out = Console()
chaos_app = typer.Typer(help="Chaos Toolkit experiments: zones, spot nodes, DB primaries, regions, under load.",
                        no_args_is_help=True)


def load_valid_experiment(path: Path) -> dict[str, Any]:
    """Load and validate with chaoslib; any problem is a ConfigError (exit 2) naming the file."""
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid
    from chaoslib.loader import load_experiment

    from gameday.errors import ConfigError

    if not path.exists():
        raise ConfigError("experiment file not found", file=str(path))
    try:
        experiment = dict(load_experiment(str(path)))
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise ConfigError(f"invalid experiment: {exc}", file=str(path)) from None
    except Exception as exc:  # noqa: BLE001 - YAML errors and the like: still the user's file
        raise ConfigError(f"cannot read the experiment: {type(exc).__name__}: {exc}", file=str(path)) from None
    return experiment


def run_chaos(path: Path, *, env: Path, out_dir: Path, state_dir: Path, grafana_url: str | None = None,
              confirm: str | None = None) -> dict[str, Any]:
    """Run the experiment in its own process; return verdict.json's content (also written to out_dir)."""
    from gameday.chaos.verdict import chaos_verdict
    from gameday.journal import read_journal
    from gameday.report.chaos import write_chaos_reports

    out_dir.mkdir(parents=True, exist_ok=True)
    for old in ("journal.json", "gameday-journal.jsonl", "verdict.json"):
        (out_dir / old).unlink(missing_ok=True)
    extra = (["--grafana-url", grafana_url] if grafana_url else []) + (["--confirm", confirm] if confirm else [])
    proc = subprocess.Popen([sys.executable, "-m", "gameday.chaos.runner", str(path), "--env", str(env.resolve()),
                             "--state-dir", str(state_dir.resolve()), "--out", str(out_dir.resolve()), *extra],
                            stdout=open(out_dir / "chaos.log", "wb"), stderr=subprocess.STDOUT)
    signalled: list[str] = []

    def forward(signum: int, frame: Any) -> None:  # chaoslib turns SIGTERM into an interruption + rollbacks
        signalled.append(signal.Signals(signum).name)
        proc.send_signal(signal.SIGTERM)

    forwarded = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        proc.wait()
    finally:
        for s, h in forwarded.items():
            signal.signal(s, h)
    ctk = json.loads((out_dir / "journal.json").read_text()) if (out_dir / "journal.json").exists() else None
    gj = out_dir / "gameday-journal.jsonl"
    verdict = chaos_verdict(ctk, read_journal(gj) if gj.exists() else [], signalled=signalled[0] if signalled else None)
    write_chaos_reports(verdict, ctk, out_dir)
    return verdict


@chaos_app.command("validate")
def validate(experiment: Path = typer.Argument(..., help="Experiment file (YAML or JSON).")) -> None:
    """Check an experiment with chaoslib (activities, arguments, tolerances); change nothing."""
    exp = load_valid_experiment(experiment)
    out.print(f"ok: {experiment} ({len(exp.get('method', []))} method activities, "
              f"{len(exp.get('rollbacks', []))} rollbacks)")


@chaos_app.command("run")
def run(experiment: Path = typer.Argument(..., help="Experiment file, e.g. experiments/az-outage.yaml."),
        env: Path = typer.Option(Path("environments/local.yaml"), "--env", help="Environment file."),
        out_dir: Path = typer.Option(Path("out/chaos"), "--out", help="Journal, verdict and JUnit go here."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print what each action would touch; change nothing."),
        state_dir: Path = typer.Option(DEFAULT_DIR, "--state-dir"),
        keep_lab: bool = typer.Option(False, "--keep-lab"),
        grafana_url: Optional[str] = typer.Option(None, "--grafana-url", envvar="GRAFANA_URL",
                                                  help="Annotate the run in this Grafana (token from GRAFANA_TOKEN)."),
        confirm: Optional[str] = typer.Option(None, "--confirm", help="The environment's name, if it is protected.")) -> None:
    """Run EXPERIMENT; the verdict comes from the journal: 0 pass, 1 fail, 2 invalid, 4 aborted."""
    from gameday.chaos.plan import plan_experiment
    from gameday.chaos.verdict import EXIT_CODES
    from gameday.config import load_environment
    from gameday.errors import ConfigError, LabError
    from gameday.lab.control import LabClient, lab_down, lab_up

    exp = load_valid_experiment(experiment)
    environment = load_environment(env)
    if environment.kind == "aws":
        if dry_run:
            from gameday.cli_aws import plan

            plan(experiment, env, confirm, False)
            return
        if environment.protected and confirm != environment.name:
            raise ConfigError(f"environment '{environment.name}' is protected: pass --confirm {environment.name}",
                              field="--confirm")
        verdict = run_chaos(experiment, env=env, out_dir=out_dir, state_dir=state_dir, grafana_url=grafana_url,
                            confirm=confirm)
        _print_verdict(verdict, out_dir)
        raise typer.Exit(EXIT_CODES[verdict["verdict"]])
    if dry_run:
        try:
            status = LabClient(state_dir).status()
        except LabError:
            raise ConfigError("--dry-run resolves targets on a running lab: start it with 'gameday lab up'") from None
        for step in plan_experiment(exp, status, str(experiment)):
            out.print(f"[bold]{step['phase']}[/] {step['name']}: {step['call']}")
            for t in step["touches"]:
                out.print(f"    would touch {t}")
        out.print("dry run: nothing was changed")
        return
    started = False
    try:
        LabClient(state_dir)
    except LabError:
        with out.status("starting the local lab…"):
            lab_up(env, state_dir)
        started = True
    try:
        with out.status(f"running {experiment} (Chaos Toolkit, its own process)…"):
            verdict = run_chaos(experiment, env=env, out_dir=out_dir, state_dir=state_dir, grafana_url=grafana_url)
        if grafana_url:
            from gameday.cli_dashboards import observers

            observers("chaos", "chaos", grafana_url, None).finish(verdict["verdict"], "; ".join(verdict["reasons"]))
    finally:
        if started and not keep_lab:
            lab_down(state_dir)
    _print_verdict(verdict, out_dir)
    raise typer.Exit(EXIT_CODES[verdict["verdict"]])


def _print_verdict(verdict: dict[str, Any], out_dir: Path) -> None:
    colour = {"pass": "green", "fail": "red"}.get(verdict["verdict"], "yellow")
    out.print(f"[bold {colour}]{verdict['verdict'].upper()}[/]  faults applied: {', '.join(verdict['faults_applied']) or 'none'}"
              f"  rolled back: {verdict['rolled_back']}")
    for r in verdict["reasons"]:
        out.print(f"  - {r}", highlight=False)
    out.print(f"journal: {out_dir / 'journal.json'}  verdict: {out_dir / 'verdict.json'}  junit: {out_dir / 'junit.xml'}")

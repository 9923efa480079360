"""``gameday chaos run | validate | discover``: Chaos Toolkit experiments with gameday's actions, probes and verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from gameday.api.chaos import activities, dry_run_experiment, run_experiment, validate_experiment
from gameday.api.observe import new_run_id
from gameday.cli.common import CONFIRM, GRAFANA_URL, KEEP_LAB, STATE_DIR, colour_of, exit_by, out, progress
from gameday.config import check_service, load_environment
from gameday.errors import ConfigError
from gameday.runs import run_folder

__all__ = ["chaos_app", "print_chaos_verdict"]

chaos_app = typer.Typer(help="Chaos Toolkit experiments: zones, spot nodes, DB primaries, regions, under load.",
                        no_args_is_help=True)
ENV = typer.Option(Path("environments/local.yaml"), "--env", help="Environment file.")


@chaos_app.command("validate")
def validate(experiment: Path = typer.Argument(..., help="Experiment file (YAML or JSON)."), env: Path = ENV) -> None:
    """Check an experiment with chaoslib and every gameday argument against the environment; change nothing."""
    _exists(experiment)
    environment = load_environment(env)
    exp = validate_experiment(experiment, environment)
    check_service(environment, env)
    out.print(f"ok: {experiment} ({len(exp.get('method', []))} method activities, "
              f"{len(exp.get('rollbacks', []))} rollbacks)")


@chaos_app.command("discover")
def discover() -> None:
    """The actions and probes an experiment can use (what `chaos discover gameday-drills` finds), one a line."""
    for a in activities():
        args = ", ".join(x["name"] for x in a["arguments"] if x["name"] not in ("configuration", "secrets"))
        out.print(f"{a['type']:<7} {a['mod']}.{a['name']}({args})", highlight=False)


@chaos_app.command("run")
def run(experiment: Path = typer.Argument(..., help="Experiment file, e.g. experiments/az-outage.yaml."),
        env: Path = ENV,
        out_dir: Path | None = typer.Option(None, "--out", help="Journal, verdict and JUnit go here (default: a new "
                                            "folder <time>-<run id> under out/chaos/<experiment>/, linked as latest)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print what each action would touch; change nothing."),
        state_dir: Path = STATE_DIR, keep_lab: bool = KEEP_LAB, grafana_url: str | None = GRAFANA_URL,
        confirm: str | None = CONFIRM) -> None:
    """Run EXPERIMENT; the verdict comes from the journal: 0 pass, 1 fail, 2 invalid, 4 aborted."""
    _exists(experiment)
    if dry_run:
        for line in dry_run_experiment(experiment, env, state_dir=state_dir, confirm=confirm):
            out.print(line, highlight=False)
        return
    run_id = new_run_id()
    out_dir = out_dir or run_folder("chaos", experiment.stem, run_id)
    verdict = run_experiment(experiment, env_file=env, out_dir=out_dir, state_dir=state_dir, keep_lab=keep_lab,
                             confirm=confirm, grafana_url=grafana_url, on_progress=progress, run_id=run_id)
    print_chaos_verdict(verdict, out_dir)
    exit_by(verdict["verdict"])


def _exists(experiment: Path) -> None:
    """The experiment named before the environment it is checked against (which may be the default's, missing)."""
    if not experiment.is_file():
        raise ConfigError("experiment file not found", file=str(experiment))


def print_chaos_verdict(verdict: dict[str, Any], out_dir: Path) -> None:
    colour = colour_of(verdict["verdict"])
    incomplete = " (incomplete)" if verdict.get("incomplete") else ""
    out.print(f"chaos experiment {verdict.get('title') or 'experiment'} - [bold {colour}]{verdict['verdict'].upper()}[/]"
              f"{incomplete}  faults applied: "
              f"{', '.join(verdict['faults_applied']) or 'none'}  rolled back: {verdict['rolled_back']}")
    for r in verdict["reasons"]:
        out.print(f"  - {r}", highlight=False)
    out.print(f"journal: {out_dir / 'journal.json'}  verdict: {out_dir / 'verdict.json'}  junit: {out_dir / 'junit.xml'}")

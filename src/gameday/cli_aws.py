"""``gameday plan`` and ``gameday iam-policy``: what a drill or experiment would do on AWS, and the
permissions it needs. Plans resolve targets with read-only calls and send no change."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

__all__ = ["plan", "iam_policy_cmd", "aws_target"]

out = Console()


def aws_target(env_file: Path, *, confirm: Optional[str], plan_only: bool) -> Any:
    from gameday.config import load_environment
    from gameday.errors import ConfigError
    from gameday.targets import target_for

    env = load_environment(env_file)
    if env.kind != "aws" or env.aws is None:
        raise ConfigError("expected an environment with kind: aws", file=str(env_file), field="kind")
    return target_for(env, confirm=confirm, plan_only=plan_only,
                      db_password=os.environ.get(env.aws.rds.password_env))  # read at the edge, never printed


def _calls_for(path: Path, target: Any) -> None:
    """Run the file's faults and runbook actions against a plan-only target."""
    import yaml

    from gameday.drill.models import load_drill
    from gameday.drill.steps import fill

    data = yaml.safe_load(path.read_text()) or {}
    primary, dr = target.regions()
    variables = {"primary_region": primary, "dr_region": dr}
    if "method" in data:  # a Chaos Toolkit experiment
        from gameday.cli_chaos import load_valid_experiment

        exp = load_valid_experiment(path)
        to_target = {"fail_availability_zone": "fail_zone", "restore_availability_zone": "restore_zone",
                     "interrupt_spot_nodes": "interrupt_spot", "fail_over_database": "fail_over_db",
                     "fail_region": "fail_region", "restore_region": "restore"}
        for act in [*exp.get("method", []), *exp.get("rollbacks", [])]:
            prov = act.get("provider", {})
            name = to_target.get(prov.get("func", "")) if prov.get("module") == "gameday.chaos.actions" else None
            if name:
                args = {k: v for k, v in (prov.get("arguments") or {}).items() if k in ("zone", "region", "count")}
                getattr(target, name)(**({} if name in ("restore", "fail_over_db") else args))
        return
    loaded = load_drill(path, None)
    d = loaded.drill
    getattr(target, d.fault.action)(**fill(d.fault.args, variables))
    for step in loaded.runbook.steps:
        if step.kind == "action" and step.call:
            getattr(target, step.call)(**fill(step.args, variables))
    target.restore()


def plan(file: Path = typer.Argument(..., help="A drill (drills/*.yaml) or an experiment (experiments/*.yaml)."),
         env: Path = typer.Option(..., "--env", help="An AWS environment file."),
         confirm: Optional[str] = typer.Option(None, "--confirm", help="The environment's name, if it is protected."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Resolve targets with read-only calls and print every API call the run would make; change nothing."""
    target = aws_target(env, confirm=confirm, plan_only=True)
    _calls_for(file, target)
    calls = target.actions.calls
    if as_json:
        typer.echo(json.dumps(calls, indent=2))
        return
    for c in calls:
        params = ", ".join(f"{k}={v}" for k, v in c["params"].items())
        out.print(f"{c['api']:<38} {', '.join(c['resources'])}{'  (' + params + ')' if params else ''}", highlight=False)
    out.print(f"{len(calls)} call(s) planned; nothing was changed")


def iam_policy_cmd(env: Path = typer.Option(..., "--env", help="An AWS environment file.")) -> None:
    """Print the least-privilege IAM policy the drills and experiments need on this environment."""
    from gameday.config import load_environment
    from gameday.errors import ConfigError
    from gameday.targets.aws.iam import iam_policy

    e = load_environment(env)
    if e.aws is None:
        raise ConfigError("expected an environment with kind: aws", file=str(env), field="aws")
    typer.echo(json.dumps(iam_policy(e.aws), indent=2))

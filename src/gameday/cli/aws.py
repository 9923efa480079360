"""``gameday plan`` and ``gameday iam-policy``: what a drill or experiment would do on AWS, and the
permissions it needs. Plans resolve targets with read-only calls and send no change."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gameday.api.plan import aws_plan, load_aws_environment, plan_lines
from gameday.cli.common import CONFIRM, out

__all__ = ["plan_cmd", "iam_policy_cmd"]


def plan_cmd(file: Path = typer.Argument(..., help="A drill (drills/*.yaml) or an experiment (experiments/*.yaml)."),
             env: Path = typer.Option(..., "--env", help="An AWS environment file."),
             confirm: str | None = CONFIRM, as_json: bool = typer.Option(False, "--json")) -> None:
    """Resolve targets with read-only calls and print every API call the run would make; change nothing."""
    calls = aws_plan(file, env, confirm=confirm)
    if as_json:
        typer.echo(json.dumps(calls, indent=2))
        return
    for line in plan_lines(calls):
        out.print(line, highlight=False)


def iam_policy_cmd(env: Path = typer.Option(..., "--env", help="An AWS environment file."),
                   upload: str | None = typer.Option(None, "--upload", metavar="s3://BUCKET/PREFIX",
                                                     help="Also allow drill run --upload to this prefix.")) -> None:
    """Print the least-privilege IAM policy the drills and experiments need on this environment."""
    from gameday.api.upload import parse_s3_url
    from gameday.targets.aws.iam import iam_policy

    destination = parse_s3_url(upload) if upload else None
    e = load_aws_environment(env)
    assert e.aws is not None
    typer.echo(json.dumps(iam_policy(e.aws, destination), indent=2))

"""``gameday init DIR``: a working gameday folder; with ``--aws``, an environment discovered read-only."""

from __future__ import annotations

from pathlib import Path

import typer

from gameday.api.init import ROLE_ARN, AwsInitOptions, init_folder, parse_regions, parse_tag
from gameday.cli.common import out, progress
from gameday.errors import ConfigError

__all__ = ["init_cmd"]


def _aws_options(aws: bool, tag: str | None, regions: str | None, profile: str | None,
                 role_arn: str | None) -> AwsInitOptions | None:
    if not aws:
        given = [name for name, v in (("--tag", tag), ("--regions", regions), ("--profile", profile),
                                      ("--role-arn", role_arn)) if v]
        if given:
            raise ConfigError(f"{given[0]} needs --aws", field=given[0])
        return None
    if not tag:
        raise ConfigError("--aws needs --tag KEY=VALUE (the tag that selects the resources)", field="--tag")
    if not regions:
        raise ConfigError("--aws needs --regions PRIMARY,DR (e.g. us-east-1,us-west-2)", field="--regions")
    key, value = parse_tag(tag)
    primary, dr = parse_regions(regions)
    if role_arn and not ROLE_ARN.match(role_arn):
        raise ConfigError(f"expected arn:aws:iam::ACCOUNT:role/NAME, got {role_arn!r}", field="--role-arn")
    if profile:  # checked before any progress is printed (the session opens later, in the discovery)
        import boto3

        if profile not in boto3.session.Session().available_profiles:
            raise ConfigError(f"the AWS profile {profile!r} is not configured on this machine "
                              "(~/.aws/config or AWS_CONFIG_FILE)", field="--profile")
    return AwsInitOptions(key, value, primary, dr, profile=profile, role_arn=role_arn)


def init_cmd(folder: Path = typer.Argument(..., metavar="DIR", help="The folder to write (new, or empty)."),
             force: bool = typer.Option(False, "--force", help="Write into a non-empty folder (files of the same "
                                                               "name are replaced)."),
             aws: bool = typer.Option(False, "--aws", help="Also discover an AWS environment (read-only calls)."),
             tag: str | None = typer.Option(None, "--tag", metavar="KEY=VALUE",
                                            help="With --aws: the tag that selects the resources."),
             regions: str | None = typer.Option(None, "--regions", metavar="PRIMARY,DR",
                                                help="With --aws: the primary and the DR region."),
             profile: str | None = typer.Option(None, "--profile", help="With --aws: the AWS profile to use."),
             role_arn: str | None = typer.Option(None, "--role-arn", help="With --aws: a role to assume.")) -> None:
    """Write a working gameday folder: environments, drills, runbooks, experiments, load profiles.

    Also a Makefile, a CI workflow example and a README; with --aws, an environment discovered read-only."""
    options = _aws_options(aws, tag, regions, profile, role_arn)
    if options is not None:
        progress(f"discovering what {options.tag_key}={options.tag_value} selects in {options.primary_region} "
                 f"and {options.dr_region} (read-only)")
    result = init_folder(folder, force=force, aws=options)
    out.print(f"wrote {len(result.written)} files to {folder}", highlight=False)
    if result.aws_environment is not None:
        env = result.aws_environment
        out.print(f"{env}: {result.todos} TODO to decide, then in the folder: gameday plan "
                  f"drills/region-failover.yaml --env {env.relative_to(folder)} --confirm {env.stem}",
                  highlight=False, markup=False)
    out.print(f"next: cd {folder}; make validate; make drill (the region drill on the local lab)",
              highlight=False, markup=False)

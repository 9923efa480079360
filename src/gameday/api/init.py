"""``gameday init DIR``: a working gameday folder for a team (the standard drills, runbooks, experiments,
profiles and environments from the package, a Makefile, a CI workflow example, a README), and with ``--aws``
an environment file discovered read-only from what a tag selects in two regions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from gameday.discover.facts import AwsInitOptions
from gameday.errors import ConfigError
from gameday.scaffold import check_writable, folder_files, standard_files, write_folder

__all__ = ["ROLE_ARN", "InitResult", "init_folder", "parse_tag", "parse_regions", "AwsInitOptions"]

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")


@dataclass(frozen=True)
class InitResult:
    folder: Path
    written: list[Path]
    aws_environment: Path | None = None
    todos: int = 0


def parse_tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ConfigError(f"expected KEY=VALUE (e.g. gameday:target=staging), got {text!r}", field="--tag")
    return key.strip(), value.strip()


def parse_regions(text: str) -> tuple[str, str]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(_REGION.match(p) for p in parts):
        raise ConfigError(f"expected PRIMARY,DR (e.g. us-east-1,us-west-2), got {text!r}", field="--regions")
    if parts[0] == parts[1]:
        raise ConfigError(f"the primary and DR regions must differ, got {text!r}", field="--regions")
    return parts[0], parts[1]


def _version() -> str:
    try:
        return version("gameday-drills")
    except PackageNotFoundError:  # pragma: no cover - only from a source tree never installed
        return "0.1.0"


def _environment_name(tag_value: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", tag_value.lower()).strip("-")
    return f"aws-{slug or 'discovered'}"


def _ci_dir(target: Path) -> str:
    """The folder's path in the team's repository, as far as the command line tells it."""
    return str(target) if not target.is_absolute() and ".." not in target.parts else "."


def _discovered(aws: AwsInitOptions) -> tuple[str, str, int]:
    """(environment name, file text, TODO count), from read-only calls only."""
    from gameday.discover.render import count_todos, render_environment
    from gameday.discover.run import discover

    found = discover(aws)
    name = _environment_name(aws.tag_value)
    written_by = (f"gameday init --aws --tag {aws.tag_key}={aws.tag_value} "
                  f"--regions {aws.primary_region},{aws.dr_region}")
    return name, render_environment(name, found, written_by=written_by), count_todos(found["aws"])


def init_folder(target: Path, *, force: bool = False, aws: AwsInitOptions | None = None) -> InitResult:
    """Write the folder. A non-empty ``target`` is refused unless ``force``; with ``aws``, discovery runs
    before anything is written (a discovery that fails writes nothing)."""
    check_writable(target, force=force)
    content = standard_files()
    aws_env, name, todos = "environments/aws-staging.yaml", "aws-staging", 0
    if aws is not None:
        name, text, todos = _discovered(aws)
        aws_env = f"environments/{name}.yaml"
        content[aws_env] = text
    aws_line = (f"`{aws_env}` (discovered by `gameday init --aws`: {todos} TODO)" if aws is not None else
                "`environments/aws-staging.example.yaml` (copy to `aws-staging.yaml` and fill in, or run "
                "`gameday init --aws`)")
    content |= folder_files({"AWS_ENV": aws_env, "AWS_NAME": name, "DIR": _ci_dir(target), "VERSION": _version(),
                             "AWS_LINE": aws_line})
    written = write_folder(target, content)
    return InitResult(target, written, target / aws_env if aws is not None else None, todos)

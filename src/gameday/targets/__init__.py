"""Targets: the interface every fault, runbook step and probe calls, and its drivers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gameday.targets.base import Target

if TYPE_CHECKING:  # gameday.config imports the AWS settings model from this package: no import cycle at run time
    from gameday.config import Environment

__all__ = ["Target", "target_for"]


def target_for(env: Environment, *, state_dir: Path | None = None, confirm: str | None = None,
               plan_only: bool = False, db_password: str | None = None) -> Target:
    """The driver the environment names (``kind: local | aws``): the one way every command (drill, plan,
    recover, chaos) builds it. On AWS the DB password is ``db_password`` or else the variable the environment
    names (``aws.rds.password_env``); S3 uploads use the same session class (the environment's profile/role)."""
    if env.kind == "aws":
        from gameday.targets.aws.target import AwsTarget

        return AwsTarget(env, confirm=confirm, plan_only=plan_only, db_password=db_password)
    from gameday.lab.control import DEFAULT_DIR
    from gameday.targets.local import LocalTarget

    return LocalTarget(env, state_dir=state_dir or DEFAULT_DIR)

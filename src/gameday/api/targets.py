"""The Target for an environment, opened for one run: the lab (through :func:`lab_session`) or AWS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gameday.api.lab import lab_session
from gameday.config import Environment
from gameday.errors import in_environment_file
from gameday.lab.control import DEFAULT_DIR
from gameday.targets import target_for
from gameday.targets.base import Target

__all__ = ["open_target", "aws_target"]


def aws_target(env: Environment, *, confirm: str | None, plan_only: bool = False) -> Target:
    """The AWS driver, built the one way every command builds it (:func:`gameday.targets.target_for`, which the
    Chaos Toolkit extension uses too): the DB password from the variable the environment names, never printed."""
    assert env.aws is not None
    return target_for(env, confirm=confirm, plan_only=plan_only)


@contextmanager
def open_target(env: Environment, env_file: Path, *, state_dir: Path = DEFAULT_DIR, keep_lab: bool = False,
                confirm: str | None = None, on_progress: Callable[[str], None] = lambda msg: None) -> Iterator[Target]:
    """The environment's Target for the length of a run (a lab it started is stopped afterwards)."""
    if env.kind == "aws":
        with in_environment_file(env_file):
            target = aws_target(env, confirm=confirm)
        yield target
        return
    from gameday.targets.local import LocalTarget

    with lab_session(env_file, state_dir, keep=keep_lab, on_progress=on_progress) as lab:
        yield LocalTarget(env, state_dir=lab.state_dir)

"""Targets: the interface every fault, runbook step and probe calls, and its drivers."""

from gameday.targets.base import Target

__all__ = ["Target", "target_for"]


def target_for(env_file: str, **kwargs: object) -> Target:
    """The driver the environment file names (``kind: local | aws``)."""
    from gameday.config import load_environment

    env = load_environment(env_file)
    if env.kind == "local":
        from gameday.targets.local import LocalTarget

        return LocalTarget(env, **kwargs)  # type: ignore[arg-type]
    from gameday.errors import ConfigError

    raise ConfigError("the AWS driver is not available in this version", file=env_file, field="kind")

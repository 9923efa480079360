"""Every argument of every gameday activity in an experiment, checked before anything starts: the faults
and inverses against the operation registry and the environment (zones, regions, counts), the load and
the probes against their own models. chaoslib's own validation checks the experiment's shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from gameday import operations, spellings
from gameday.config import Environment
from gameday.errors import ConfigError
from gameday.operations import Args, ZoneArgs, problem

__all__ = ["check_activities", "ACTIVITY_ARGS", "load_experiment_file", "validate_experiment"]


class LoadArgs(Args):
    profile: str = Field("loadprofiles/ingest_steady.py", min_length=1)
    rate: float = Field(100.0, gt=0, le=10_000_000)
    duration: float = Field(30.0, gt=0, le=86_400)
    batch: int = Field(1, ge=1, le=5000)


class WritesArgs(Args):
    n: int = Field(5, ge=1, le=1000)
    within_s: float = Field(0.0, ge=0, le=86_400)


class WithinArgs(Args):
    within_s: float = Field(0.0, ge=0, le=86_400)


class SloArgs(Args):
    p95_ms: float = Field(300.0, gt=0)
    max_error_ratio: float = Field(0.001, ge=0, le=1)
    window_s: float = Field(3.0, gt=0, le=3600)


class ReplicaArgs(Args):
    replica: str = Field("us-west-2", min_length=1)


_NONE = operations.NoArgs
# gameday.chaos functions that are not Target operations -> their argument models
ACTIVITY_ARGS: dict[str, type[Args]] = {
    "start_load": LoadArgs, "stop_load": _NONE, "writes_succeed": WritesArgs, "cache_writes_succeed": WritesArgs,
    "ingest_slo_met": SloArgs,
    "zone_serving": ZoneArgs, "spot_capacity_restored": WithinArgs, "replication_lag_s": ReplicaArgs,
    "acked_events_present": _NONE,
}


def _activities(experiment: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    ssh = experiment.get("steady-state-hypothesis") or {}
    out = [(f"steady-state-hypothesis.probes[{i}]", a) for i, a in enumerate(ssh.get("probes") or [])]
    for phase in ("method", "rollbacks"):
        out += [(f"{phase}[{i}]", a) for i, a in enumerate(experiment.get(phase) or [])]
    return out


def _check_one(func: str, args: dict[str, Any], env: Environment, file: str, where: str) -> None:
    if spellings.resolve(func, quiet=True)[0] in operations.CHAOS_OPERATIONS:
        operations.from_chaos(func, args, env, file=file, where=where)
        return
    model = ACTIVITY_ARGS.get(func)
    if model is None:
        raise ConfigError(f"gameday has no activity {func!r}", file=file, field=where)
    try:
        parsed = model.model_validate(args)
    except ValidationError as exc:
        loc, msg = problem(exc)
        raise ConfigError(f"{func}: {msg}", file=file, field=f"{where}.{loc}") from None
    if isinstance(parsed, ZoneArgs):
        operations.validate("fail_zone", {"zone": parsed.zone}, env, file=file, where=where)


def check_activities(experiment: dict[str, Any], env: Environment, file: str) -> int:
    """Check every gameday activity's arguments; return how many were checked. ConfigError names the activity."""
    checked = 0
    for where, act in _activities(experiment):
        prov = act.get("provider") or {}
        module = str(prov.get("module", ""))
        if not module.startswith("gameday.chaos"):
            continue
        args = prov.get("arguments") or {}
        if any(isinstance(v, str) and "${" in v for v in args.values()):
            continue  # filled from the configuration at run time by chaoslib
        _check_one(str(prov.get("func", "")), dict(args), env, file, f"{where} ({act.get('name')}).arguments")
        checked += 1
    return checked


def load_experiment_file(path: Path) -> dict[str, Any]:
    """Load and validate with chaoslib; any problem is a ConfigError (exit 2) naming the file."""
    from chaoslib.exceptions import ChaosException
    from chaoslib.experiment import ensure_experiment_is_valid
    from chaoslib.loader import load_experiment

    if not path.is_file():
        raise ConfigError("experiment file not found", file=str(path))
    try:
        experiment = dict(load_experiment(str(path)))
        ensure_experiment_is_valid(experiment)
    except ChaosException as exc:
        raise ConfigError(f"invalid experiment: {' '.join(str(exc).split())}", file=str(path)) from None
    except Exception as exc:  # noqa: BLE001 - YAML errors and the like: still the user's file
        raise ConfigError(f"cannot read the experiment: {type(exc).__name__}: {exc}", file=str(path)) from None
    return experiment


def validate_experiment(path: Path, env: Environment) -> dict[str, Any]:
    """chaoslib's checks, then every gameday activity's arguments against the registry and ``env``."""
    experiment = load_experiment_file(path)
    check_activities(experiment, env, str(path))
    return experiment

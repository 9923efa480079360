"""``gameday plan``: every AWS API call a drill or an experiment would make, resolved with read-only calls
on a plan-only Target; nothing is changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gameday import operations, spellings
from gameday.api.targets import aws_target
from gameday.config import Environment, load_environment
from gameday.errors import ConfigError, in_environment_file
from gameday.targets.base import Target

__all__ = ["aws_plan", "plan_lines", "load_aws_environment"]


def load_aws_environment(env_file: Path) -> Environment:
    env = load_environment(env_file)
    if env.kind != "aws" or env.aws is None:
        raise ConfigError("expected an environment with kind: aws", file=str(env_file), field="kind")
    return env


def _experiment_calls(path: Path, env: Environment) -> list[tuple[str, dict[str, Any]]]:
    from gameday.chaos.validate import validate_experiment

    exp = validate_experiment(path, env)
    calls = []
    for act in [*exp.get("method", []), *exp.get("rollbacks", [])]:
        prov = act.get("provider", {})
        if prov.get("module") == "gameday.chaos.actions" and \
                spellings.resolve(str(prov.get("func")), quiet=True)[0] in operations.CHAOS_OPERATIONS:
            calls.append(operations.from_chaos(prov["func"], prov.get("arguments") or {}, env, file=str(path)))
    return calls


def _drill_calls(path: Path, env_file: Path) -> list[tuple[str, dict[str, Any]]]:
    from gameday.drill.models import load_drill

    loaded = load_drill(path, env_file)
    env, d = loaded.environment, loaded.drill
    calls = [(op.action, operations.validate(op.action, op.args, env, file=str(path))) for op in d.prepare]
    if d.fault is not None:
        calls.append((d.fault.action, operations.validate(d.fault.action, d.fault.args, env, file=str(path))))
    undo: list[tuple[str, dict[str, Any]]] = []
    for step in loaded.runbook.steps:
        if step.kind == "action" and step.call:
            args = operations.validate(step.call, step.args, env, file=loaded.runbook_path)
            calls.append((step.call, args))
            op = operations.OPERATIONS[step.call]
            if op.role == "action" and op.inverse:  # a restore's discard, journaled before it and run at the end
                undo.insert(0, (op.inverse, {k: args[k] for k in op.inverse_args if k in args}))
    done = {(n, tuple(sorted(a.items()))) for n, a in calls}  # a runbook that discards by itself: once
    return [*calls, *(u for u in undo if (u[0], tuple(sorted(u[1].items()))) not in done), ("restore", {})]


def aws_plan(file: Path, env_file: Path, *, confirm: str | None = None) -> list[dict[str, Any]]:
    """The API calls (``api``, ``resources``, ``params``) the drill or experiment in ``file`` would make."""
    env = load_aws_environment(env_file)
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(file)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=str(file)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {' '.join(str(exc).split())}", file=str(file)) from None
    calls = _experiment_calls(file, env) if isinstance(data, dict) and "method" in data else _drill_calls(file, env_file)
    with in_environment_file(env_file):
        target: Target = aws_target(env, confirm=confirm, plan_only=True)
        for name, args in calls:
            operations.apply(target, name, args)
    return list(target.actions.calls)  # type: ignore[attr-defined]


def plan_lines(calls: list[dict[str, Any]]) -> list[str]:
    lines = []
    for c in calls:
        params = ", ".join(f"{k}={v}" for k, v in c["params"].items())
        lines.append(f"{c['api']:<38} {', '.join(c['resources'])}{'  (' + params + ')' if params else ''}")
    return [*lines, f"{len(calls)} call(s) planned; nothing was changed"]

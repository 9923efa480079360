"""Models of runbooks/*.yaml and drills/*.yaml, and their loading (errors name file and field)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from gameday import operations, spellings
from gameday.config import Environment, Strict, load_environment, load_yaml_model
from gameday.errors import ConfigError

__all__ = ["Step", "Runbook", "LoadSpec", "FaultSpec", "PrepareSpec", "Targets", "ProbeSpec", "Drill", "LoadedDrill",
           "load_runbook", "load_drill", "ACTIONS", "WAITS", "FAULTS"]

# Target methods a runbook ``action`` step may call, and faults a drill may inject: the registry's.
ACTIONS = operations.ACTIONS
FAULTS = tuple(f for f in operations.FAULTS if f not in ("delay_link", "inject_latency"))  # conditions, not drills


def _spelled(data: Any, key: str, info: ValidationInfo) -> Any:
    """An operation named by an old spelling (``kill_zone``): its one name, with one warning per spelling."""
    if not isinstance(data, dict) or not isinstance(data.get(key), str):
        return data
    file = (info.context or {}).get("file")
    name, args = spellings.resolve(data[key], data.get("args") if isinstance(data.get("args"), dict) else None,
                                   where=file)
    return {**data, key: name, **({"args": args} if "args" in data or args else {})}


# Conditions a ``wait`` step can wait for.
WAITS = ("synthetic_failing", "synthetic_recovered", "dr_nodes_healthy", "consumer_lag_below")
LAG_LIMITS = ("max_offset_lag", "max_time_lag_s")  # consumer_lag_below's arguments (either or both)


class Step(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    kind: Literal["action", "wait", "manual", "shell"]
    budget_s: float = Field(ge=0, description="the step's budget in real (AWS) seconds")
    done_when: str = Field(min_length=1, description="what proves the step done")
    call: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    wait_for: str | None = None
    timeout_s: float | None = Field(None, gt=0)
    command: list[str] | None = None
    prompt: str | None = None
    declares: bool = False  # the step at which the incident is declared (T_declare)

    @model_validator(mode="before")
    @classmethod
    def _one_name(cls, data: Any, info: ValidationInfo) -> Any:
        return _spelled(data, "call", info)

    @model_validator(mode="after")
    def _kind_fields(self) -> Step:
        if self.kind == "action":
            if self.call not in ACTIONS:
                raise ValueError(f"action step needs 'call', one of: {', '.join(ACTIONS)}")
            bad = set(self.args) - set(operations.OPERATIONS[self.call].args.model_fields)
            if bad:
                raise ValueError(f"'{self.call}' takes no argument(s) {sorted(bad)}")
        if self.kind == "wait" and self.wait_for is None:
            raise ValueError(f"wait step needs 'wait_for', one of: {', '.join(WAITS)}")
        if self.wait_for is not None and self.wait_for not in WAITS:
            raise ValueError(f"unknown wait_for '{self.wait_for}'; expected one of: {', '.join(WAITS)}")
        if self.wait_for == "consumer_lag_below":
            limits = {k: v for k, v in self.args.items() if k in LAG_LIMITS}
            if not limits or set(self.args) - set(LAG_LIMITS) or any(
                    isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in limits.values()):
                raise ValueError(f"consumer_lag_below needs args {' and/or '.join(LAG_LIMITS)} (numbers >= 0), "
                                 f"got {self.args}")
        if self.wait_for is not None and self.timeout_s is None:
            raise ValueError("a step that waits needs 'timeout_s'")
        if self.kind == "shell" and not self.command:
            raise ValueError("shell step needs 'command' (a list: program and arguments)")
        return self


class Runbook(Strict):
    name: str
    title: str
    source: str | None = None
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Runbook:
        ids = [s.id for s in self.steps]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"step ids must be unique: {sorted(dup)}")
        return self


class LoadSpec(Strict):
    profile: str = Field("builtin", description="'builtin' (a simple open-loop writer) or a locustfile path")
    rate: float = Field(50.0, gt=0, le=100_000, description="events per second")
    batch: int = Field(1, ge=1, le=5000)


class FaultSpec(Strict):
    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    effect_within_s: float | None = Field(
        None, gt=0, le=86_400, description="how long the fault's effect may take to show to clients (real seconds, "
        "scaled like budgets); default: the operation's own (gameday.operations.EFFECT_WITHIN_S)")

    @model_validator(mode="before")
    @classmethod
    def _one_name(cls, data: Any, info: ValidationInfo) -> Any:
        return _spelled(data, "action", info)

    @model_validator(mode="after")
    def _known(self) -> FaultSpec:
        if self.action not in FAULTS:
            raise ValueError(f"unknown fault '{self.action}'; expected one of: {', '.join(FAULTS)}")
        bad = set(self.args) - set(operations.OPERATIONS[self.action].args.model_fields)
        if bad:
            raise ValueError(f"'{self.action}' takes no argument(s) {sorted(bad)}")
        return self


class PrepareSpec(Strict):
    """An operation (a fault or a runbook action) that puts the environment in the state the drill starts from."""

    action: str
    args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_name(cls, data: Any, info: ValidationInfo) -> Any:
        return _spelled(data, "action", info)

    @model_validator(mode="after")
    def _known(self) -> PrepareSpec:
        known = (*FAULTS, *ACTIONS)
        if self.action not in known:
            raise ValueError(f"unknown operation '{self.action}'; expected one of: {', '.join(known)}")
        return self


class Targets(Strict):
    rto_s: float = Field(gt=0, description="recovery time objective, real seconds")
    rpo_s: float = Field(ge=0, description="recovery point objective, real seconds")
    lost_events_max: int | None = Field(None, ge=0)
    # The cache tier (a drill that names any of these watches the cache through its primary endpoint).
    cache_rto_s: float | None = Field(None, gt=0, description="cache failover: probe through the primary endpoint")
    cache_rpo_s: float | None = Field(None, ge=0, description="span of acknowledged cache writes lost")
    cache_lost_writes_max: int | None = Field(None, ge=0, description="acknowledged cache SETs lost")

    @property
    def watches_cache(self) -> bool:
        return any(v is not None for v in (self.cache_rto_s, self.cache_rpo_s, self.cache_lost_writes_max))


class ProbeSpec(Strict):
    interval_s: float = Field(0.2, gt=0, le=60)
    consecutive: int = Field(5, ge=1, le=100)
    timeout_s: float = Field(2.0, gt=0, le=60)


class Conditions(Strict):
    """The environment's state for this drill, set before the load starts (undone by the final restore)."""

    link_delay_ms: float | None = Field(None, ge=0, le=60_000, description="cross-region replication delay")


class Drill(Strict):
    name: str
    description: str = ""
    environment: str = "environments/local.yaml"
    runbook: str
    runbooks: dict[Literal["region", "zone", "db", "cache", "data"], str] = Field(
        default_factory=dict, description="a rehearsal's runbook for each fault it may draw (default: runbook)")
    load: LoadSpec = LoadSpec()
    fault: FaultSpec | None = Field(None, description="what breaks; none: a planned move, timed from the runbook's start")
    prepare: list[PrepareSpec] = Field(
        default_factory=list, description="operations that bring the environment to the drill's starting state (a "
        "failback starts failed over); skipped when the environment is already failed over (on AWS after a real failover)")
    conditions: Conditions = Conditions()
    targets: Targets
    probe: ProbeSpec = ProbeSpec()
    heartbeat_interval_s: float = Field(0.1, gt=0, le=10)
    warmup_s: float = Field(3.0, ge=0, le=600)
    cooldown_s: float = Field(2.0, ge=0, le=600)
    manual_confirm_s: float = Field(1.0, ge=0, le=3600)
    recovery_timeout_s: float = Field(120.0, gt=0, le=7200)


class LoadedDrill(Strict):
    path: str
    drill: Drill
    runbook: Runbook
    runbook_path: str
    fault_runbooks: dict[str, Runbook] = Field(default_factory=dict)
    environment: Environment
    environment_path: str


def load_runbook(path: str | Path) -> Runbook:
    return load_yaml_model(path, Runbook)


def resolve_ref(base: Path, ref: str) -> Path:
    """A path written in a drill file: as given if it exists (from the working directory), else next to the file."""
    return _resolve(base, ref)


def _resolve(base: Path, ref: str) -> Path:
    p = Path(ref)
    if p.is_absolute() or p.exists():
        return p
    return base.parent / p


def load_drill(path: str | Path, env_override: str | Path | None = None) -> LoadedDrill:
    """Load a drill with its runbook and environment; every reference is checked before anything runs."""
    path = Path(path)
    drill = load_yaml_model(path, Drill)
    rb_path = _resolve(path, drill.runbook)
    if not rb_path.exists():
        raise ConfigError(f"runbook file {drill.runbook!r} not found", file=str(path), field="runbook")
    env_path = Path(env_override) if env_override else _resolve(path, drill.environment)
    if not env_path.exists():
        if env_override:  # the user's --env, not the drill's field
            raise ConfigError(f"environment file {str(env_path)!r} not found", field="--env")
        raise ConfigError(f"environment file {str(env_path)!r} not found", file=str(path), field="environment")
    if drill.load.profile != "builtin" and not _resolve(path, drill.load.profile).exists():
        raise ConfigError(f"load profile {drill.load.profile!r} not found (looked in {Path.cwd()} and beside the "
                          "drill: run from the folder that holds loadprofiles/)", file=str(path), field="load.profile")
    runbook = load_runbook(rb_path)
    env = load_environment(env_path)
    check_operations(drill, runbook, env, drill_file=str(path), runbook_file=str(rb_path))
    per_fault = {}
    for fault, ref in drill.runbooks.items():
        p = _resolve(path, ref)
        if not p.exists():
            raise ConfigError(f"runbook file {ref!r} not found", file=str(path), field=f"runbooks.{fault}")
        per_fault[fault] = load_runbook(p)
    return LoadedDrill(path=str(path), drill=drill, runbook=runbook, runbook_path=str(rb_path),
                       environment=env, environment_path=str(env_path), fault_runbooks=per_fault)


def check_operations(drill: Drill, runbook: Runbook, env: Environment, *, drill_file: str, runbook_file: str) -> None:
    """Every fault and action argument against the registry and the environment (zones, regions, counts)."""
    if drill.fault is not None:
        operations.validate(drill.fault.action, drill.fault.args, env, file=drill_file, where="fault.args")
    for i, prep in enumerate(drill.prepare):
        operations.validate(prep.action, prep.args, env, file=drill_file, where=f"prepare[{i}].args")
    for i, step in enumerate(runbook.steps):
        if step.kind == "action" and step.call:
            operations.validate(step.call, step.args, env, file=runbook_file, where=f"steps[{i}].args")
        if step.wait_for == "consumer_lag_below" and (env.aws is None or env.aws.msk_consumer_lag is None):
            raise ConfigError("consumer_lag_below needs the consumer group in the environment "
                              "(aws.msk_consumer_lag: consumer_group, topic)", file=runbook_file,
                              field=f"steps[{i}].wait_for")
        if step.wait_for == "dr_nodes_healthy" and "count" in step.args:
            operations.validate("scale_dr", {"count": step.args["count"]}, env, file=runbook_file,
                                where=f"steps[{i}].args")

"""The registry of operations: every fault and runbook action gameday can ask of a Target, defined once.

An :class:`Operation` has one name: the Target method, the lab's control API operation (a ``Lab`` method
or an entry of ``gameday.lab.supervisor``), the Chaos Toolkit action when ``chaos`` (a function of
``gameday.chaos.actions`` of that name), what drill files, runbooks and the journal say, and, with hyphens,
the ``gameday lab`` command. It also names the model its arguments must satisfy and its inverse (the call
that undoes it, journaled *before* the fault is applied). Validation (files, CLI options, experiments),
dispatch, journaling of intents, ``gameday recover`` and ``gameday plan`` all read this table. Earlier
spellings of the names are resolved, with a deprecation warning, by ``gameday.spellings``.

To add an operation: its argument model and an ``Operation`` here, the method to the ``Faults`` or
``RunbookActions`` protocol (``gameday.targets.base``) and to each driver (and the fake), the lab's
implementation under the same name; the lab CLI command follows (``gameday.cli.lab_ops``; one is generated
from the argument model unless written there), as does a chaos action's check (``tests/chaos``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gameday import spellings
from gameday.errors import Aborted, ConfigError, DriverError, GamedayError

if TYPE_CHECKING:
    from gameday.config import Environment
    from gameday.journal import Journal
    from gameday.targets.base import Target

__all__ = ["Operation", "OPERATIONS", "EFFECT_WITHIN_S", "FAULTS", "ACTIONS", "get", "validate", "apply", "intent",
           "undo", "fill", "env_regions", "env_zones", "from_chaos", "CHAOS_FAULTS", "CHAOS_OPERATIONS", "lab_arguments",
           "Retry", "UNDO_RETRY", "DATA_FAULTS"]

Role = Literal["fault", "action", "inverse"]


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(Args):
    pass


class ZoneArgs(Args):
    zone: str = Field(min_length=1, description="an availability zone of the primary region")


class RegionArgs(Args):
    region: str = Field(min_length=1, description="the primary or the DR region")


class SpotArgs(Args):
    count: int = Field(1, ge=1, le=64, description="spot nodes to interrupt")
    zone: str | None = Field(None, description="only in this zone")


class RegionSwitchArgs(RegionArgs):
    action: Literal["activate", "deactivate"] = Field("activate", description="shift traffic to (or away from) region")
    mode: Literal["graceful", "ungraceful"] = Field("ungraceful", description="ungraceful: the other region is lost")


class DelayArgs(Args):
    ms: float = Field(ge=0, le=60_000, description="one-way delay of the cross-region link, ms")


class LatencyArgs(Args):
    ms: float = Field(0.0, ge=0, le=60_000, description="extra latency per ingest request, ms")
    stall_s: float = Field(0.0, ge=0, le=600, description="stall every ingest request for this long, s")


class ScaleArgs(Args):
    count: int = Field(ge=1, le=64, description="DR ingest nodes wanted")


# ---- restore drills (issue 24): the data faults and the restore actions ------------------------------------
INSTANCE_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"  # an RDS DB instance identifier (and a lab instance name)


class DamageArgs(Args):
    max_rows: int = Field(200, ge=1, le=1_000_000, description="rows the statement may touch; more: rolled back, "
                          "the fault fails")


class RestorePitrArgs(Args):
    to: float | Literal["before_fault", "latest"] = Field(
        "before_fault", description="epoch seconds, 'before_fault' (just before T0, from the journal) or 'latest' "
        "(the latest restorable time)")
    instance: str = Field("gameday-restore", pattern=INSTANCE_PATTERN, description="the NEW instance's name")


class RestoreSnapshotArgs(Args):
    snapshot: str = Field("latest", min_length=1, description="a snapshot's name, or 'latest' (the newest before "
                          "T0)")
    instance: str = Field("gameday-restore", pattern=INSTANCE_PATTERN, description="the NEW instance's name")


class InstanceArgs(Args):
    instance: str = Field("gameday-restore", pattern=INSTANCE_PATTERN, description="a restored instance's name")


@dataclass(frozen=True)
class Operation:
    """One operation, one name: the Target method, the lab's control API operation, the Chaos Toolkit action
    (``chaos=True``), the drill, runbook and journal name; the CLI's command is the name with hyphens."""

    name: str
    role: Role
    args: type[Args]
    summary: str
    inverse: str | None = None  # the operation that undoes it
    inverse_args: tuple[str, ...] = ()  # which of the arguments the inverse takes
    chaos: bool = False  # a function of gameday.chaos.actions of the same name calls it
    lab: bool = True  # the lab implements it (its control API operation, a ``gameday lab`` command); False: AWS
    # only, or run by the target itself (a data fault: a statement through the writer endpoint)

    @property
    def cli(self) -> str:
        return self.name.replace("_", "-")


_ALL = (
    Operation("fail_zone", "fault", ZoneArgs, "kill every node, DB instance and cache node in a zone", "restore_zone",
              ("zone",), chaos=True),
    Operation("freeze_zone", "fault", ZoneArgs, "freeze (partition) every process in a zone", "restore_zone",
              ("zone",), chaos=True),
    Operation("interrupt_spot", "fault", SpotArgs, "spot interruption: notice, drain, kill", "restore", chaos=True),
    Operation("fail_over_db", "fault", NoArgs, "kill the DB primary (Multi-AZ failover)", "restore", chaos=True),
    Operation("fail_cache_primary", "fault", NoArgs, "kill the cache primary (ElastiCache Multi-AZ failover)",
              "restore", chaos=True),
    Operation("fail_region", "fault", RegionArgs, "lose a whole region", "restore", chaos=True),
    Operation("delay_link", "fault", DelayArgs, "delay the cross-region link", "restore"),
    Operation("inject_latency", "fault", LatencyArgs, "slow or stall ingest", "restore"),
    Operation("promote_dr_db", "action", NoArgs, "promote the DR replica to primary"),
    Operation("promote_cache", "action", NoArgs, "promote the DR cache replica (Global Datastore failover) and "
              "move the primary endpoint to it"),
    Operation("switch_dns", "action", RegionArgs, "point the public record at a region"),
    Operation("run_region_switch_plan", "action", RegionSwitchArgs, "ARC Region switch: execute the team's plan "
              "for a region and wait until the execution completed (AWS only)", lab=False),
    Operation("scale_dr", "action", ScaleArgs, "scale the DR region's ingest nodes"),
    Operation("rebuild_primary_region", "action", NoArgs, "failback: the old primary region's database rebuilt as "
              "a replica of the current primary, its nodes back"),
    Operation("return_primary_db", "action", NoArgs, "failback: planned switchover of the writer back to the "
              "primary region (no acknowledged write lost)"),
    Operation("rebuild_dr_db", "action", NoArgs, "failback: the DR region's replica of the primary re-created"),
    Operation("return_primary_cache", "action", NoArgs, "failback: the primary region's cache group rebuilt from "
              "the DR node, then the writer moved back to it (planned: no acknowledged write lost)"),
    Operation("drain_zone", "action", ZoneArgs, "take a zone's ingest nodes out of the balancers"),
    Operation("restore", "inverse", NoArgs, "bring the environment back to its configured shape", chaos=True),
    Operation("restore_zone", "inverse", ZoneArgs, "bring a zone back", chaos=True),
    Operation("corrupt_data", "fault", DamageArgs, "data corruption: the service description's corrupt statement "
              "(an UPDATE ... SET col = NULL), bounded by max_rows, on the writer", "restore", lab=False),
    Operation("delete_data", "fault", DamageArgs, "accidental deletion: the service description's delete statement "
              "(a DELETE), bounded by max_rows, on the writer", "restore", lab=False),
    Operation("restore_point_in_time", "action", RestorePitrArgs, "point-in-time restore into a NEW instance",
              "discard_restore", ("instance",)),
    Operation("restore_snapshot", "action", RestoreSnapshotArgs, "restore a snapshot into a NEW instance",
              "discard_restore", ("instance",)),
    Operation("verify_restore", "action", InstanceArgs, "check the restored instance against the ledger (the "
              "service description's present_query)"),
    Operation("swap_writer", "action", InstanceArgs, "point the writer endpoint at the restored instance"),
    Operation("discard_restore", "inverse", InstanceArgs, "delete a restored instance (the writer handed back "
              "first when it was swapped in)"),
)
OPERATIONS: dict[str, Operation] = {op.name: op for op in _ALL}
# How long each fault's effect may take to show to clients, in real seconds (an environment's time_scale
# compresses it like a budget). Until it has passed, a run that saw no client-visible failure is not yet
# "recovered": a NACL or an RDS failover may start refusing connections a while after the call returned;
# a spot interruption only bites after its two-minute notice. A drill's ``fault.effect_within_s`` overrides it.
EFFECT_WITHIN_S: dict[str, float] = {"fail_zone": 60, "freeze_zone": 60, "interrupt_spot": 180, "fail_over_db": 120,
                                     "fail_cache_primary": 60,
                                     "fail_region": 60, "delay_link": 60, "inject_latency": 60,
                                     "corrupt_data": 1, "delete_data": 1}  # a statement: its damage is there at once
FAULTS = tuple(n for n, op in OPERATIONS.items() if op.role == "fault")
ACTIONS = tuple(n for n, op in OPERATIONS.items() if op.role == "action") + ("restore", "discard_restore")  # runbook ``call``
DATA_FAULTS = ("corrupt_data", "delete_data")  # destructive: a protected environment needs --confirm
CHAOS_FAULTS = tuple(op.name for op in _ALL if op.chaos and op.role == "fault")
CHAOS_OPERATIONS = tuple(op.name for op in _ALL if op.chaos)


def get(name: str, *, allowed: tuple[str, ...] | None = None, file: str | None = None,
        where: str | None = None) -> Operation:
    """The operation called ``name``; ConfigError naming the file and field when it is unknown."""
    choices = allowed if allowed is not None else tuple(OPERATIONS)
    if name not in choices:
        raise ConfigError(f"unknown operation {name!r}; expected one of: {', '.join(choices)}", file=file, field=where)
    return OPERATIONS[name]


def env_regions(env: Environment) -> tuple[str, str]:
    """(primary, dr) regions of an environment, from its file alone."""
    if env.aws is not None:
        return env.aws.primary_region, env.aws.dr_region
    assert env.lab is not None
    return env.lab.regions.primary, env.lab.regions.dr


def env_zones(env: Environment) -> list[str]:
    """The primary region's zones, full names (``us-east-1b``)."""
    if env.aws is not None:
        return list(env.aws.zones)
    assert env.lab is not None
    return [f"{env.lab.regions.primary}{z}" for z in env.lab.regions.zones]


def fill(value: Any, variables: Mapping[str, str]) -> Any:
    """Substitute ``{primary_region}``-style placeholders in strings (recursively)."""
    if isinstance(value, str):
        try:
            return value.format_map(dict(variables))
        except (KeyError, ValueError, IndexError) as exc:
            raise ConfigError(f"unknown placeholder in {value!r} ({exc}); known: "
                              f"{', '.join('{' + k + '}' for k in variables)}") from None
    if isinstance(value, dict):
        return {k: fill(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, variables) for v in value]
    return value


def _zone(zone: str, env: Environment) -> str:
    zones = env_zones(env)
    if zone in zones:
        return zone
    if env.lab is not None and f"{env.lab.regions.primary}{zone}" in zones:
        return f"{env.lab.regions.primary}{zone}"
    raise ValueError(f"unknown zone {zone!r}; expected one of: {', '.join(zones)}")


def _in_environment(name: str, args: dict[str, Any], env: Environment) -> dict[str, Any]:
    """Check zones, regions and counts against the environment; return canonical arguments."""
    out = dict(args)
    if out.get("zone") is not None:
        out["zone"] = _zone(out["zone"], env)
    if "region" in out and out["region"] not in env_regions(env):
        raise ValueError(f"unknown region {out['region']!r}; expected one of: {', '.join(env_regions(env))}")
    if name == "interrupt_spot" and env.lab is not None:
        zones = 1 if out.get("zone") else len(env.lab.regions.zones)
        have = env.lab.nodes.spot_per_zone * zones
        if out.get("count", 1) > have:
            raise ValueError(f"count {out['count']} exceeds the {have} spot node(s) the environment has"
                             f"{' in ' + out['zone'] if out.get('zone') else ''}")
    if name == "run_region_switch_plan" and (env.aws is None or env.aws.region_switch is None):
        raise ValueError("needs an ARC Region switch plan: aws.region_switch.plan_arn in the environment")
    if name == "scale_dr" and env.lab is not None and out["count"] > 16:
        raise ValueError("count must be between 1 and 16 on the lab")
    return out


def problem(exc: ValidationError) -> tuple[str, str]:
    """(where, what) of the first problem pydantic found, in the words gameday's errors use."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = {"extra_forbidden": "unexpected argument", "missing": "required argument is missing"}.get(
        err["type"], err["msg"].removeprefix("Value error, "))
    return loc, msg


def validate(name: str, args: Mapping[str, Any] | None, env: Environment, *, file: str | None = None,
             where: str = "args", model: type[Args] | None = None) -> dict[str, Any]:
    """Fill placeholders and check ``args`` of operation ``name`` against its model and the environment.

    Returns the canonical arguments (defaults filled in, zones by full name); raises ConfigError naming
    the file and the field otherwise. Nothing is called on any Target.
    """
    op = get(name, file=file, where=where)
    primary, dr = env_regions(env)
    filled = fill(dict(args or {}), {"primary_region": primary, "dr_region": dr})
    try:
        parsed = (model or op.args).model_validate(filled).model_dump()
    except ValidationError as exc:
        loc, msg = problem(exc)
        raise ConfigError(f"{name}: {msg}", file=file, field=f"{where}.{loc}" if loc else where) from None
    try:
        return _in_environment(name, parsed, env)
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}", file=file, field=where) from None


@dataclass(frozen=True)
class Retry:
    """How a failing inverse is retried before it is reported failed: at most ``attempts`` calls, a new one
    only while ``within_s`` has not passed since the first began (each call is bounded by the driver's own
    timeout), ``pause_s`` x the attempt number between them."""

    attempts: int = 3
    within_s: float = 300.0
    pause_s: float = 2.0


UNDO_RETRY = Retry()


def apply(target: Target, name: str, args: Mapping[str, Any], *, journal: Journal | None = None,
          retry: Retry | None = None) -> Any:
    """Call operation ``name`` on ``target`` (the one place gameday dispatches by name).

    An inverse (a rollback: the drill's undo, a chaos rollback, ``gameday recover``) that fails is retried
    (``retry``); each failed attempt is journaled (``fault.inverse_attempt_failed``) when ``journal`` is given.
    """
    op = get(name)
    method = getattr(target, op.name)
    if op.role != "inverse":
        return method(**dict(args))
    return _retried(lambda: method(**dict(args)), name, journal, retry or UNDO_RETRY)


def _retried(call: Any, name: str, journal: Journal | None, retry: Retry) -> Any:
    start = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except (ConfigError, Aborted):
            raise  # invalid arguments do not heal; a stop is a stop
        except GamedayError as exc:
            elapsed = time.monotonic() - start
            pause = retry.pause_s * attempt
            again = attempt < retry.attempts and elapsed + pause < retry.within_s
            if journal is not None:
                journal.record("fault.inverse_attempt_failed", "target", {
                    "inverse": name, "attempt": attempt, "max_attempts": retry.attempts,
                    "elapsed_s": round(elapsed, 3), "retrying": again}, error=f"{type(exc).__name__}: {exc}")
            if not again:
                raise DriverError(f"{name} failed {attempt} time(s) in {elapsed:.1f} s; the last: {exc}") from exc
            time.sleep(pause)


def intent(name: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """What a journal's ``fault.intent`` records: enough to undo the fault from the journal alone."""
    op = get(name)
    if op.inverse is None:
        raise GamedayError(f"{name} is not a fault: it has no inverse")
    return {"action": name, "args": dict(args), "inverse": op.inverse,
            "inverse_args": {k: args[k] for k in op.inverse_args if k in args}, "t_intent": time.time()}


def undo(target: Target, recorded: Mapping[str, Any], *, journal: Journal | None = None,
         retry: Retry | None = None) -> Any:
    """Apply the inverse a ``fault.intent`` recorded (retried, see ``apply``)."""
    inverse, _ = spellings.resolve(recorded["inverse"], quiet=True)  # older journals' names
    if inverse not in OPERATIONS:
        raise GamedayError(f"the journal names an inverse gameday does not know: {inverse!r}")
    given = recorded.get("inverse_args")
    if given is None:  # journals written before inverse_args existed
        given = recorded.get("args") or {}
    args = {k: v for k, v in given.items() if k in OPERATIONS[inverse].args.model_fields}
    return apply(target, inverse, args, journal=journal, retry=retry)


def from_chaos(func: str, arguments: Mapping[str, Any] | None, env: Environment, *, file: str | None = None,
               where: str = "provider.arguments") -> tuple[str, dict[str, Any]]:
    """The operation and canonical arguments a ``gameday.chaos.actions`` call means (ConfigError if invalid);
    an old function name (``fail_availability_zone``) is resolved with a deprecation warning."""
    name, args = spellings.resolve(func, arguments, where=file)
    op = OPERATIONS.get(name)
    if op is None or not op.chaos:
        raise ConfigError(f"{func!r} is not a gameday fault or inverse", file=file, field=where)
    return name, validate(name, args, env, file=file, where=where)


def lab_arguments() -> dict[str, type[Args]]:
    """The lab supervisor's operations (each the lab implements, by its name) and the argument model of each."""
    return {op.name: op.args for op in _ALL if op.lab}

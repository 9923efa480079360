"""``gameday lab fault …`` and the lab's runbook commands: one command per registry operation, named as the
operation (hyphens for underscores): ``gameday lab fault fail-zone b``, ``gameday lab promote-cache``.

The names used before (``lab fault kill-zone``, ``lab failover-cache``, ``lab promote`` …) still work: hidden
commands that warn once (``gameday.spellings``) and run the operation.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from gameday import operations, spellings
from gameday.api.lab import lab_operation
from gameday.cli.common import STATE_DIR, out
from gameday.cli.lab import fault_app, lab_app
from gameday.lab.control import LabClient

__all__ = ["lab_app"]

ZONE = typer.Argument(..., help="Zone, e.g. us-east-1b (or just b).")
REGION = typer.Argument(..., help="Region, e.g. us-east-1.")
Fn = Callable[..., None]


def _did(what: str, result: dict[str, Any]) -> None:
    """One line an operator can paste in the incident channel: when, and what the lab did."""
    stamp = time.strftime("%H:%M:%S")
    detail = ", ".join(f"{k} {v}" for k, v in result.items() if k not in ("t_applied",) and v not in (None, [], {}))
    out.print(f"{stamp}  {what}{'  (' + detail + ')' if detail else ''}", highlight=False)


_DONE: set[str] = set()  # operations whose command is registered


# A negative number reads as a number, not as options ("-50" is not "-5 -0"): the value is then judged
NUMBER_ARGUMENT = {"ignore_unknown_options": True}


def _command(name: str, **settings: Any) -> Callable[[Fn], Fn]:
    """Register the command of operation ``name``: ``lab fault <name>`` for a fault, ``lab <name>`` else."""
    op = operations.OPERATIONS[name]
    _DONE.add(name)
    return (fault_app if op.role == "fault" else lab_app).command(op.cli, context_settings=settings or None)


def _generic(op: operations.Operation) -> Fn:
    """The command of an operation without its own (below): one option per argument of its model."""
    params = [inspect.Parameter(f, inspect.Parameter.KEYWORD_ONLY, annotation=info.annotation, default=typer.Option(
        ... if info.is_required() else info.default, f"--{f.replace('_', '-')}", help=info.description))
        for f, info in op.args.model_fields.items()]
    params.append(inspect.Parameter("state_dir", inspect.Parameter.KEYWORD_ONLY, default=STATE_DIR, annotation=Path))

    def command(**kwargs: Any) -> None:
        state_dir = kwargs.pop("state_dir")
        _did(op.summary, lab_operation(op.name, kwargs, state_dir))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = f"{'Fault' if op.role == 'fault' else 'Runbook'}: {op.summary}."
    command.__name__ = op.name
    return command


def _old(old: str, app: typer.Typer, func: Fn) -> None:
    """A hidden command under an old name: warns once, then runs ``func``."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        spellings.resolve(old, where=f"gameday lab {'fault ' if app is fault_app else ''}{old}")
        func(*args, **kwargs)

    numeric = old in ("link-delay", "ingest-latency")
    app.command(old, hidden=True, context_settings=NUMBER_ARGUMENT if numeric else None)(wrapper)


@_command("fail_zone")
def fail_zone(zone: str = ZONE, state_dir: Path = STATE_DIR) -> None:
    """SIGKILL every ingest node, DB instance and cache node in ZONE."""
    _did(f"killed zone {zone}", lab_operation("fail_zone", {"zone": zone}, state_dir))


@_command("freeze_zone")
def freeze_zone(zone: str = ZONE, state_dir: Path = STATE_DIR) -> None:
    """SIGSTOP every process in ZONE: a partition, not a crash."""
    _did(f"froze zone {zone}", lab_operation("freeze_zone", {"zone": zone}, state_dir))


@_command("interrupt_spot")
def interrupt_spot(count: int = typer.Option(1, "--count", help="Spot nodes to interrupt (at least 1)."),
                   zone: str | None = typer.Option(None, "--zone", help="Only in this zone."),
                   state_dir: Path = STATE_DIR) -> None:
    """Spot interruption: notice (drain), then kill; the autoscaler replaces the node."""
    _did("interrupted spot nodes", lab_operation("interrupt_spot", {"count": count, "zone": zone}, state_dir))


@_command("fail_over_db")
def fail_over_db(state_dir: Path = STATE_DIR) -> None:
    """SIGKILL the DB primary; the RDS controller fails over to the sync standby."""
    _did("failed the database primary over", lab_operation("fail_over_db", {}, state_dir))


@_command("fail_cache_primary")
def fail_cache_primary(state_dir: Path = STATE_DIR) -> None:
    """SIGKILL the cache primary; the sentinels promote the replica, the primary endpoint follows."""
    _did("killed the cache primary", lab_operation("fail_cache_primary", {}, state_dir))


@_command("fail_region")
def fail_region(region: str = REGION, state_dir: Path = STATE_DIR) -> None:
    """Kill every process of REGION and cut the cross-region link."""
    _did(f"killed region {region}", lab_operation("fail_region", {"region": region}, state_dir))


@_command("delay_link", **NUMBER_ARGUMENT)
def delay_link(ms: float = typer.Argument(..., help="One-way delay in milliseconds."),
               state_dir: Path = STATE_DIR) -> None:
    """Delay every byte on the cross-region link (replication lag becomes real)."""
    _did(f"the cross-region link is delayed {ms:g} ms", lab_operation("delay_link", {"ms": ms}, state_dir))


@_command("inject_latency", **NUMBER_ARGUMENT)
def inject_latency(ms: float = typer.Argument(..., help="Extra milliseconds on every ingest request (0 removes it)."),
                   stall_s: float = typer.Option(0.0, "--stall-s", help="Also stall every request arriving in the "
                                                 "next STALL_S seconds until they are over."),
                   state_dir: Path = STATE_DIR) -> None:
    """Slow every ingest node down by MS per request (and stall it for --stall-s)."""
    _did(f"ingest latency {ms:g} ms, stall {stall_s:g} s",
         lab_operation("inject_latency", {"ms": ms, "stall_s": stall_s}, state_dir))


@_command("promote_dr_db")
def promote_dr_db(state_dir: Path = STATE_DIR) -> None:
    """Runbook: promote the DR region's database replica to primary (it accepts writes afterwards)."""
    _did("promoted the DR database replica to primary", lab_operation("promote_dr_db", {}, state_dir))


@_command("promote_cache")
def promote_cache(state_dir: Path = STATE_DIR) -> None:
    """Runbook: promote the DR region's cache replica (Global Datastore failover); the primary endpoint moves."""
    _did("promoted the DR cache replica to primary", lab_operation("promote_cache", {}, state_dir))


@_command("switch_dns")
def switch_dns(region: str = REGION, state_dir: Path = STATE_DIR) -> None:
    """Runbook: point the public DNS record at REGION (Route 53 failover record)."""
    _did(f"the failover record now answers {region}", lab_operation("switch_dns", {"region": region}, state_dir))


@_command("scale_dr")
def scale_dr(count: int = typer.Argument(..., help="DR ingest nodes wanted."), state_dir: Path = STATE_DIR) -> None:
    """Runbook: scale the DR region's ingest nodes to COUNT (the EKS node group / deployment)."""
    _did(f"asked for {count} ingest nodes in the DR region", lab_operation("scale_dr", {"count": count}, state_dir))


@_command("drain_zone")
def drain_zone(zone: str = ZONE, state_dir: Path = STATE_DIR) -> None:
    """Runbook: take ZONE's ingest nodes out of the balancers (AZ evacuation)."""
    _did(f"drained zone {zone}", lab_operation("drain_zone", {"zone": zone}, state_dir))


@_command("restore_zone")
def restore_zone(zone: str = ZONE, state_dir: Path = STATE_DIR) -> None:
    """Runbook: bring ZONE back (the lab restores its whole configured shape)."""
    with out.status("restoring the lab…"):
        result = lab_operation("restore_zone", {"zone": zone}, state_dir)
    _did(f"zone {zone} is back (the lab is in its configured shape)", {"rebuilt": result.get("rebuilt")})


@_command("restore")
def restore(state_dir: Path = STATE_DIR) -> None:
    """Bring the lab back to its configured shape (DB roles, nodes, cache group, DNS, link)."""
    with out.status("restoring the lab…"):
        result = LabClient(state_dir).op("restore")
    out.print_json(data=result)


@lab_app.command("dns")
def dns(region: str | None = typer.Argument(None, help="Deprecated: use switch-dns REGION."),
        state_dir: Path = STATE_DIR) -> None:
    """Look: what the public DNS record answers (and its TTL)."""
    if region is not None:
        spellings.resolve("dns", where="gameday lab dns REGION; write switch-dns REGION")
        switch_dns(region, state_dir)
        return
    st = LabClient(state_dir).status()
    out.print(f"{st['dns']['record']} -> {st['dns']['answer']} (TTL {st['dns']['ttl_s']} s)", highlight=False)


@_command("restore_point_in_time")
def restore_point_in_time(to: str = typer.Option("latest", "--to", help="'latest' (the latest restorable time) or a "
                                                 "time in epoch seconds."),
                          instance: str = typer.Option("gameday-restore", "--instance", help="The NEW instance's name."),
                          state_dir: Path = STATE_DIR) -> None:
    """Runbook: point-in-time restore of the primary's backups into a NEW instance (discard-restore deletes it)."""
    when: float | str = to
    try:
        when = float(to)
    except ValueError:  # a word: the registry's model judges it (exit 2 naming --to)
        pass
    _did(f"restored {to} into {instance}", lab_operation("restore_point_in_time", {"to": when, "instance": instance},
                                                        state_dir))


def stall(seconds: float = typer.Argument(..., help="How long every ingest request waits, starting now."),
          state_dir: Path = STATE_DIR) -> None:
    """Deprecated: inject-latency 0 --stall-s SECONDS."""
    inject_latency(0.0, seconds, state_dir)


for _op in operations.OPERATIONS.values():  # an operation added to the registry has its command at once
    if _op.lab and _op.name not in _DONE:
        _command(_op.name)(_generic(_op))

for _name, _app, _func in [("kill-zone", fault_app, fail_zone), ("kill-db-primary", fault_app, fail_over_db),
                           ("kill-region", fault_app, fail_region), ("link-delay", fault_app, delay_link),
                           ("ingest-latency", fault_app, inject_latency), ("stall", fault_app, stall),
                           ("failover-db", lab_app, fail_over_db), ("failover-cache", lab_app, fail_cache_primary),
                           ("promote", lab_app, promote_dr_db), ("scale", lab_app, scale_dr)]:
    _old(_name, _app, _func)

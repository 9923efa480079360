"""``gameday lab …``: start, inspect, break, restore and stop the embedded local lab."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from gameday.api.lab import lab_operation
from gameday.cli.common import STATE_DIR, out
from gameday.lab.control import LabClient, lab_down, lab_up

__all__ = ["lab_app"]

lab_app = typer.Typer(help="The embedded local lab: two regions, three zones, real PostgreSQL replication.",
                      no_args_is_help=True)
fault_app = typer.Typer(help="Break the lab: kill or freeze a zone, interrupt spot nodes, kill the DB primary "
                             "or a region, delay the cross-region link.", no_args_is_help=True)
lab_app.add_typer(fault_app, name="fault")

ENV_OPT = typer.Option(Path("environments/local.yaml"), "--env", help="Environment file describing the lab.")


@lab_app.command("up")
def up(env: Path = ENV_OPT, state_dir: Path = STATE_DIR) -> None:
    """Start the lab (idempotent); return once every process is healthy."""
    with out.status("starting the lab (PostgreSQL primary, sync standby, DR replica, ingest nodes)…"):
        client = lab_up(env, state_dir)
    out.print(f"lab is up. public endpoint: [bold]{client.public_endpoint}[/]")
    out.print("inspect: gameday lab status   break: gameday lab fault --help   stop: gameday lab down")


@lab_app.command("down")
def down(state_dir: Path = STATE_DIR) -> None:
    """Stop every lab process (also after a crash of the supervisor)."""
    ran = lab_down(state_dir)
    out.print("lab stopped" if ran else "no lab was running")


@lab_app.command("status")
def status(state_dir: Path = STATE_DIR, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """One row per process by region (zone, name, role, capacity type, pid, port, health, connections), plus
    replication; --json: every field."""
    st = LabClient(state_dir).status()
    if as_json:
        typer.echo(json.dumps(st, indent=2))
        return
    _print_status(st)


def _print_backups(b: dict[str, Any] | None) -> None:
    """The backups: latest restorable time and its lag (the primary region's and the DR copy's), snapshots."""
    if not b or not b.get("enabled"):
        return

    def when(t: float | None) -> str:
        return "none yet" if t is None else (f"{time.strftime('%H:%M:%S', time.localtime(t))} "
                                             f"(lag {b['measured_at'] - t:.1f} s)")
    snaps = b.get("snapshots") or []
    restored = [r["name"] + (" (writer)" if r["swapped"] else "") for r in b.get("restored_instances", [])]
    out.print(f"backups: latest restorable {when(b.get('latest_restorable'))}; DR copy {when(b.get('dr_latest_restorable'))}; "
              f"{len(snaps)} snapshot(s), newest {snaps[-1]['name'] if snaps else '-'}; restored instances: "
              f"{', '.join(restored) or 'none'}", highlight=False)


def _print_status(st: dict[str, Any]) -> None:
    """The status as tables (``print_status`` of a dict: a test can print a made-up one)."""
    out.print(f"gameday lab - public endpoint {st['public_endpoint']} "
              f"(DNS -> {st['dns']['answer']}, TTL {st['dns']['ttl_s']} s)", highlight=False)
    t = Table()
    for col in ("zone", "name", "role", "cap", "pid", "port", "health", "connections"):
        t.add_column(col, no_wrap=True)
    procs = sorted(st["processes"], key=lambda p: (p["region"] != st["regions"]["primary"], p["zone"], p["kind"]))
    for i, p in enumerate(procs):
        if i == 0 or p["region"] != procs[i - 1]["region"]:
            t.add_section() if i else None
            t.add_row(f"[bold]{p['region']}[/]", "", "", "", "", "", "", "")
        health = p["health"] if p["state"] in ("running", "starting", "draining") or p["kind"] == "db" else p["state"]
        colour = "green" if health in ("ok", "healthy") else "red"
        cap = {"on-demand": "od", "spot": "spot"}.get(p["capacity_type"], p["capacity_type"])
        t.add_row(p["zone"], p["name"], p["role"], cap, str(p.get("pid") or "-"), str(p["port"]),
                  f"[{colour}]{health}[/]", _connections(p))
    out.print(t)
    r = Table(title="replication")
    for col in ("standby", "upstream", "state", "sync", "lag bytes", "replay lag s"):
        r.add_column(col)
    for row in st["replication"]:
        lag = row["replay_lag_s"]
        r.add_row(row["standby"], row["upstream"], row["state"], row["sync_state"], str(row["lag_bytes"]),
                  "-" if lag is None else f"{lag:.3f}")
    out.print(r)
    cache = st.get("cache")
    if cache:
        out.print(f"cache primary endpoint {cache['primary_endpoint']} -> {cache['elected'] or 'nothing'}", highlight=False)
    _print_backups(st.get("backups"))
    link = st["link"]
    out.print(f"cross-region link: delay {link['delay_ms']} ms, {'CUT' if link['cut'] else 'up'}; "
              f"regions down: {', '.join(st['regions_down']) or 'none'}; "
              f"zones down: {', '.join(st['zones_down'] + st['zones_frozen']) or 'none'}")


def _connections(p: dict[str, Any]) -> str:
    """A DB instance's client connections: in use of the maximum, and the application's of what it may have."""
    if p["kind"] == "cache" and p.get("repl_offset") is not None:  # a Valkey node: its replication offset
        return f"offset {p['repl_offset']}" + (f" (link {p['link']})" if p.get("link") else "")
    if p["kind"] == "sentinel" and p.get("elected"):
        return f"primary: {p['elected']}"
    c = p.get("connections")
    if not c:
        return ""
    colour = "red" if c["app"] >= c["app_max"] else ("yellow" if c["app"] >= 0.8 * c["app_max"] else "green")
    return f"{c['in_use']}/{c['max']} (app [{colour}]{c['app']}/{c['app_max']}[/])"


def _run(name: str, state_dir: Path, **kwargs: Any) -> None:
    out.print_json(data=lab_operation(name, kwargs, state_dir))


def _did(what: str, result: dict[str, Any]) -> None:
    """One line an operator can paste in the incident channel: when, and what the lab did."""
    stamp = time.strftime("%H:%M:%S")
    detail = ", ".join(f"{k} {v}" for k, v in result.items() if k not in ("t_applied",) and v not in (None, [], {}))
    out.print(f"{stamp}  {what}{'  (' + detail + ')' if detail else ''}", highlight=False)


@lab_app.command("promote")
def promote(state_dir: Path = STATE_DIR) -> None:
    """Runbook: promote the DR region's database replica to primary (it accepts writes afterwards)."""
    _did("promoted the DR database replica to primary", lab_operation("promote_dr_db", {}, state_dir))


@lab_app.command("dns")
def dns(region: str | None = typer.Argument(None, help="Point the failover record at REGION; without it, show "
                                                           "what the record answers."),
        state_dir: Path = STATE_DIR) -> None:
    """Runbook: point the public DNS record at a region (Route 53 failover record), or show its answer."""
    if region is None:
        st = LabClient(state_dir).status()
        out.print(f"{st['dns']['record']} -> {st['dns']['answer']} (TTL {st['dns']['ttl_s']} s)", highlight=False)
        return
    _did(f"the failover record now answers {region}", lab_operation("switch_dns", {"region": region}, state_dir))


@lab_app.command("scale")
def scale(count: int = typer.Argument(..., help="DR ingest nodes wanted."), state_dir: Path = STATE_DIR) -> None:
    """Runbook: scale the DR region's ingest nodes to COUNT (the EKS node group / deployment)."""
    _did(f"asked for {count} ingest nodes in the DR region", lab_operation("scale_dr", {"count": count}, state_dir))


@lab_app.command("failover-db")
def failover_db(state_dir: Path = STATE_DIR) -> None:
    """Runbook: fail the database over to its synchronous standby (the primary is killed, RDS promotes)."""
    _did("failed the database primary over", lab_operation("fail_over_db", {}, state_dir))


@lab_app.command("failover-cache")
def failover_cache(state_dir: Path = STATE_DIR) -> None:
    """Fault: kill the cache primary; the sentinels promote the replica, the primary endpoint follows."""
    _did("killed the cache primary", lab_operation("fail_cache_primary", {}, state_dir))


@lab_app.command("drain-zone")
def drain_zone(zone: str = typer.Argument(..., help="Zone, e.g. us-east-1b (or just b)."),
               state_dir: Path = STATE_DIR) -> None:
    """Runbook: take ZONE's ingest nodes out of the balancers (AZ evacuation)."""
    _did(f"drained zone {zone}", lab_operation("drain_zone", {"zone": zone}, state_dir))


@lab_app.command("restore-zone")
def restore_zone(zone: str = typer.Argument(..., help="Zone, e.g. us-east-1b (or just b)."),
                 state_dir: Path = STATE_DIR) -> None:
    """Runbook: bring ZONE back (the lab restores its whole configured shape)."""
    with out.status("restoring the lab…"):
        result = lab_operation("restore_zone", {"zone": zone}, state_dir)
    _did(f"zone {zone} is back (the lab is in its configured shape)", {"rebuilt": result.get("rebuilt")})


@lab_app.command("lag")
def lag(state_dir: Path = STATE_DIR) -> None:
    """Look: replication to each standby (state, sync, bytes behind, replay lag)."""
    for row in LabClient(state_dir).status()["replication"]:
        replay = "-" if row["replay_lag_s"] is None else f"{row['replay_lag_s']:.3f} s"
        out.print(f"{row['standby']:<16} <- {row['upstream']:<16} {row['state']:<10} {row['sync_state']:<6} "
                  f"{row['lag_bytes']} bytes behind, replay lag {replay}", highlight=False)


@lab_app.command("events")
def lab_events(last: int = typer.Option(15, "--last", min=1, max=200, help="How many."),
               state_dir: Path = STATE_DIR) -> None:
    """Look: what the lab itself did lately (failovers, health checks, faults, actions)."""
    for e in LabClient(state_dir).status()["events"][-last:]:
        detail = ", ".join(f"{k} {v}" for k, v in e.items() if k not in ("t", "kind"))
        out.print(f"{time.strftime('%H:%M:%S', time.localtime(e['t']))}  {e['kind']:<28} {detail}", highlight=False)


@fault_app.command("kill-zone")
def kill_zone(zone: str = typer.Argument(..., help="Zone, e.g. us-east-1b (or just b)."),
              state_dir: Path = STATE_DIR) -> None:
    """SIGKILL every ingest node and DB instance in ZONE."""
    _run("fail_zone", state_dir, zone=zone)


@fault_app.command("freeze-zone")
def freeze_zone(zone: str = typer.Argument(..., help="Zone, e.g. us-east-1b (or just b)."),
                state_dir: Path = STATE_DIR) -> None:
    """SIGSTOP every process in ZONE: a partition, not a crash."""
    _run("freeze_zone", state_dir, zone=zone)


@fault_app.command("interrupt-spot")
def interrupt_spot(count: int = typer.Option(1, "--count", help="Spot nodes to interrupt (at least 1)."),
                   zone: str | None = typer.Option(None, "--zone", help="Only in this zone."),
                   state_dir: Path = STATE_DIR) -> None:
    """Spot interruption: notice (drain), then kill; the autoscaler replaces the node."""
    _run("interrupt_spot", state_dir, count=count, zone=zone)


@fault_app.command("kill-db-primary")
def kill_db_primary(state_dir: Path = STATE_DIR) -> None:
    """SIGKILL the DB primary; the RDS controller fails over to the sync standby."""
    _run("fail_over_db", state_dir)


@fault_app.command("kill-region")
def kill_region(region: str = typer.Argument(..., help="Region, e.g. us-east-1."), state_dir: Path = STATE_DIR) -> None:
    """Kill every process of REGION and cut the cross-region link."""
    _run("fail_region", state_dir, region=region)


# A negative number reads as a number, not as options ("-50" is not "-5 -0"): the value is then judged
NUMBER_ARGUMENT = {"ignore_unknown_options": True}


@fault_app.command("link-delay", context_settings=NUMBER_ARGUMENT)
def link_delay(ms: float = typer.Argument(..., help="One-way delay in milliseconds."),
               state_dir: Path = STATE_DIR) -> None:
    """Delay every byte on the cross-region link (replication lag becomes real)."""
    _run("delay_link", state_dir, ms=ms)


@fault_app.command("ingest-latency", context_settings=NUMBER_ARGUMENT)
def ingest_latency(ms: float = typer.Argument(..., help="Extra milliseconds on every ingest request (0 removes it)."),
                   state_dir: Path = STATE_DIR) -> None:
    """Slow every ingest node down by MS per request."""
    _run("inject_latency", state_dir, ms=ms)


@fault_app.command("stall")
def stall(seconds: float = typer.Argument(..., help="How long every ingest request waits, starting now."),
          state_dir: Path = STATE_DIR) -> None:
    """Stall ingest: every request arriving in the next SECONDS waits until they are over."""
    _run("inject_latency", state_dir, ms=0, stall_s=seconds)


@lab_app.command("restore")
def restore(state_dir: Path = STATE_DIR) -> None:
    """Bring the lab back to its configured shape (DB roles, nodes, DNS, link)."""
    with out.status("restoring the lab…"):
        result = LabClient(state_dir).op("restore")
    out.print_json(data=result)

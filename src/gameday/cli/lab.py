"""``gameday lab …``: start, inspect, break, restore and stop the embedded local lab."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

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
    """One row per process by region, plus replication; --json: every field.

    Each row: zone, name, role, capacity type, pid, port, health, connections."""
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
        behind = f", {p['lag_bytes']} B behind" if p.get("lag_bytes") is not None else ""
        return f"offset {p['repl_offset']}" + (f" (link {p['link']}{behind})" if p.get("link") else "")
    if p["kind"] == "sentinel" and p.get("elected"):
        return f"primary: {p['elected']}"
    c = p.get("connections")
    if not c:
        return ""
    colour = "red" if c["app"] >= c["app_max"] else ("yellow" if c["app"] >= 0.8 * c["app_max"] else "green")
    return f"{c['in_use']}/{c['max']} (app [{colour}]{c['app']}/{c['app_max']}[/])"


@lab_app.command("lag")
def lag(state_dir: Path = STATE_DIR) -> None:
    """Look: replication to each standby, and the cache nodes' roles and offsets.

    Each standby's state, sync, bytes behind and replay lag; each cache node's role, replication offset and bytes
    behind the primary."""
    st = LabClient(state_dir).status()
    for row in st["replication"]:
        replay = "-" if row["replay_lag_s"] is None else f"{row['replay_lag_s']:.3f} s"
        out.print(f"{row['standby']:<16} <- {row['upstream']:<16} {row['state']:<10} {row['sync_state']:<6} "
                  f"{row['lag_bytes']} bytes behind, replay lag {replay}", highlight=False)
    for line in cache_lag_lines(st):
        out.print(line, highlight=False)


def cache_lag_lines(st: dict[str, Any]) -> list[str]:
    """One line per cache node: its configured and current role, replication offset and link, bytes behind."""
    lines = []
    for p in (p for p in st["processes"] if p["kind"] == "cache"):
        behind = "" if p.get("lag_bytes") is None else f", {p['lag_bytes']} bytes behind"
        link = f", link {p['link']}" if p.get("link") else ""
        offset = "-" if p.get("repl_offset") is None else p["repl_offset"]
        lines.append(f"{p['name']:<16} {p['configured_role']:<10} -> {p['role']:<8} offset {offset}{link}{behind}")
    return lines


@lab_app.command("events")
def lab_events(last: int = typer.Option(15, "--last", min=1, max=200, help="How many."),
               state_dir: Path = STATE_DIR) -> None:
    """Look: what the lab itself did lately (failovers, health checks, faults, actions)."""
    for e in LabClient(state_dir).status()["events"][-last:]:
        detail = ", ".join(f"{k} {v}" for k, v in e.items() if k not in ("t", "kind"))
        out.print(f"{time.strftime('%H:%M:%S', time.localtime(e['t']))}  {e['kind']:<28} {detail}", highlight=False)

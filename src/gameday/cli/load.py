"""``gameday load run | gate | plan``: Locust profiles against the lab (default) or any URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.markup import escape

from gameday.api.load import LoadOptions, plan_fleet, regenerate_gate_reports, run_load
from gameday.cli.common import GRAFANA_URL, KEEP_LAB, METRICS_ADDR, METRICS_PORT, STATE_DIR, colour_of, exit_by, out, progress
from gameday.journal import Event

__all__ = ["load_app", "report_gate"]

load_app = typer.Typer(help="Open-model ingest load on Locust, and the pre-release load gate.", no_args_is_help=True)

PROFILE = typer.Argument(..., help="A locustfile, e.g. loadprofiles/ingest_ramp.py.")
ENV = typer.Option(Path("environments/local.yaml"), "--env", help="Environment (default: the local lab).")
OUT_DIR = typer.Option(None, "--out", help="Where the journal and reports go (default: a new folder "
                       "<time>-<run id> under out/<command>/<profile>/ (load, gate or capacity), linked as latest).")
SERVICE_HEADERS = typer.Option(False, "--service-headers", help="A locustfile written the plain Locust way: its "
                               "users' clients send the environment's service.headers (tokens from ${VAR}).")
HOST = typer.Option(None, "--host", help="Base URL to load instead of the environment's public endpoint.")
RATE = typer.Option(100.0, "--rate", help="Target events per second (> 0).")
DURATION = typer.Option(30.0, "--duration", help="Seconds of load (> 0).")
BATCH = typer.Option(1, "--batch", help="Events per request (1-5000).")
WORKERS = typer.Option(1, "--workers", help="Locust worker processes (master + N workers when N > 1).")
MAX_CONNECTIONS = typer.Option(500, "--max-connections", help="Connections per generator process, opened as the "
                               "rate x latency of the service needs, at most this many.")
USERS = typer.Option(10, "--users", help="Locust users, for a locustfile written the plain Locust way (closed model).")


def _tick(rec: dict[str, Any]) -> None:
    """A worker's second on one line of a CI log (80 columns at the rates of a lab or a CI gate)."""
    p95, cpu = rec["p95_ms"], rec["cpu_percent"]
    out.print(f"[dim]t={rec['t']:>6.1f}s[/] w{rec['worker']} target {rec['target_rate']:,.0f}/s "
              f"acked {rec['acked_events']:,} p95 {'n/a' if p95 is None else f'{p95:.1f}ms'} "
              f"errors {rec['errors'] + rec['indeterminate']:,} late {rec['late']:,} dropped {rec['dropped']:,} "
              f"cpu {'n/a' if cpu is None else f'{cpu:.0f}%'}", highlight=False, soft_wrap=True)


def _n(v: Any, unit: str = "") -> str:
    return "n/a" if v is None else f"{v}{unit}"  # a figure nothing measured: never "None"


def _headline(s: dict[str, Any]) -> str:
    if s.get("model") == "closed":  # no schedule: nothing was targeted, nothing could start late
        rate = f"achieved {s['achieved_rate']:,} requests/s (closed model: the rate follows the service)"
        tail = ""
    else:
        rate = f"achieved {s['achieved_rate']:,} events/s of {s['target_rate']:,} ({_n(s['achieved_ratio'])})"
        tail = f"  late {s['late']}  dropped {s['dropped']}"
    return (f"{rate}  errors {_n(s['error_ratio'])}\n      p50 {_n(s['p50_ms'], ' ms')}  p95 {_n(s['p95_ms'], ' ms')}  "
            f"p99 {_n(s['p99_ms'], ' ms')}{tail}")  # two lines: each fits 80 columns


def _print(s: dict[str, Any], out_dir: Path) -> None:
    colour = colour_of(s["verdict"])
    title = "Load gate" if s.get("gate") else "Load run"
    out.print(f"[bold]{title}[/] {escape(str(s.get('profile')))} against {escape(str(s.get('host')))}", highlight=False)
    if "achieved_rate" not in s:  # a journal cut off before the load's result: nothing to show but why
        out.print(f"[bold {colour}]{s['verdict'].upper()}[/]  nothing measured")
    else:
        out.print(f"[bold {colour}]{s['verdict'].upper()}[/]  {_headline(s)}")
    for x in s["slos"]:
        tag = " (default)" if x.get("default") else ""
        out.print(f"  {x['expr'] + tag:<28} observed {x.get('shown', x['observed'])!s:<14} "
                  f"{'[green]ok[/]' if x['ok'] else '[red]BREACHED[/]'}", highlight=False)
    _print_stairs(s.get("stairs") or [])
    for r in s["reasons"]:
        out.print(f"  [{colour}]- {escape(r)}[/]")
    if s.get("failure_reasons"):
        out.print("  top error reasons (count, first-last second after the start, reason):")
    for f in s.get("failure_reasons", []):
        out.print(f"    {f['count']:>8,} x ({f.get('first_s', 0):g}-{f.get('last_s', 0):g} s) {f['reason']}",
                  markup=False, highlight=False)
    for note in s.get("notes", []):
        out.print(f"  note: {note}", highlight=False)
    for e in s.get("locust_errors", []):
        out.print(f"  Locust error: {e}", markup=False, highlight=False)
    for line in s.get("locust_said", []):
        out.print(f"  Locust said: {line}", markup=False, highlight=False)
    out.print(f"summary: {out_dir / 'summary.json'} (also junit.xml, report.html, ledger.txt)")


def _print_stairs(rows: list[dict[str, Any]]) -> None:
    """A step shape's stairs, each judged by the gate's rules: a table under 80 columns."""
    if not rows:
        return
    out.print(f"  {'stair':>5}  {'target/s':>10}  {'achieved/s':>10}  {'p95 ms':>9}  {'p99 ms':>9}  {'errors':>8}  verdict",
              highlight=False)
    for r in rows:
        def f(v: Any, spec: str = ",.1f") -> str:
            return "n/a" if v is None else format(v, spec)
        verdict = (r["verdict"] or "not reached").upper()
        out.print(f"  {r['stair']:>5}  {f(r['target_rate']):>10}  {f(r.get('achieved_rate')):>10}  "
                  f"{f(r.get('p95_ms')):>9}  {f(r.get('p99_ms')):>9}  {f(r.get('error_ratio'), '.4f'):>8}  {verdict}",
                  highlight=False)


def report_gate(journal: Path, out_dir: Path, as_json: bool) -> NoReturn:
    """``gameday report`` on a gate's (or load run's) journal: its own reports, printed as the gate printed them."""
    _reprint(regenerate_gate_reports(journal, out_dir), out_dir, as_json, _print)


def _reprint(s: dict[str, Any], out_dir: Path, as_json: bool, show: Callable[[dict[str, Any], Path], None]) -> NoReturn:
    """A regenerated summary: as JSON, or printed as the run printed it; the exit code is its verdict's."""
    if as_json:
        typer.echo(json.dumps(s, indent=2, default=str))
    else:
        show(s, out_dir)
    exit_by(s["verdict"])


def _go(opts: LoadOptions, quiet: bool) -> None:
    s = run_load(opts, on_progress=(lambda rec: None) if quiet else _tick, on_status=progress)
    _print(s, opts.output())
    exit_by(s["verdict"])


@load_app.command("run")
def run(profile: Path = PROFILE, env: Path = ENV, host: str | None = HOST, rate: float = RATE,
        duration: float = DURATION, batch: int = BATCH, workers: int = WORKERS,
        max_connections: int = MAX_CONNECTIONS, users: int = USERS, service_headers: bool = SERVICE_HEADERS,
        out_dir: Path | None = OUT_DIR, state_dir: Path = STATE_DIR, keep_lab: bool = KEEP_LAB,
        quiet: bool = typer.Option(False, "--quiet", help="No per-second progress.")) -> None:
    """Run PROFILE and report; the verdict only reflects the generator's health (no SLOs)."""
    _go(LoadOptions(profile=profile, env=env, host=host, rate=rate, duration=duration, batch=batch, workers=workers,
                    max_connections=max_connections, users=users, out_dir=out_dir, state_dir=state_dir,
                    keep_lab=keep_lab, service_headers=service_headers), quiet)


@load_app.command("gate")
def gate(profile: Path = PROFILE, env: Path = ENV, host: str | None = HOST, rate: float = RATE,
         duration: float = DURATION, batch: int = BATCH, workers: int = WORKERS,
         max_connections: int = MAX_CONNECTIONS, users: int = USERS, service_headers: bool = SERVICE_HEADERS,
         slo: list[str] = typer.Option([], "--slo", help="e.g. 'p95<300ms', 'errors<0.1%', 'achieved>=95%' "
                                       "(default, without an SLO on them: achieved>=95% and errors<1%)"),
         hard_limit: list[str] = typer.Option([], "--hard-limit", help="Abort early when breached past --grace, "
                                              "judged per second, e.g. 'errors<50%'"),
         grace: float = typer.Option(5.0, "--grace", help="Seconds a hard limit may be breached before the abort."),
         out_dir: Path | None = OUT_DIR, state_dir: Path = STATE_DIR,
         keep_lab: bool = KEEP_LAB, quiet: bool = typer.Option(False, "--quiet"),
         grafana_url: str | None = GRAFANA_URL, metrics_port: int | None = METRICS_PORT,
         metrics_addr: str = METRICS_ADDR) -> None:
    """Pre-release gate: PASS (0), FAIL (1: an SLO or hard limit breached) or INCONCLUSIVE (3).

    INCONCLUSIVE: the generator saturated its CPU, fell behind its schedule or dropped requests, and what
    breached could be its doing. Without an SLO on achieved or errors the gate judges the defaults
    achieved>=95% and errors<1%."""
    _go(LoadOptions(profile=profile, env=env, host=host, rate=rate, duration=duration, batch=batch, workers=workers,
                    max_connections=max_connections, users=users, out_dir=out_dir, slos=slo,
                    hard_limits=hard_limit, grace_s=grace, state_dir=state_dir,
                    keep_lab=keep_lab, grafana_url=grafana_url, metrics_port=metrics_port,
                    metrics_addr=metrics_addr, gate=True, service_headers=service_headers), quiet)


@load_app.command("plan")
def plan(rate: float = typer.Option(..., "--rate", help="Target events per second, e.g. 1000000."),
         batch: int = typer.Option(100, "--batch", help="Events per request (1-5000)."),
         calibration: Path = typer.Option(Path("out/bench-load/calibration.json"), "--calibration",
                                          help="Written by 'make bench-load'."),
         headroom: float = typer.Option(0.6, "--headroom", help="Share of a core a worker may use (0..1)."),
         latency: str | None = typer.Option(None, "--latency", help="The target's latency under load, e.g. 400ms: "
                                            "connections needed = requests/s x latency."),
         max_connections: int = typer.Option(500, "--max-connections", help="Connections per worker, at most."),
         tls: bool = typer.Option(False, "--tls", help="The target is https: use the calibration's TLS figures.")) -> None:
    """Turn this machine's calibration and the target's latency into a worker-fleet size, and say how."""
    result = plan_fleet(rate=rate, batch=batch, calibration=calibration, headroom=headroom, latency=latency,
                        max_connections=max_connections, tls=tls)
    out.print(result["explanation"])
    typer.echo(json.dumps({k: v for k, v in result.items() if k != "explanation"}, indent=2))


def _stair_line(r: dict[str, Any]) -> str:
    """One stair as a row of the terminal's table (under 80 columns)."""
    def ms(v: Any) -> str:
        return "n/a" if v is None else f"{v:,.1f}"
    achieved = "n/a" if r.get("served_rate") is None else f"{r['served_rate']:,.1f}"
    return (f"{r['stair']:>5}  {r['offered_rate']:>10,.1f}  {achieved:>10}  {ms(r.get('p50_ms')):>9}  "
            f"{ms(r.get('p95_ms')):>9}  {ms(r.get('p99_ms')):>9}  {r['verdict'].upper():<12}")


STAIR_HEADER = f"{'stair':>5}  {'offered/s':>10}  {'served/s':>10}  {'p50 ms':>9}  {'p95 ms':>9}  {'p99 ms':>9}  verdict"


def print_capacity(s: dict[str, Any], out_dir: Path, *, table: bool = True) -> None:
    """A capacity run's result (and its stairs' table, unless it was printed as the stairs ran)."""
    colour = colour_of(s["verdict"])
    out.print(f"[bold]Capacity[/] {escape(str(s.get('profile')))} against {escape(str(s.get('host')))}", highlight=False)
    if table:
        out.print(STAIR_HEADER, highlight=False)
        for r in s["stairs"]:
            out.print(_stair_line(r), highlight=False)
    knee = f"knee {s['capacity_rate']:,.1f} events/s" if s.get("capacity_rate") else "no knee"
    out.print(f"[bold {colour}]{s['verdict'].upper()}[/]  {knee}", highlight=False)
    for r in s["reasons"]:
        out.print(f"  [{colour}]- {escape(r)}[/]")
    if s.get("projection"):
        out.print(f"  linear projection: {escape(s['projection']['text'])}", highlight=False)
    out.print(f"summary: {out_dir / 'summary.json'} (also stairs.csv, report.html; each stair's gate under stairs/)")


def report_capacity(events: list[Event], out_dir: Path, as_json: bool) -> NoReturn:
    """``gameday report`` on a capacity run's journal: its reports, printed as the run printed them."""
    from gameday.api.capacity import regenerate_capacity_reports

    _reprint(regenerate_capacity_reports(events, out_dir), out_dir, as_json, print_capacity)


@load_app.command("capacity")
def capacity(profile: Path = PROFILE, env: Path = ENV, host: str | None = HOST,
             max_rate: float = typer.Option(..., "--max-rate", help="The highest rate a stair offers (events/s)."),
             start_rate: float | None = typer.Option(None, "--start-rate", help="The first stair (default: a tenth "
                                                     "of --max-rate)."),
             target: float | None = typer.Option(None, "--target", help="Target throughput (events/s): how many "
                                                 "times the knee it is (a linear projection)."),
             stair: float = typer.Option(10.0, "--stair", help="Seconds each stair is held (1-3600)."),
             factor: float = typer.Option(1.5, "--factor", help="Each stair offers this many times the last, until "
                                          "one fails (1.05-10)."),
             resolution: float = typer.Option(0.1, "--resolution", help="Then narrow until the last passing and "
                                              "the first failing rate are this close (0.1: 10 %)."),
             batch: int = BATCH, workers: int = WORKERS, max_connections: int = MAX_CONNECTIONS,
             slo: list[str] = typer.Option([], "--slo", help="At least one latency SLO, e.g. 'p95<300ms' (plus the "
                                           "defaults achieved>=95% and errors<1% unless given)."),
             calibration: Path = typer.Option(Path("out/bench-load/calibration.json"), "--calibration",
                                              help="For the workers a limited stair needs (load plan)."),
             out_dir: Path | None = OUT_DIR, state_dir: Path = STATE_DIR,
             keep_lab: bool = KEEP_LAB) -> None:
    """Stairs of open-model load, each judged as a gate, up to the knee: the highest rate the service holds.

    Up to the first stair the service fails, narrowed around it: the knee (capacity_rate in summary.json).
    PASS (0): a knee (or every stair held); FAIL (1): the first stair failed; INCONCLUSIVE (3): the generator
    limited a stair (the workers the next try needs are named)."""
    from gameday.api.capacity import CapacityOptions, run_capacity

    opts = CapacityOptions(profile=profile, env=env, host=host, max_rate=max_rate, start_rate=start_rate,
                           target=target, stair_s=stair, factor=factor, resolution=resolution, batch=batch,
                           workers=workers, max_connections=max_connections, slos=slo, calibration=calibration,
                           out_dir=out_dir, state_dir=state_dir, keep_lab=keep_lab)
    headed: list[bool] = []

    def on_stair(r: dict[str, Any]) -> None:  # the table's header with its first row: after every check passed
        if not headed:
            out.print(STAIR_HEADER, highlight=False)
            headed.append(True)
        out.print(_stair_line(r), highlight=False)

    s = run_capacity(opts, on_stair=on_stair, on_status=progress)
    print_capacity(s, opts.output(), table=False)
    exit_by(s["verdict"])

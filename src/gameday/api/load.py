"""Load runs and the pre-release gate from Python. Every option is checked before a lab starts or a
request is sent (ConfigError: exit 2)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.api.lab import lab_session
from gameday.api.observe import observers
from gameday.config import Environment, check_service, load_environment
from gameday.errors import ConfigError
from gameday.journal import Event, Journal, iter_journal
from gameday.lab.control import DEFAULT_DIR, LabClient
from gameday.lab.ingest_api import LAB_SERVICE
from gameday.load.profile import CLOSED
from gameday.load.slo import Slo, parse_slo, with_defaults
from gameday.runs import claim, run_folder
from gameday.service.resolved import Service, check_url

__all__ = ["LoadOptions", "run_load", "check_host", "regenerate_gate_reports"]


@dataclass
class LoadOptions:
    profile: Path
    env: Path = Path("environments/local.yaml")
    host: str | None = None  # default: the environment's public endpoint (the lab's, or aws.public_url)
    rate: float = 100.0
    duration: float = 30.0
    batch: int = 1
    workers: int = 1
    max_connections: int = 500  # per generator process, opened as demand needs
    users: int = 10  # a closed-model (plain Locust) locustfile: how many Locust users
    out_dir: Path | None = None  # default: a new folder out/<gate|load>/<profile>/<time>-<run id>/ (gameday.runs)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    slos: list[str] = field(default_factory=list)
    hard_limits: list[str] = field(default_factory=list)
    grace_s: float = 5.0
    state_dir: Path = DEFAULT_DIR
    keep_lab: bool = False
    grafana_url: str | None = None
    metrics_port: int | None = None
    metrics_addr: str = "127.0.0.1"
    gate: bool = False  # a gate: without an SLO on achieved or errors, it carries the defaults (load.slo)
    service_headers: bool = False  # a plain locustfile's users send the service description's headers

    def kind(self) -> str:
        return "gate" if self.gate else "load"

    def output(self) -> Path:
        """The run's folder: ``--out``, or (made once, on the first call) a new one of its own."""
        if self.out_dir is None:
            self.out_dir = run_folder(self.kind(), self.profile.stem, self.run_id)
        return self.out_dir

    def check(self) -> tuple[list[Slo], list[Slo]]:
        """Every option, before anything starts; returns the parsed SLOs and hard limits."""
        if not self.profile.is_file():
            raise ConfigError("load profile not found", file=str(self.profile))
        check_ranges(("--rate", self.rate, 0 < self.rate < math.inf, "a number > 0"),
                     ("--duration", self.duration, 0 < self.duration <= 30 * 86400, "seconds > 0, at most 30 days (2592000)"),
                     ("--batch", self.batch, 1 <= self.batch <= 5000, "1-5000"),
                     ("--workers", self.workers, 1 <= self.workers <= 64, "1-64"),
                     ("--max-connections", self.max_connections, 1 <= self.max_connections <= 10000, "1-10000"),
                     ("--users", self.users, 1 <= self.users <= 10000, "1-10000"),
                     ("--grace", self.grace_s, 0 <= self.grace_s < math.inf, "a number >= 0"))
        from gameday.load.run import check_profile, check_windowed

        kind = check_profile(self.profile, bool(self.hard_limits), self.service_headers)
        if self.host is not None:
            check_host(self.host)
        check_service(load_environment(self.env), self.env)
        slos = [parse_slo(s) for s in self.slos]
        if self.gate:
            slos = with_defaults(slos, closed=kind == CLOSED)
        limits = [parse_slo(s, option="--hard-limit") for s in self.hard_limits]
        check_windowed(kind, slos, limits)
        return slos, limits


def check_host(host: str) -> None:
    check_url(host, None, "--host")


def run_load(opts: LoadOptions, *, on_progress: Callable[[dict[str, Any]], None] = lambda rec: None,
             on_status: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    """Run the profile (and judge its SLOs); return summary.json's content."""
    slos, limits = opts.check()
    env = load_environment(opts.env)
    svc = outside_service(opts, env)
    if svc is not None:
        return _run(opts, svc, slos, limits, on_progress)
    with lab_session(opts.env, opts.state_dir, keep=opts.keep_lab, restore=False, on_progress=on_status) as lab:
        return _run(opts, lab_service(opts, env, lab.client), slos, limits, on_progress)


def outside_service(opts: LoadOptions, env: Environment) -> Service | None:
    """The service the load goes to when it is not the lab's (``--host``, AWS's public URL, the environment's
    ``service.url``); None when the run needs the lab."""
    host = opts.host or (env.aws.public_url if env.aws is not None else None)
    if host is not None or env.kind == "aws" or (env.service is not None and env.service.url):
        return Service.resolve(env.service or LAB_SERVICE, url=host, file=str(opts.env))
    return None


def lab_service(opts: LoadOptions, env: Environment, client: LabClient) -> Service:
    """The environment's service (default: the lab's own ingest API) at the lab's public endpoint."""
    return Service.resolve(env.service or LAB_SERVICE, url=client.public_endpoint, ca_file=client.ca_file,
                           file=str(opts.env))


def _run(opts: LoadOptions, service: Service, slos: list[Slo], limits: list[Slo],
         on_progress: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    from gameday.load.run import LoadRun

    host = service.redact(service.url)  # what runs and reports show; the load processes get the service itself
    out = claim(opts.output())
    (out / "journal.jsonl").unlink(missing_ok=True)
    journal = Journal(out / "journal.jsonl")  # gate.start, load.tick...: what annotations and metrics follow
    run = LoadRun(profile=opts.profile, host=host, out_dir=out, rate=opts.rate, duration=opts.duration,
                  batch=opts.batch, workers=opts.workers, max_connections=opts.max_connections, users=opts.users,
                  slos=slos, hard_limits=limits, grace_s=opts.grace_s, service=service, journal=journal,
                  gate=opts.gate, start_extra={"environment_file": str(opts.env.resolve())}, run_id=opts.run_id,
                  service_headers=opts.service_headers)
    obs = observers("load-gate", opts.grafana_url, opts.metrics_port, run_id=run.run_id, metrics_addr=opts.metrics_addr)
    obs.attach(journal)

    def progress(rec: dict[str, Any]) -> None:
        journal.record("load.tick", "load", rec)
        on_progress(rec)

    run.on_progress = progress
    summary: dict[str, Any] = {"verdict": "inconclusive"}
    try:
        summary = run.execute()
    finally:
        journal.record("gate.end", "runner", {"verdict": summary["verdict"]})
        obs.finish(summary["verdict"], "; ".join(summary.get("reasons", [])))
        journal.close()
    return summary


def regenerate_gate_reports(journal: Path, out_dir: Path) -> dict[str, Any]:
    """summary.json, junit.xml and report.html of a gate (or load run) from its journal alone (offline). The
    journal is streamed once, the verdict judged and the timeline folded as it goes by: memory does not grow
    with the run's length."""
    from gameday.load.gate import GATE_START, summary_from_journal
    from gameday.report.load import Timeline, write_load_reports

    timeline: list[Timeline] = []

    def folded() -> Iterator[Event]:
        for e in iter_journal(journal):
            if e.kind == GATE_START and not timeline:
                timeline.append(Timeline(float(e.value.get("duration") or 0.0)))
            elif e.kind == "load.tick" and timeline:
                timeline[0].add(e.value)
            yield e

    summary = summary_from_journal(folded())
    out_dir.mkdir(parents=True, exist_ok=True)
    write_load_reports(summary, timeline[0] if timeline else [], out_dir)
    return summary


def check_ranges(*checks: tuple[str, float, bool, str]) -> None:
    """ConfigError (exit 2) naming the first option whose value is outside its range (nan and inf fail every
    comparison, so they are outside too)."""
    for name, value, ok, allowed in checks:
        if not ok:
            raise ConfigError(f"{value:g} is out of range: must be {allowed}", field=name)


REFERENCE_CALIBRATION = Path(__file__).resolve().parents[1] / "load" / "data" / "reference_calibration.json"


def plan_fleet(*, rate: float, batch: int, calibration: Path, headroom: float = 0.6, latency: str | None = None,
               max_connections: int = 500, tls: bool = False) -> dict[str, Any]:
    """Workers and connections for ``rate`` events/s (``gameday load plan``); ConfigError for bad numbers.

    Uses this machine's calibration (``make bench-load``) when there is one, else the reference machine's,
    and says which."""
    import json

    from gameday.load.plan import fleet_size, parse_latency

    check_ranges(("--rate", rate, 0 < rate < math.inf, "a number > 0"), ("--batch", batch, 1 <= batch <= 5000, "1-5000"),
                 ("--headroom", headroom, 0 < headroom <= 1, "in (0, 1]"),
                 ("--max-connections", max_connections, 1 <= max_connections <= 10000, "1-10000"))
    latency_s = parse_latency(latency) if latency is not None else None
    source = calibration if calibration.exists() else REFERENCE_CALIBRATION
    try:
        cal = json.loads(source.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the calibration: {exc}", file=str(source)) from None
    if tls:
        if "per_core_requests_per_s_tls" not in cal:
            raise ConfigError("no TLS figures in the calibration: run 'make bench-load' again", file=str(source))
        cal["per_core_requests_per_s"] = cal["per_core_requests_per_s_tls"]
    result = fleet_size(cal, rate=rate, batch=batch, headroom=headroom, latency_s=latency_s,
                        max_connections=max_connections)
    if source == REFERENCE_CALIBRATION:
        result["explanation"] = (f"(No calibration of this machine at {calibration}: using the reference machine's "
                                 f"figures; 'make bench-load' measures yours.) " + result["explanation"])
    result["calibration"] = str(source)
    return result

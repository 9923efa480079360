"""Locust users and shape for rate-driven, open-model ingest load (imports locust: Locust processes only).

A locustfile picks a shape kind; each Locust process (local, or each worker) runs one
``IngestUser`` whose engine carries ``1/workers`` of the target rate. Results and per-second
progress go to ``--gameday-out``: written directly by a local run, sent to the master as messages
by workers (so the same profile runs distributed on Kubernetes).

Requests come from the service description's templates, or from the locustfile's own
``build_request(self, ids) -> Request`` when it defines one (a signed header, a computed field); either
way they are scheduled open-model, latency from the intended send time.

Locust's own statistics (web UI, ``--csv``, ``--json``) receive every answer when
``--gameday-locust-stats`` is on; ``auto`` (the default) turns them on for a plain ``locust -f`` run and
off under gameday, whose HdrHistograms judge the run (the cost is a row of ``make bench-load``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import gevent
from locust import LoadTestShape, User, events, task
from locust.runners import MasterRunner, WorkerRunner

from gameday.load.engine import Engine
from gameday.load.locust_stats import StatsFeed
from gameday.load.payloads import Request
from gameday.load.shapes import SHAPES, RateShape
from gameday.service.ids import IdScheme
from gameday.service.resolved import SERVICE_ENV, Service
from gameday.service.spec import ServiceSpec

__all__ = ["IngestUser", "RateDrivenShape", "Request"]

_DRAIN_S = 3.0


def service_from_environment(host: str | None) -> Service:
    """The service this process loads: the runner's description (``$GAMEDAY_SERVICE``, its ``${VAR}`` expanded
    here from this process's environment), or the lab's own ingest API at ``--host`` for a plain locust run."""
    raw = os.environ.get(SERVICE_ENV)
    if raw:
        d = json.loads(raw)
        return Service.resolve(ServiceSpec.model_validate(d["spec"]), url=d["url"], ca_file=d.get("ca_file"))
    from gameday.lab.ingest_api import LAB_SERVICE

    return Service.resolve(LAB_SERVICE, url=host or "http://127.0.0.1")


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    g = parser.add_argument_group("gameday", "open-model ingest load")
    g.add_argument("--gameday-rate", type=float, default=100.0, help="target events/s (all workers together)")
    g.add_argument("--gameday-duration", type=float, default=30.0, help="seconds of load")
    g.add_argument("--gameday-batch", type=int, default=1, help="events per request")
    g.add_argument("--gameday-workers", type=int, default=1, help="how many processes share the rate")
    g.add_argument("--gameday-max-connections", type=int, default=500,
                   help="keep-alive connections per process, opened as demand needs, at most this many")
    g.add_argument("--gameday-locust-stats", choices=("auto", "on", "off", "events"), default="auto",
                   help="feed Locust's statistics (auto: on unless --gameday-out is given; on: once a second, in "
                        "bulk; events: Locust's request event per answer, for its listeners, at its full cost)")
    g.add_argument("--gameday-timeout", type=float, default=5.0, help="seconds before a request is indeterminate")
    g.add_argument("--gameday-run-id", default="", help="prefix of every event id (default: random)")
    g.add_argument("--gameday-out", default="", help="folder for progress and results (the master's, when distributed)")


def _opts(env: Any) -> Any:
    return env.parsed_options


def _out(env: Any) -> Path | None:
    o = _opts(env).gameday_out if env.parsed_options else ""
    return Path(o) if o else None


def _append(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")


def append_ledger(out: Path, record: dict[str, Any]) -> None:
    """A second's ledger ranges (``Engine.on_ledger``) appended to ``ledger-<worker>.txt``, in ledger.txt's lines
    (the runner joins the workers' files into ledger.txt at the end)."""
    ids = IdScheme(record["prefix"], uuid=bool(record.get("uuid")))
    with open(out / f"ledger-{int(record['worker'])}.txt", "a") as f:
        for mark, ranges in record["ranges"].items():
            f.writelines(ids.ledger_line(mark, int(first), int(count), t) for first, count, t in ranges)


@events.init.add_listener
def _on_init(environment: Any, **kw: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):  # workers' progress and results arrive as messages
        out = _out(environment)

        def tick(msg: Any, **_: Any) -> None:
            if out:
                _append(out / "progress.jsonl", msg.data)

        def part(msg: Any, **_: Any) -> None:
            if out:
                (out / f"part-{msg.data['worker']}.json").write_text(json.dumps(msg.data))

        def ledger(msg: Any, **_: Any) -> None:
            if out:
                append_ledger(out, msg.data)

        runner.register_message("gameday_tick", tick)
        runner.register_message("gameday_part", part)
        runner.register_message("gameday_ledger", ledger)
    if isinstance(runner, WorkerRunner):
        runner.register_message("gameday_abort", lambda msg, **_: IngestUser.abort_all())


class IngestUser(User):
    """Drives its process's share of the target rate; does nothing else.

    A subclass may define ``build_request(self, ids: list[str]) -> Request`` (method, path, headers, body):
    it is called once per request with the batch's event ids, instead of the description's templates.
    """

    abstract = True
    shape_kind = "steady"
    engines: list[Engine] = []

    @staticmethod
    def abort_all() -> None:
        for e in IngestUser.engines:
            e.stop()

    def _emit(self, record: dict[str, Any], kind: str) -> None:
        runner = self.environment.runner
        if isinstance(runner, WorkerRunner):
            runner.send_message(f"gameday_{kind}", record)
        elif kind == "ledger":
            if (out := _out(self.environment)) is not None:
                append_ledger(out, record)  # a plain `locust -f` run without --gameday-out keeps no ledger
        elif (out := _out(self.environment)) is not None:
            if kind == "tick":
                _append(out / "progress.jsonl", record)
            else:
                (out / f"part-{record['worker']}.json").write_text(json.dumps(record))
        elif kind == "tick":  # a plain `locust -f` run: this engine's figures (latency from the intended time)
            print(f"gameday t={record['t']:.0f}s target {record['target_rate']:.0f} ev/s acked {record['acked_events']} "
                  f"p95 {record['p95_ms']} ms errors {record['errors'] + record['indeterminate']} late {record['late']} "
                  f"dropped {record['dropped']}", flush=True)

    @task
    def drive(self) -> None:
        o = _opts(self.environment)
        runner = self.environment.runner
        worker = getattr(runner, "worker_index", 0) if isinstance(runner, WorkerRunner) else 0
        shape: RateShape = SHAPES[self.shape_kind](rate=o.gameday_rate, duration=o.gameday_duration)
        engine = Engine(service=service_from_environment(self.host), shape=shape,
                        share=1.0 / max(1, o.gameday_workers),
                        batch=o.gameday_batch, max_connections=o.gameday_max_connections, timeout_s=o.gameday_timeout,
                        run_id=o.gameday_run_id or os.urandom(4).hex(), worker=worker,
                        emit=lambda r: self._emit(r, "tick"), hook=getattr(self, "build_request", None),
                        on_request=self._locust_events() if o.gameday_locust_stats == "events" else None,
                        on_second=StatsFeed(self.environment.stats).second if _stats_on(o) else None,
                        on_ledger=lambda r: self._emit(r, "ledger"))
        IngestUser.engines.append(engine)
        result = engine.run()
        self._emit(result, "part")
        while True:  # done: idle until Locust stops this user (the shape ends the test)
            gevent.sleep(1.0)


    def _locust_events(self) -> Any:
        fire = self.environment.events.request.fire

        def on_request(method: str, name: str, ms: float, error: str | None) -> None:
            fire(request_type=method, name=name, response_time=ms, response_length=0, response=None, context={},
                 exception=error, start_time=None, url=None)
        return on_request


def _stats_on(o: Any) -> bool:
    return bool(o.gameday_locust_stats == "on" or (o.gameday_locust_stats == "auto" and not o.gameday_out))


class RateDrivenShape(LoadTestShape):
    """One user per process for the run's duration (+ drain); the users follow the rate shape.

    Also the place where an abort requested by the gameday runner (``DIR/abort``) is seen and
    passed on, to the local engine or to every worker.
    """

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None and self.runner.environment.parsed_options is not None
        o = self.runner.environment.parsed_options
        out = _out(self.runner.environment)
        if out is not None and (out / "abort").exists():
            if isinstance(self.runner, MasterRunner):
                self.runner.send_message("gameday_abort", {})
            IngestUser.abort_all()
            if self._all_parts(out, o.gameday_workers) or self.get_run_time() > o.gameday_duration + _DRAIN_S + 5:
                return None
        elif self.get_run_time() > o.gameday_duration + _DRAIN_S:
            if out is None or self._all_parts(out, o.gameday_workers) or \
                    self.get_run_time() > o.gameday_duration + _DRAIN_S + o.gameday_timeout + 5:
                return None
        n = max(1, o.gameday_workers)
        return n, n

    @staticmethod
    def _all_parts(out: Path, n: int) -> bool:
        return len(list(out.glob("part-*.json"))) >= max(1, n)

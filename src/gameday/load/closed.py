"""Run a locustfile written the plain Locust way (``FastHttpUser``/``HttpUser`` with tasks) for the gate.

``python -m gameday.load.closed -f PROFILE ...`` is Locust's own command line with one listener more:
every request Locust records also goes, when it succeeded, into a second Locust ``RequestStats`` (the
same response-time buckets), so percentiles are judged on acknowledged requests only. When Locust
quits, its totals, errors and both sets of buckets go to ``--gameday-out``/closed.json.

This is a closed model: each user waits for an answer before its next request, so the rate follows
the service, and latency excludes any queueing at the client. The summary says so.

Distributed (``--master`` / ``--worker``, Locust's own): each worker sends its acknowledged-request buckets
to the master with its stats report, the master merges them as Locust merges its own, and the master
writes closed.json from the aggregated statistics. With ``$GAMEDAY_SERVICE_HEADERS`` set (``--service-headers``),
every user's client sends the service description's headers (``$GAMEDAY_SERVICE``, ``${VAR}`` expanded here).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from locust import events
from locust.stats import RequestStats, StatsEntry

__all__ = ["main", "SERVICE_HEADERS_ENV"]

ACKED = RequestStats(use_response_times_cache=False)
REPORTED: set[str] = set()  # on a master: the workers whose statistics arrived
SERVICE_HEADERS_ENV = "GAMEDAY_SERVICE_HEADERS"  # "1": the users' clients send the description's headers


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--gameday-out", default="", help="folder for closed.json (gameday's gate)")


@events.request.add_listener
def _on_request(request_type: str, name: str, response_time: float | None, response_length: int | None,
                exception: Any = None, **_: Any) -> None:
    if exception is None and response_time is not None:
        # as Locust logs it (a float in ms: its type hint says int)
        ACKED.log_request(request_type, name, response_time, response_length or 0)  # type: ignore[arg-type]


@events.report_to_master.add_listener
def _send_acked(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data["gameday_acked"] = ACKED.total.get_stripped_report()  # what was acknowledged since the last report


@events.worker_report.add_listener
def _merge_acked(client_id: str, data: dict[str, Any], **_: Any) -> None:
    REPORTED.add(client_id)
    if "gameday_acked" in data:  # as Locust merges its own totals (locust/stats.py, on_worker_report)
        ACKED.total.extend(StatsEntry.unserialize(data["gameday_acked"], ACKED))


@events.init.add_listener
def _service_headers(environment: Any, **_: Any) -> None:
    """The service description's headers on every user's client (each process: workers make the requests)."""
    raw = os.environ.get("GAMEDAY_SERVICE")
    if os.environ.get(SERVICE_HEADERS_ENV) != "1" or not raw:
        return
    from gameday.service.resolved import Service
    from gameday.service.spec import ServiceSpec

    d = json.loads(raw)
    svc = Service.resolve(ServiceSpec.model_validate(d["spec"]), url=d["url"], ca_file=d.get("ca_file"))
    run_id = os.environ.get("GAMEDAY_RUN_ID", "")
    headers = {k: v.replace("{{run_id}}", run_id) for k, v in svc.headers.items()}
    for cls in environment.user_classes:
        _add_headers(cls, headers)


def _add_headers(cls: Any, headers: dict[str, str]) -> None:
    """FastHttpUser: its ``default_headers``; HttpUser (a requests session): the session's headers."""
    if hasattr(cls, "default_headers"):
        cls.default_headers = {**(cls.default_headers or {}), **headers}
        return
    init = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        client_headers = getattr(getattr(self, "client", None), "headers", None)
        if client_headers is not None:
            client_headers.update(headers)

    cls.__init__ = __init__


def _entry(e: Any) -> dict[str, Any]:
    return {"num_requests": e.num_requests, "num_failures": e.num_failures, "max_response_time": e.max_response_time,
            "response_times": {str(k): v for k, v in e.response_times.items()}, "start_time": e.start_time,
            "last_request_timestamp": e.last_request_timestamp}


@events.quitting.add_listener
def _write(environment: Any, **_: Any) -> None:
    o = environment.parsed_options
    if o is None or not o.gameday_out:
        return
    runner = environment.runner
    result = {"total": _entry(environment.stats.total), "acked": _entry(ACKED.total),
              "errors": [e.to_dict() for e in environment.stats.errors.values()],
              "users": getattr(o, "num_users", None), "workers_reported": len(REPORTED),
              "cpu_warning": bool(runner and (runner.cpu_warning_emitted
                                              or getattr(runner, "worker_cpu_warning_emitted", False))),
              "user_classes": [c.__name__ for c in environment.user_classes]}
    (Path(o.gameday_out) / "closed.json").write_text(json.dumps(result))


def main() -> None:
    from locust.main import main as locust_main

    sys.argv[0] = "locust"
    locust_main()


if __name__ == "__main__":
    main()

"""Run a locustfile written the plain Locust way (``FastHttpUser``/``HttpUser`` with tasks) for the gate.

``python -m gameday.load.closed -f PROFILE ...`` is Locust's own command line with one listener more:
every request Locust records also goes, when it succeeded, into a second Locust ``RequestStats`` (the
same response-time buckets), so percentiles are judged on acknowledged requests only. When Locust
quits, its totals, errors and both sets of buckets go to ``--gameday-out``/closed.json.

This is a closed model: each user waits for an answer before its next request, so the rate follows
the service, and latency excludes any queueing at the client. The summary says so.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from locust import events
from locust.stats import RequestStats

__all__ = ["main"]

ACKED = RequestStats(use_response_times_cache=False)


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument("--gameday-out", default="", help="folder for closed.json (gameday's gate)")


@events.request.add_listener
def _on_request(request_type: str, name: str, response_time: float | None, response_length: int | None,
                exception: Any = None, **_: Any) -> None:
    if exception is None and response_time is not None:
        # as Locust logs it (a float in ms: its type hint says int)
        ACKED.log_request(request_type, name, response_time, response_length or 0)  # type: ignore[arg-type]


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
              "users": getattr(o, "num_users", None), "cpu_warning": bool(runner and runner.cpu_warning_emitted),
              "user_classes": [c.__name__ for c in environment.user_classes]}
    (Path(o.gameday_out) / "closed.json").write_text(json.dumps(result))


def main() -> None:
    from locust.main import main as locust_main

    sys.argv[0] = "locust"
    locust_main()


if __name__ == "__main__":
    main()

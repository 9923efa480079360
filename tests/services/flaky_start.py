"""A service whose first start dies (not gameday's code): it prints what a node says when another process took
its port, and exits 1; every later start serves ``GET /health`` 200. With ``--always-die`` every start dies.

    python flaky_start.py --port P --marker FILE [--always-die]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiohttp import web


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--marker", type=Path, required=True, help="exists once a start has died")
    p.add_argument("--always-die", action="store_true")
    a = p.parse_args()
    if a.always_die or not a.marker.exists():
        a.marker.touch()
        print(f"OSError: [Errno 98] error while attempting to bind on address ('127.0.0.1', {a.port}): "
              "address already in use", flush=True)
        sys.exit(1)
    app = web.Application()
    app.router.add_get("/health", lambda _r: web.json_response({"status": "ok"}))
    web.run_app(app, host="127.0.0.1", port=a.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

"""One experiment in its own process (chaoslib installs signal handlers and must own the main thread).

    python -m gameday.chaos.runner EXPERIMENT --env FILE --state-dir DIR --out DIR

Writes DIR/journal.json (Chaos Toolkit's journal). The rollback and hypothesis strategies of the
experiment's ``runtime`` block are passed through settings, so they apply here too.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

__all__ = ["prepare", "main"]

CONTROL: dict[str, Any] = {"name": "gameday", "provider": {"type": "python", "module": "gameday.chaos.controls"}}


def prepare(experiment: dict[str, Any], *, env: str, state_dir: str, out: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(experiment with gameday's configuration and control, settings, hypothesis strategy name)."""
    cfg = dict(experiment.get("configuration") or {})
    cfg.update({"gameday_env": env, "gameday_state_dir": state_dir, "gameday_out": out})
    experiment = {**experiment, "configuration": cfg}
    controls = list(experiment.get("controls") or [])
    if not any(c.get("provider", {}).get("module") == CONTROL["provider"]["module"] for c in controls):
        controls.append(CONTROL)
    experiment["controls"] = controls
    runtime = experiment.get("runtime") or {}
    settings = {"runtime": {"rollbacks": {"strategy": runtime.get("rollbacks", {}).get("strategy", "always")},
                            "hypothesis": {"strategy": runtime.get("hypothesis", {}).get("strategy", "default")}}}
    return experiment, settings, settings["runtime"]["hypothesis"]["strategy"]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="gameday-chaos-runner")
    p.add_argument("experiment")
    p.add_argument("--env", required=True)
    p.add_argument("--state-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--grafana-url", default="")
    p.add_argument("--confirm", default="")
    p.add_argument("--run-id", default="")
    a = p.parse_args(argv)
    from chaoslib.experiment import run_experiment
    from chaoslib.loader import load_experiment
    from chaoslib.types import Strategy

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    experiment, settings, strategy = prepare(dict(load_experiment(a.experiment)), env=a.env, state_dir=a.state_dir,
                                             out=str(out))
    if a.grafana_url:
        experiment["configuration"]["gameday_grafana_url"] = a.grafana_url
    if a.confirm:
        experiment["configuration"]["gameday_confirm"] = a.confirm
    if a.run_id:
        experiment["configuration"]["gameday_run_id"] = a.run_id
    journal = run_experiment(experiment, settings=settings, strategy=Strategy.from_string(strategy))
    (out / "journal.json").write_text(json.dumps(journal, indent=2, default=str))


if __name__ == "__main__":
    main()

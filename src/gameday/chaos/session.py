"""What the extension's activities share within one experiment run: the target and the background load.

chaoslib runs one experiment per process and calls activities as plain functions, so the state that
must outlive one activity (the target, a load started in the background) lives in this process-wide
session, created from the experiment's configuration on first use.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.config import Environment, load_environment
from gameday.drill.locust_load import LocustLoad
from gameday.drill.store import Heartbeat, heartbeat_dsn
from gameday.journal import Journal
from gameday.lab.control import DEFAULT_DIR
from gameday.runs import claim, run_folder
from gameday.targets import target_for
from gameday.targets.base import Target

__all__ = ["Session", "session_for", "reset"]


@dataclass
class Session:
    env_file: str
    environment: Environment
    target: Target
    out_dir: Path
    loads: list[LocustLoad] = field(default_factory=list)
    journal: Journal | None = None  # the gameday journal of this run (set by the gameday control)
    heartbeat: Heartbeat | None = None  # committed through the primary's writer while the experiment runs
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])  # ``gameday chaos run`` passes its own

    def start_heartbeat(self, journal: Journal) -> None:
        """The heartbeat the replication-lag probe measures by (``replication_lag_s``)."""
        svc = self.target.service()
        self.heartbeat = Heartbeat(dsn=heartbeat_dsn(svc, self.target),
                                   table=svc.spec.heartbeat_table, run_id=f"chaos-{self.run_id}",
                                   journal=journal, interval_s=0.1, max_s=3600)
        self.heartbeat.start()

    def current_load(self) -> LocustLoad | None:
        return self.loads[-1] if self.loads else None


_lock = threading.Lock()
_session: Session | None = None


def session_for(configuration: dict[str, Any] | None) -> Session:
    """The run's session, built from ``gameday_env`` / ``gameday_state_dir`` / ``gameday_out``."""
    global _session
    with _lock:
        if _session is None:
            cfg = configuration or {}
            env_file = str(cfg.get("gameday_env") or "environments/local.yaml")
            env = load_environment(env_file)
            run_id = str(cfg.get("gameday_run_id") or uuid.uuid4().hex[:10])
            # a plain `chaos run` (no gameday_out): a folder of its own, as every gameday run has
            out = Path(cfg["gameday_out"]) if cfg.get("gameday_out") else claim(run_folder("chaos", "chaostoolkit", run_id))
            target = target_for(env, state_dir=Path(cfg.get("gameday_state_dir") or DEFAULT_DIR),
                                confirm=cfg.get("gameday_confirm"))
            _session = Session(env_file, env, target, out, run_id=run_id)
        return _session


def reset() -> None:
    """Stop any background load and forget the session (end of an experiment)."""
    global _session
    with _lock:
        if _session is not None:
            for load in _session.loads:
                load.stop()
            if _session.heartbeat is not None:
                _session.heartbeat.stop()
        _session = None

"""Starting, reaching and stopping the lab from other processes (CLI, drills, tests).

The lab is found through DIR/state.json, written by its supervisor.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from gameday.config import load_environment
from gameday.errors import ConfigError, LabError

__all__ = ["DEFAULT_DIR", "LabClient", "lab_up", "lab_down", "read_state", "refuse_other_environment"]

DEFAULT_DIR = Path(".gameday/lab")


def read_state(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / "state.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _is_supervisor(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        p = psutil.Process(pid)
        return p.status() != psutil.STATUS_ZOMBIE and "gameday.lab.supervisor" in " ".join(p.cmdline())
    except psutil.Error:
        return False


class LabClient:
    """Calls the supervisor's control API (stdlib urllib: one small JSON call at a time)."""

    def __init__(self, root: Path = DEFAULT_DIR, timeout: float = 120.0) -> None:
        self.root = Path(root).resolve()
        self.timeout = timeout
        state = read_state(self.root)
        if not state or not state.get("ready") or not _is_supervisor(state.get("supervisor_pid")):
            raise LabError(f"no lab is running under {self.root} (start one with: gameday lab up)")
        self.base = f"http://127.0.0.1:{state['control_port']}"
        self.public_endpoint: str = state["public_endpoint"]
        self.env_file: str | None = state.get("env_file")  # the environment the lab was started with
        self.ca_file: str | None = state.get("ca_file")  # the certificate of a lab-hosted TLS service

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            msg = json.loads(exc.read() or b"{}").get("error", exc.reason)
            if exc.code in (400, 404):
                raise ConfigError(msg) from None
            raise LabError(msg) from None
        except OSError as exc:
            raise LabError(f"the lab supervisor does not answer: {exc}") from None

    def status(self) -> dict[str, Any]:
        return self._request("GET", "/status")

    def op(self, name: str, **kwargs: Any) -> dict[str, Any]:
        """Run a lab operation (a fault, a runbook action, or restore) by its registry name (an old name warns)."""
        from gameday.spellings import resolve

        name, kwargs = resolve(name, kwargs, where="the lab's control API")
        return self._request("POST", f"/op/{name}", {k: v for k, v in kwargs.items() if v is not None})


def refuse_other_environment(root: Path, env_file: Path) -> None:
    """ConfigError (exit 2, before anything is changed) when the lab running under ``root`` was started from
    another environment file describing another lab (its ``lab:`` section differs, or cannot be read): its
    nodes, service and token are not the ones this run describes."""
    running = (read_state(Path(root).resolve()) or {}).get("env_file")
    mine = Path(env_file).resolve()
    if not running or Path(running).resolve() == mine:
        return
    try:
        same = load_environment(Path(running)).lab == load_environment(mine).lab
    except ConfigError:
        same = False
    if not same:
        raise ConfigError(f"the lab running under {Path(root).resolve()} was started from {running}, not from this "
                          f"run's {mine}: stop it first (gameday lab down) or run with {running}", field="--env")


def lab_up(env_file: Path, root: Path = DEFAULT_DIR, timeout: float = 90.0) -> LabClient:
    """Start the lab unless one is already running there; return once everything is healthy."""
    env = load_environment(env_file)  # a malformed file fails here, before anything starts
    if env.lab is not None and env.lab.service is not None:  # and so does an unset ${VAR} the service needs
        from gameday.service.checks import check_lab_service

        check_lab_service(env.lab.service, str(env_file))
    root = Path(root).resolve()
    state = read_state(root)
    if state and state.get("ready") and _is_supervisor(state.get("supervisor_pid")):
        refuse_other_environment(root, env_file)
        return LabClient(root)
    lab_down(root)
    root.mkdir(parents=True, exist_ok=True)
    log = open(root / "supervisor.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "gameday.lab.supervisor", "--env", str(Path(env_file).resolve()),
                             "--dir", str(root)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(root)
        if state and state.get("supervisor_pid") == proc.pid:
            if state.get("ready"):
                return LabClient(root)
            if state.get("error"):
                proc.wait(30)
                raise LabError(f"the lab did not start: {state['error']} (log: {root / 'supervisor.log'})")
        if proc.poll() is not None:
            tail = (root / "supervisor.log").read_text()[-1500:]
            raise LabError(f"the lab supervisor exited with code {proc.returncode}:\n{tail}")
        time.sleep(0.1)
    lab_down(root)
    raise LabError(f"the lab was not healthy within {timeout:.0f} s (log: {root / 'supervisor.log'})")


def lab_down(root: Path = DEFAULT_DIR, timeout: float = 20.0) -> bool:
    """Stop the lab under ``root``, also after a crash of its supervisor. True if anything ran."""
    root = Path(root).resolve()
    state = read_state(root)
    if state is None:
        return False
    pid = state.get("supervisor_pid")
    ran = False
    if pid is not None and _is_supervisor(pid):
        ran = True
        os.kill(pid, signal.SIGTERM)  # the supervisor stops its children cleanly
        try:
            psutil.Process(pid).wait(timeout)
        except psutil.TimeoutExpired:
            os.killpg(state["pgid"], signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    for child in state.get("pids", []):  # left behind by a supervisor that was SIGKILLed
        try:
            p = psutil.Process(child)
            cmd = " ".join(p.cmdline())
            if str(root) in cmd or "gameday.lab" in cmd:
                ran = True
                p.kill()
                p.wait(5)
        except psutil.Error:
            pass
    (root / "state.json").unlink(missing_ok=True)
    return ran

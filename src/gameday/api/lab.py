"""The lab as a context manager, used by every run on the local environment (one stop policy)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameday.errors import LabError
from gameday.lab.control import DEFAULT_DIR, LabClient, lab_down, lab_up, refuse_other_environment

__all__ = ["LabSession", "lab_session", "lab_operation", "lab_environment_file"]


@dataclass(frozen=True)
class LabSession:
    client: LabClient
    started: bool  # this session started the lab (and stops it on leaving, unless kept)
    state_dir: Path


@contextmanager
def lab_session(env_file: Path, state_dir: Path = DEFAULT_DIR, *, keep: bool = False, restore: bool = True,
                on_progress: Callable[[str], None] = lambda msg: None) -> Iterator[LabSession]:
    """Reuse the running lab (brought back to its configured shape) or start one; on leaving, stop the lab
    only if this session started it and ``keep`` is false, whatever happened inside."""
    started = False
    try:
        client = LabClient(state_dir)
    except LabError:  # no lab there: this session starts one (and is the one to stop it)
        on_progress("starting the local lab")
        client = lab_up(env_file, state_dir)
        started = True
    else:  # a running lab is someone's: a failed restore is an error, never a reason to start or stop it
        refuse_other_environment(state_dir, env_file)  # another lab's nodes, service and token: exit 2
        if restore:
            on_progress("lab already running: restoring its configured shape")
            client.op("restore")
    try:
        yield LabSession(client, started, Path(state_dir))
    finally:
        if started and not keep:
            lab_down(state_dir)
            on_progress("lab stopped (it was started for this run; --keep-lab keeps it)")


def lab_environment_file(state_dir: Path, default: Path = Path("environments/local.yaml")) -> Path:
    """The environment the lab under ``state_dir`` was started with (or would be, by default)."""
    from gameday.lab.control import read_state

    env_file = (read_state(Path(state_dir).resolve()) or {}).get("env_file")
    return Path(env_file) if env_file else default


def lab_operation(name: str, args: dict[str, Any], state_dir: Path = DEFAULT_DIR) -> dict[str, Any]:
    """Apply registry operation ``name`` on the running lab; its arguments are checked first (exit 2)."""
    from gameday import operations
    from gameday.config import load_environment

    env = load_environment(lab_environment_file(state_dir))
    checked = operations.validate(name, args, env, where="argument")  # before the lab is looked for: exit 2
    return LabClient(state_dir).op(name, **checked)

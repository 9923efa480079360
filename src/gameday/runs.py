"""Where a run's output goes by default: a folder of its own, ``out/<kind>/<name>/<time>-<run id>/``, with a
``latest`` link beside it, so runs keep their history and ``gameday history out/`` has something to trend.
``--out`` still names a folder outright (and then no link is made).

The path is chosen before the run (:func:`run_folder`, nothing created); the folder is made and ``latest``
moved to it only when the run begins writing (:func:`claim`), so an input rejected before the start leaves
neither an empty folder nor a ``latest`` that points at one."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

__all__ = ["OUT", "LATEST", "run_folder", "claim"]

OUT = Path("out")
LATEST = "latest"
_RUN_NAME = re.compile(r"^\d{8}T\d{6}Z-[A-Za-z0-9._-]+$")


def run_folder(kind: str, name: str, run_id: str, *, base: Path = OUT, now: float | None = None) -> Path:
    """``base/kind/name/<UTC time>-<run_id>``: folder names sort by time. Nothing is created here."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return base / kind / _safe(name) / f"{stamp}-{_safe(run_id)}"


def claim(folder: Path) -> Path:
    """Create ``folder``; when it is a run folder (``run_folder``'s shape), point ``latest`` beside it at it. The
    link is relative (a copied or downloaded ``out/`` keeps it) and replaced atomically (never missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    if _RUN_NAME.match(folder.name):
        tmp = folder.parent / f".{LATEST}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(folder.name, target_is_directory=True)
        os.replace(tmp, folder.parent / LATEST)
    return folder


def _safe(part: str) -> str:
    """A name as one path component: letters, digits, '.', '_' and '-' kept, anything else '-'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip(".-") or "run"

"""Where a run's output goes by default: a folder of its own, ``out/<kind>/<name>/<time>-<run id>/``, with a
``latest`` link beside it, so runs keep their history and ``gameday history out/`` has something to trend.
``--out`` still names a folder outright (and then no link is made)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

__all__ = ["OUT", "run_folder", "LATEST"]

OUT = Path("out")
LATEST = "latest"


def run_folder(kind: str, name: str, run_id: str, *, base: Path = OUT, now: float | None = None) -> Path:
    """Create ``base/kind/name/<UTC time>-<run_id>/`` and point ``base/kind/name/latest`` at it; return it.

    Folder names sort by time; the link is relative (a copied or downloaded ``out/`` keeps working) and
    replaced atomically (a reader never finds no ``latest``)."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    parent = base / kind / _safe(name)
    folder = parent / f"{stamp}-{_safe(run_id)}"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{LATEST}.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(folder.name, target_is_directory=True)
    os.replace(tmp, parent / LATEST)
    return folder


def _safe(part: str) -> str:
    """A name as one path component: letters, digits, '.', '_' and '-' kept, anything else '-'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", part).strip(".-") or "run"

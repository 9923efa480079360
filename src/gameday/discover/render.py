"""The environment file discovery writes: YAML by hand, because every value carries a comment (where it came
from, or TODO) and no YAML library writes comments. Each value is dumped as JSON, which YAML reads as is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gameday.discover.facts import Fact

__all__ = ["render_environment", "count_todos"]

# Undecided, these are still written (``null`` and a TODO), so the file fails validation naming them until a
# person decides; any other undecided value is written commented out.
_REQUIRED = {"aws.account_id", "aws.zones", "aws.rds.instance_id", "aws.route53.name", "aws.public_url"}


def _comment(f: Fact) -> str:
    parts = [p for p in (f.source, f"TODO: {f.todo}" if f.todo else "") if p]
    return f"  # {'. '.join(parts)}" if parts else ""


def _lines(tree: dict[str, Any], path: str, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for key, node in tree.items():
        here = f"{path}.{key}"
        if isinstance(node, dict):
            inner = _lines(node, here, indent + 2)
            if any(not line.lstrip().startswith("#") for line in inner):
                out += [f"{pad}{key}:", *inner]
            elif inner:  # nothing decided in it: the section itself stays a comment
                out += [f"{pad}# {key}:", *inner]
        elif node.value is not None:
            out.append(f"{pad}{key}: {json.dumps(node.value)}{_comment(node)}")
        elif here in _REQUIRED:
            out.append(f"{pad}{key}: null{_comment(node)}")
        elif node.todo:
            out.append(f"{pad}# {key}:{_comment(node)}")
    return out


def count_todos(tree: dict[str, Any]) -> int:
    """The TODOs of the written file: the undecided values, and the ``service:`` section (always one)."""
    return _count(tree) + 1


def _count(tree: dict[str, Any]) -> int:
    return sum(_count(n) if isinstance(n, dict) else bool(n.todo) for n in tree.values())


def render_environment(name: str, found: dict[str, Any], *, written_by: str) -> str:
    """The environment file (protected: a run needs ``--confirm NAME``) from :func:`discover`'s result."""
    aws = found["aws"]
    head = [
        f"# Written by `{written_by}`",
        f"# on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, with read-only calls. Each value says where it came from;",
        "# TODO marks what gameday could not decide: decide those, then check the file",
        f"# with `gameday plan drills/region-failover.yaml --env THIS_FILE --confirm {name}` (it changes nothing).",
        f"name: {json.dumps(name)}  # from the tag's value",
        "kind: aws",
        f"protected: true  # every run needs --confirm {name}",
        "time_scale: 1  # budgets and targets as written (real minutes)",
        "aws:",
        *_lines(aws, "aws", 2),
    ]
    notes = [f"# seen, not used: {n}" for n in found.get("notes", [])]
    service = [
        "# service:  TODO: the ingest API's description (url, headers, write, read, store) that the drill's load,",
        "#   probe, heartbeat and reconciliation use; see environments/aws-staging.example.yaml in this folder.",
    ]
    return "\n".join([*head, *notes, *service]) + "\n"

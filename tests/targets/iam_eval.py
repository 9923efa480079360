"""A small evaluator of the IAM policy documents gameday prints: Allow statements only (gameday writes no Deny),
actions and resources with IAM's wildcards, and the condition operators gameday uses. An operator it does
not know fails the test rather than being guessed."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def _list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def _holds(op: str, key: str, want: Any, context: dict[str, Any]) -> bool:
    got = {k.lower(): v for k, v in context.items()}.get(key.lower())
    if got is None:
        return False  # a missing key never satisfies StringEquals / StringLike
    if op == "StringEquals":
        return got in _list(want)
    if op == "StringLike":
        return any(fnmatchcase(got, w) for w in _list(want))
    raise AssertionError(f"the evaluator does not know the condition operator {op}")


def allows(policy: dict[str, Any], action: str, resource: str, context: dict[str, Any] | None = None) -> bool:
    """Whether ``policy`` allows ``action`` on ``resource`` given the request ``context`` (condition keys)."""
    ctx = context or {}
    for st in policy["Statement"]:
        assert st["Effect"] == "Allow", "gameday's policy has no Deny"
        if not any(fnmatchcase(action.lower(), a.lower()) for a in _list(st["Action"])):
            continue
        if not any(fnmatchcase(resource, r) for r in _list(st["Resource"])):
            continue
        if all(_holds(op, k, w, ctx) for op, kv in st.get("Condition", {}).items() for k, w in kv.items()):
            return True
    return False


def actions(policy: dict[str, Any]) -> set[str]:
    return {a for st in policy["Statement"] for a in _list(st["Action"])}

"""What discovery found, each value with where it came from; what it could not decide is a TODO, never a guess."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AwsInitOptions", "Fact", "found", "todo", "Scope", "tagged", "one_of"]


@dataclass(frozen=True)
class AwsInitOptions:
    """What ``gameday init --aws`` was asked to look at, and as whom."""

    tag_key: str
    tag_value: str
    primary_region: str
    dr_region: str
    profile: str | None = None
    role_arn: str | None = None


@dataclass(frozen=True)
class Fact:
    """A value of the environment file: ``value`` (None: not decided), ``source`` (the API call and region it
    came from) and ``todo`` (what a person must decide or check; written as a TODO comment)."""

    value: Any
    source: str = ""
    todo: str | None = None

    @property
    def decided(self) -> bool:
        return self.value is not None


def found(value: Any, source: str) -> Fact:
    return Fact(value, source)


def todo(why: str, value: Any = None, source: str = "") -> Fact:
    return Fact(value, source, why)


@dataclass(frozen=True)
class Scope:
    """What discovery looks at: the tag that selects the resources, the two regions, and a client factory
    (``clients(service, region)``: one per service and region, from gameday's one AWS session)."""

    tag_key: str
    tag_value: str
    primary: str
    dr: str
    clients: Callable[[str, str], Any]
    notes: list[str] = field(default_factory=list)  # what discovery saw but did not use (written as comments)

    @property
    def tag(self) -> str:
        return f"{self.tag_key}={self.tag_value}"


def tagged(tags: Iterable[dict[str, str]] | dict[str, str] | None, scope: Scope) -> bool:
    """``tags`` as AWS returns them: a list of {Key, Value} (any capitalisation) or a mapping."""
    if not tags:
        return False
    if isinstance(tags, dict):
        return tags.get(scope.tag_key) == scope.tag_value
    for t in tags:
        key = t.get("Key", t.get("key"))
        if key == scope.tag_key and t.get("Value", t.get("value")) == scope.tag_value:
            return True
    return False


def one_of(names: list[str], what: str, source: str, *, none: str) -> Fact:
    """One candidate is the value; none or several are a TODO naming them (gameday never picks among several)."""
    if len(names) == 1:
        return found(names[0], source)
    if not names:
        return todo(none)
    return todo(f"{len(names)} {what} carry the tag ({', '.join(sorted(names))}): keep the one the drills target",
                source=source)

"""Earlier names of the registry's operations, still accepted where a user may have written them.

Each operation has one name (``gameday.operations``): the drill files, runbooks, experiments (the Chaos
Toolkit function), the lab's control API, the journal and the CLI (with hyphens) all use it. Before that one
operation could have four (``fail_zone``, ``kill_zone``, ``fail_availability_zone``, ``kill-zone``). The old
spellings still run: each is resolved here to the operation it meant, with one deprecation warning on stderr
per spelling and process. Journals written with them are read without a warning (they are records, not
instructions anyone can edit).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gameday.errors import ConfigError

__all__ = ["Old", "OLD", "resolve", "warned"]


@dataclass(frozen=True)
class Old:
    name: str  # the operation's one name
    by: str | None = None  # an old argument whose value chose between operations ...
    choices: Mapping[str, str] = field(default_factory=dict)  # ... value -> operation
    drop: tuple[str, ...] = ()  # old arguments the operation does not take (ignored)


OLD: dict[str, Old] = {
    "kill_zone": Old("fail_zone"),  # the lab's control API and CLI (``lab fault kill-zone``)
    "fail_availability_zone": Old("fail_zone", by="mode", choices={"kill": "fail_zone", "freeze": "freeze_zone"}),
    "restore_availability_zone": Old("restore_zone"),
    "interrupt_spot_nodes": Old("interrupt_spot"),
    "fail_over_database": Old("fail_over_db", drop=("cluster",)),
    "kill_db_primary": Old("fail_over_db"),
    "failover_db": Old("fail_over_db"),
    "failover_cache": Old("fail_cache_primary"),
    "kill_region": Old("fail_region"),
    "restore_region": Old("restore", drop=("region",)),
    "link_delay": Old("delay_link"),
    "ingest_latency": Old("inject_latency"),
    "stall": Old("inject_latency"),
    "promote": Old("promote_dr_db"),
    "scale": Old("scale_dr"),
    "dns": Old("switch_dns"),
}

_warned: set[str] = set()


def warned() -> frozenset[str]:
    """The old spellings this process has warned about."""
    return frozenset(_warned)


def _warn(old: str, new: str, where: str | None) -> None:
    if old in _warned:
        return
    _warned.add(old)
    place = f" ({where})" if where else ""
    print(f"DeprecationWarning: {old!r} is an old name of the operation {new!r}{place}; it still runs, "
          f"but write {new!r}", file=sys.stderr)


def resolve(name: str, args: Mapping[str, Any] | None = None, *, where: str | None = None,
            quiet: bool = False) -> tuple[str, dict[str, Any]]:
    """(the operation's name, its arguments) for ``name`` as written, old spellings included; a name that
    is neither is returned unchanged (the registry rejects it with the list of names)."""
    given = dict(args or {})
    key = name.replace("-", "_")
    old = OLD.get(key)
    if old is None:
        return name, given
    new = old.name
    if old.by is not None:
        value = given.pop(old.by, None)
        if value is not None:
            if value not in old.choices:
                raise ConfigError(f"{name}: {old.by} must be one of: {', '.join(old.choices)}",
                                  field=f"{where or 'arguments'}.{old.by}")
            new = old.choices[value]
    for k in old.drop:
        given.pop(k, None)
    if not quiet:
        _warn(name, new, where)
    return new, given

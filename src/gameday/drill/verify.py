"""What proves a runbook step done, checked on the environment rather than believed: the effect of each
runbook action (the DR database accepts writes, the record answers the DR region, N DR nodes are healthy,
a zone is drained). Used by rehearsals, where a person claims a step done by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gameday.targets.base import EnvironmentStatus

__all__ = ["effect_holds", "effect_known", "VERIFIABLE"]


def _promoted(args: Mapping[str, Any], st: EnvironmentStatus) -> str | None:
    dr = [d for d in st.dbs if d.region == st.dr_region]
    if st.dr_promoted and any(d.role == "primary" for d in dr):
        return None
    return f"the DR database in {st.dr_region} is still a read-only replica (not promoted)"


def _dns(args: Mapping[str, Any], st: EnvironmentStatus) -> str | None:
    want = args.get("region")
    return None if st.dns_region == want else f"the failover record answers {st.dns_region}, not {want}"


def _scaled(args: Mapping[str, Any], st: EnvironmentStatus) -> str | None:
    """The scale-out was asked for (nodes exist, starting or healthy); the step's wait then wants them healthy."""
    want = int(args.get("count", 1))
    have = len([n for n in st.nodes if n.region == st.dr_region])
    return None if have >= want else f"{have} ingest node(s) in {st.dr_region}, {want} wanted"


def _drained(args: Mapping[str, Any], st: EnvironmentStatus) -> str | None:
    zone = str(args.get("zone"))
    left = st.healthy_nodes(zone=zone)
    return None if not left else f"{len(left)} node(s) in {zone} still take traffic"


def _cache_promoted(args: Mapping[str, Any], st: EnvironmentStatus) -> str | None:
    if st.cache_dr_promoted is False:
        return f"the DR cache in {st.dr_region} is still a replica (not promoted)"
    return None  # promoted, or the environment cannot tell (then the claim is believed: see ``effect_known``)


# runbook action -> the check of its effect (None: done; a sentence: what is still missing)
VERIFIABLE = {"promote_dr_db": _promoted, "promote_cache": _cache_promoted, "switch_dns": _dns, "scale_dr": _scaled,
              "drain_zone": _drained}


def effect_holds(call: str, args: Mapping[str, Any], st: EnvironmentStatus) -> str | None:
    """None when the action's effect holds on the environment; else what is missing, in words."""
    check = VERIFIABLE.get(call)
    return None if check is None else check(args, st)


def effect_known(call: str, st: EnvironmentStatus) -> bool:
    """Whether the environment's status can show the action's effect at all (an action without a check, or a
    cache promotion where the status tells nothing of a cache, cannot be seen done, only believed)."""
    return call in VERIFIABLE and (call != "promote_cache" or st.cache_dr_promoted is not None)

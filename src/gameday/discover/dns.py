"""The Route 53 record that points at the two regions, and its mode (simple, alias, failover, weighted), from
the hosted zones carrying the tag. ``classify`` is a pure function of the record sets Route 53 lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gameday.discover.facts import Fact, Scope, found, tagged, todo

__all__ = ["Candidate", "classify", "discover_route53"]


@dataclass
class Candidate:
    """A record set (one record, or a failover / weighted group of one name and type) and what it says."""

    name: str
    type: str
    mode: str  # simple | alias | failover | weighted | latency | geo
    fields: dict[str, Fact] = field(default_factory=dict)
    regions: set[str] = field(default_factory=set)  # of primary and dr, those its values name


def _target(rs: dict[str, Any]) -> str:
    if rs.get("AliasTarget"):
        return str(rs["AliasTarget"].get("DNSName", "")).rstrip(".")
    return " ".join(r.get("Value", "") for r in rs.get("ResourceRecords", []))


def _names(rs: dict[str, Any], primary: str, dr: str) -> set[str]:
    value = _target(rs).lower()
    return {r for r in (primary, dr) if r in value}


def _alias(rs: dict[str, Any], src: str) -> Fact:
    a = rs["AliasTarget"]
    return found({"dns_name": a["DNSName"].rstrip("."), "hosted_zone_id": a["HostedZoneId"],
                  "evaluate_target_health": bool(a.get("EvaluateTargetHealth"))}, src)


def _single(rs: dict[str, Any], primary: str, dr: str, src: str) -> Candidate:
    regions = _names(rs, primary, dr)
    c = Candidate(rs["Name"].rstrip("."), rs["Type"], "alias" if rs.get("AliasTarget") else "simple", regions=regions)
    key = "alias" if c.mode == "alias" else "value"
    here = _alias(rs, src) if c.mode == "alias" else found(_target(rs), src)
    other = todo(f"what the record is switched to in {dr} (Route 53 shows only the current value)")
    if regions == {dr}:  # it points at the DR region now: the primary's value is what is unknown
        c.fields = {f"primary_{key}": todo(f"what the record points at in {primary} (it points at {dr} now)"),
                    f"dr_{key}": here}
    else:
        c.fields = {f"primary_{key}": here, f"dr_{key}": other}
        if not regions:
            c.fields[f"primary_{key}"] = todo(f"the record names neither {primary} nor {dr}: check that its value is "
                                              f"the {primary} endpoint", value=here.value, source=src)
    if c.mode == "simple":
        c.fields["ttl"] = found(rs.get("TTL"), src)
    return c


def _group(sets: list[dict[str, Any]], primary: str, dr: str, src: str) -> Candidate:
    first = sets[0]
    name, rtype = first["Name"].rstrip("."), first["Type"]
    regions = set().union(*(_names(rs, primary, dr) for rs in sets))
    by_role = {rs.get("Failover"): rs for rs in sets if rs.get("Failover")}
    if "PRIMARY" in by_role and "SECONDARY" in by_role:
        p, s = by_role["PRIMARY"], by_role["SECONDARY"]
        hc = p.get("HealthCheckId")
        return Candidate(name, rtype, "failover", regions=regions, fields={
            "primary_set_identifier": found(p["SetIdentifier"], f"{src} (Failover PRIMARY)"),
            "dr_set_identifier": found(s["SetIdentifier"], f"{src} (Failover SECONDARY)"),
            "primary_health_check_id": found(hc, f"{src} (the PRIMARY record's health check)") if hc else
            todo("the PRIMARY record has no health check: failover mode inverts it; add one"),
        })
    weighted = [rs for rs in sets if "Weight" in rs]
    if len(weighted) == 2:
        return _weighted(name, rtype, weighted, primary, dr, src)
    kind = "latency" if any("Region" in rs for rs in sets) else "geo" if any("GeoLocation" in rs for rs in sets) else "?"
    return Candidate(name, rtype, kind, regions=regions)


def _weighted(name: str, rtype: str, sets: list[dict[str, Any]], primary: str, dr: str, src: str) -> Candidate:
    """Which of two weighted records is the primary region's: the one whose value names that region."""
    regions = set().union(*(_names(rs, primary, dr) for rs in sets))
    c = Candidate(name, rtype, "weighted", regions=regions)
    named = [rs for rs in sets if _names(rs, primary, dr) == {primary}]
    other = [rs for rs in sets if rs not in named]
    if len(named) != 1:
        c.fields = {"primary_set_identifier": todo(f"which weighted record ({', '.join(rs['SetIdentifier'] for rs in sets)})"
                                                   f" is {primary}'s: their values do not say"),
                    "dr_set_identifier": todo(f"the weighted record of {dr}")}
        return c
    p, d = named[0], other[0]
    c.fields = {"primary_set_identifier": found(p["SetIdentifier"], f"{src} (its value names {primary})"),
                "dr_set_identifier": found(d["SetIdentifier"], f"{src} (the other weighted record)"),
                "primary_weight": found(p["Weight"], f"{src} (its weight now)") if p["Weight"] else
                todo("the primary record's weight outside a drill (it is 0 now)"),
                "dr_weight": found(d["Weight"], f"{src} (its weight now)")}
    return c


def classify(record_sets: list[dict[str, Any]], primary: str, dr: str, src: str) -> list[Candidate]:
    """Every record set of a zone that could be the service's name, with its mode and fields: failover and
    weighted groups, and single records whose value names one of the two regions."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rs in record_sets:
        if rs["Type"] in ("A", "AAAA", "CNAME"):
            groups.setdefault((rs["Name"], rs["Type"]), []).append(rs)
    out = []
    for sets in groups.values():
        if any(rs.get("SetIdentifier") for rs in sets):
            out.append(_group(sets, primary, dr, src))
        elif len(sets) == 1 and _names(sets[0], primary, dr):
            out.append(_single(sets[0], primary, dr, src))
    return out


def _tagged_zones(scope: Scope) -> list[dict[str, Any]]:
    r53 = scope.clients("route53", scope.primary)
    zones = [z for page in r53.get_paginator("list_hosted_zones").paginate() for z in page.get("HostedZones", [])]
    out = []
    for i in range(0, len(zones), 10):  # ListTagsForResources takes ten ids at a time
        ids = {z["Id"].split("/")[-1]: z for z in zones[i:i + 10]}
        tags = r53.list_tags_for_resources(ResourceType="hostedzone", ResourceIds=list(ids))["ResourceTagSets"]
        out += [ids[t["ResourceId"]] for t in tags if tagged(t.get("Tags"), scope)]
    return out


def _candidates(scope: Scope) -> list[tuple[str, Candidate]]:
    r53 = scope.clients("route53", scope.primary)
    found_: list[tuple[str, Candidate]] = []
    for zone in _tagged_zones(scope):
        zone_id = zone["Id"].split("/")[-1]
        sets = [rs for page in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id)
                for rs in page.get("ResourceRecordSets", [])]
        src = f"route53:ListResourceRecordSets {zone_id} ({zone['Name'].rstrip('.')})"
        found_ += [(zone_id, c) for c in classify(sets, scope.primary, scope.dr, src)]
    return found_


def discover_route53(scope: Scope) -> tuple[dict[str, Fact], Fact]:
    """(``aws.route53``, ``aws.public_url``). Of several candidates, one that names both regions wins; if that
    does not single one out, the file names them all in a TODO and decides nothing."""
    cands = [(z, c) for z, c in _candidates(scope) if c.mode in ("simple", "alias", "failover", "weighted")]
    both = [(z, c) for z, c in cands if c.regions == {scope.primary, scope.dr}]
    pick = both if len(both) == 1 else cands
    if len(pick) != 1:
        names = ", ".join(f"{c.name} {c.type} ({c.mode})" for _, c in cands) or "none"
        why = (f"the record that points at {scope.primary} and {scope.dr}: candidates in hosted zones with tag "
               f"{scope.tag}: {names}")
        return {"name": todo(why)}, todo("the service's public URL (https://NAME of the record above)")
    zone_id, c = pick[0]
    src = f"route53:ListHostedZones, tag {scope.tag}"
    record = f"route53:ListResourceRecordSets {zone_id}"  # the record's name and type: from its zone's listing
    r53 = {"mode": found(c.mode, f"the record set's shape ({c.mode})"), "hosted_zone_id": found(zone_id, src),
           "name": found(c.name, record), "type": found(c.type, record), **c.fields}
    url = todo("the scheme (https) and port are assumed: check them", value=f"https://{c.name}",
               source=f"the record's name ({c.name})")
    return r53, url

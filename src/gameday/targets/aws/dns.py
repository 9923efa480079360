"""The service's name and the region it points at, in the five ways teams configure it (``aws.route53.mode``):
``simple`` (one record's value), ``alias`` (one alias record's AliasTarget), ``failover`` (a PRIMARY/SECONDARY
pair: the primary's health check inverted, the way teams test it, or the pair edited), ``weighted`` (two weighted records'
weights) and ``arc_routing_control`` (Route 53 ARC). Each has its switch (either direction: the switch back is
the inverse) and its reading of "which region the name points at", used by ``status``.

A record is changed by UPSERTing the record set as it is, with only what the mode switches replaced
(SetIdentifier, Failover, Weight, HealthCheckId, TTL or AliasTarget kept): an UPSERT without them would
create a conflicting record or be refused. Every record change waits until Route 53 reports it INSYNC.
"""

from __future__ import annotations

from typing import Any

from gameday.config_aws import AliasTarget
from gameday.errors import ConfigError, DriverError
from gameday.targets.aws import wait
from gameday.targets.aws.session import Actions, AwsSession, boundary

__all__ = ["switch", "pointing_at", "record_sets"]


def _norm(name: str) -> str:
    """Route 53 answers names lower-cased with a trailing dot, an ALB's alias with ``dualstack.`` in front."""
    n = name.lower().rstrip(".")
    return n.removeprefix("dualstack.")


def record_sets(s: AwsSession) -> list[dict[str, Any]]:
    """The record sets of the configured name and type (one, or a failover / weighted pair)."""
    r = s.settings.route53
    out: list[dict[str, Any]] = []
    pages = s.client("route53").get_paginator("list_resource_record_sets").paginate(
        HostedZoneId=r.hosted_zone_id, StartRecordName=r.name, StartRecordType=r.type)
    for page in pages:
        for rs in page["ResourceRecordSets"]:
            if _norm(rs["Name"]) != _norm(r.name) or rs["Type"] != r.type:
                return out  # sorted by name and type: past ours
            out.append(rs)
    return out


def _one(s: AwsSession, identifier: str | None = None) -> dict[str, Any]:
    r = s.settings.route53
    sets = record_sets(s)
    found = [rs for rs in sets if rs.get("SetIdentifier") == identifier]
    if not found:
        what = f"{r.name} {r.type}" + (f" with SetIdentifier {identifier!r}" if identifier else "")
        raise ConfigError(f"no record {what} in hosted zone {r.hosted_zone_id} "
                          f"(found: {[rs.get('SetIdentifier') for rs in sets] or 'none'})", field="aws.route53")
    return found[0]


def _alias(a: AliasTarget) -> dict[str, Any]:
    return {"HostedZoneId": a.hosted_zone_id, "DNSName": a.dns_name, "EvaluateTargetHealth": a.evaluate_target_health}


def _upsert(s: AwsSession, acts: Actions, sets: list[dict[str, Any]], comment: str, **shown: Any) -> None:
    """One change batch (atomic in Route 53) UPSERTing ``sets``, then waited for until INSYNC."""
    r = s.settings.route53
    batch = {"Comment": comment, "Changes": [{"Action": "UPSERT", "ResourceRecordSet": rs} for rs in sets]}
    out = acts.do("route53:ChangeResourceRecordSets", f"{r.hosted_zone_id}/{r.name}", lambda: s.client("route53")
                  .change_resource_record_sets(HostedZoneId=r.hosted_zone_id, ChangeBatch=batch), **shown)
    if out is not None:  # the change propagated to every Route 53 name server
        wait.waiter(s, acts, "route53", None, "resource_record_sets_changed",
                    f"the Route 53 change of {r.name} ({comment}) to be INSYNC", Id=out["ChangeInfo"]["Id"])


def _simple(s: AwsSession, acts: Actions, to_dr: bool, comment: str) -> dict[str, Any]:
    r = s.settings.route53
    value = r.dr_value if to_dr else r.primary_value
    _upsert(s, acts, [{"Name": r.name, "Type": r.type, "TTL": r.ttl, "ResourceRecords": [{"Value": value}]}],
            comment, value=value)
    return {"value": value, "ttl": r.ttl}


def _alias_switch(s: AwsSession, acts: Actions, to_dr: bool, comment: str) -> dict[str, Any]:
    r = s.settings.route53
    target = r.dr_alias if to_dr else r.primary_alias
    assert target is not None  # the model requires both
    _upsert(s, acts, [{"Name": r.name, "Type": r.type, "AliasTarget": _alias(target)}], comment,
            AliasTarget=_alias(target))
    return {"alias": target.dns_name}


def _health_check(s: AwsSession) -> dict[str, Any]:
    r = s.settings.route53
    return dict(s.client("route53").get_health_check(HealthCheckId=r.primary_health_check_id)["HealthCheck"])


def _failover_pair(s: AwsSession, swapped: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pair (primary region's record, DR's), checked: the primary's record carries the named health check
    and, unless ``swapped`` (the records switch's DR state), is the PRIMARY."""
    r = s.settings.route53
    primary, dr = _one(s, r.primary_set_identifier), _one(s, r.dr_set_identifier)
    roles = ("SECONDARY", "PRIMARY") if swapped else ("PRIMARY", "SECONDARY")
    if primary.get("Failover") != roles[0] or primary.get("HealthCheckId") != r.primary_health_check_id:
        raise ConfigError(f"the record {r.name} {r.primary_set_identifier!r} is not a {roles[0]} failover record with "
                          f"health check {r.primary_health_check_id}", field="aws.route53.primary_health_check_id")
    if dr.get("Failover") != roles[1]:
        raise ConfigError(f"the record {r.name} {r.dr_set_identifier!r} is not a {roles[1]} failover record",
                          field="aws.route53.dr_set_identifier")
    return primary, dr


def _failover_records(s: AwsSession, acts: Actions, to_dr: bool, comment: str) -> dict[str, Any]:
    """The pair edited: the two records swap PRIMARY and SECONDARY in one atomic change batch (each keeps its
    value, TTL and health check), and back. Route 53 answers the new PRIMARY at once (its health allowing)."""
    r = s.settings.route53
    out = {"switch": "records", "primary_record": r.dr_set_identifier if to_dr else r.primary_set_identifier}
    primary = _one(s, r.primary_set_identifier)
    if primary.get("Failover") == ("SECONDARY" if to_dr else "PRIMARY"):  # switched already (a step run again)
        _failover_pair(s, swapped=to_dr)
        return {**out, "changed": False}
    primary, dr = _failover_pair(s, swapped=not to_dr)
    roles = ("SECONDARY", "PRIMARY") if to_dr else ("PRIMARY", "SECONDARY")
    _upsert(s, acts, [{**primary, "Failover": roles[0]}, {**dr, "Failover": roles[1]}], comment,
            failover={r.primary_set_identifier: roles[0], r.dr_set_identifier: roles[1]})
    return out


def _failover(s: AwsSession, acts: Actions, to_dr: bool) -> dict[str, Any]:
    """The PRIMARY record's health check inverted (Route 53 then answers with the SECONDARY once its checkers
    see it, within RequestInterval x FailureThreshold); put back to not inverted. (Disabling it would not do:
    Route 53 treats a disabled health check as healthy.) The pair itself is checked, never changed."""
    r = s.settings.route53
    _failover_pair(s, swapped=False)
    hc = _health_check(s)
    before = bool(hc["HealthCheckConfig"].get("Inverted"))
    acts.do("route53:UpdateHealthCheck", str(r.primary_health_check_id), lambda: s.client("route53").update_health_check(
        HealthCheckId=r.primary_health_check_id, HealthCheckVersion=hc["HealthCheckVersion"], Inverted=to_dr),
        Inverted=to_dr, inverted_before=before)
    cfg = hc["HealthCheckConfig"]
    return {"health_check": r.primary_health_check_id, "inverted": to_dr, "inverted_before": before,
            "detection_s": cfg.get("RequestInterval", 30) * cfg.get("FailureThreshold", 3)}


def _weighted(s: AwsSession, acts: Actions, to_dr: bool, comment: str) -> dict[str, Any]:
    r = s.settings.route53
    primary, dr = _one(s, r.primary_set_identifier), _one(s, r.dr_set_identifier)
    weights = (0, r.primary_weight) if to_dr else (r.primary_weight, r.dr_weight)
    before = {r.primary_set_identifier: primary.get("Weight"), r.dr_set_identifier: dr.get("Weight")}
    after = dict(zip(before, weights, strict=True))
    _upsert(s, acts, [{**primary, "Weight": weights[0]}, {**dr, "Weight": weights[1]}], comment,
            weights=after, weights_before=before)
    return {"weights": after, "weights_before": before}


def _arc_call(s: AwsSession, what: str, call: Any) -> Any:
    """ARC's advice: a cluster endpoint that fails is retried on the next one; the one that answered is asked
    first the next time."""
    arc = s.settings.route53.arc
    assert arc is not None
    order = sorted(arc.cluster_endpoints, key=lambda ep: ep.endpoint != s.answered.get("arc"))
    errors = []
    for ep in order:
        try:
            with boundary(what):
                got = call(s.endpoint_client("route53-recovery-cluster", ep.region, ep.endpoint))
            s.answered["arc"] = ep.endpoint
            return got
        except DriverError as exc:
            errors.append(f"{ep.endpoint}: {exc}")
    raise DriverError(f"{what}: every ARC cluster endpoint failed: " + "; ".join(errors))


def _arc(s: AwsSession, acts: Actions, to_dr: bool) -> dict[str, Any]:
    arc = s.settings.route53.arc
    assert arc is not None
    states = {arc.dr_control_arn: "On" if to_dr else "Off", arc.primary_control_arn: "Off" if to_dr else "On"}
    entries = [{"RoutingControlArn": k, "RoutingControlState": v} for k, v in states.items()]
    acts.do("route53-recovery-cluster:UpdateRoutingControlStates", list(states), lambda: _arc_call(
        s, "route53-recovery-cluster:UpdateRoutingControlStates",
        lambda c: c.update_routing_control_states(UpdateRoutingControlStateEntries=entries)), states=states)
    if not acts.plan_only:
        wait.until(s, acts, f"the ARC routing controls {states}", lambda: _arc_states(s) == states,
                   lambda: str(_arc_states(s)))
    return {"routing_controls": states}


def _arc_states(s: AwsSession) -> dict[str, str]:
    arc = s.settings.route53.arc
    assert arc is not None
    return {a: str(_arc_call(s, "route53-recovery-cluster:GetRoutingControlState",
                             lambda c, a=a: c.get_routing_control_state(RoutingControlArn=a))["RoutingControlState"])
            for a in (arc.dr_control_arn, arc.primary_control_arn)}


def switch(s: AwsSession, acts: Actions, to_dr: bool) -> dict[str, Any]:
    """Point the name at the DR region (``to_dr``) or back at the primary, the environment's way."""
    r = s.settings.route53
    comment = "gameday: region failover" if to_dr else "gameday: fail back"
    out: dict[str, Any] = {"record": r.name, "mode": r.mode}
    if r.mode == "simple":
        out.update(_simple(s, acts, to_dr, comment))
    elif r.mode == "alias":
        out.update(_alias_switch(s, acts, to_dr, comment))
    elif r.mode == "failover" and r.failover_switch == "records":
        out.update(_failover_records(s, acts, to_dr, comment))
    elif r.mode == "failover":
        out.update(_failover(s, acts, to_dr))
    elif r.mode == "weighted":
        out.update(_weighted(s, acts, to_dr, comment))
    else:
        out.update(_arc(s, acts, to_dr))
    return out


def pointing_at(s: AwsSession) -> str | None:
    """The region the name points at by the mode's own rule, or None when it is neither (a value that is
    neither region's, weights split, routing controls both On or both Off, no record)."""
    cfg, r = s.settings, s.settings.route53
    regions = {True: cfg.dr_region, False: cfg.primary_region}
    if r.mode == "arc_routing_control":
        assert r.arc is not None
        st = _arc_states(s)
        on = (st[r.arc.dr_control_arn] == "On", st[r.arc.primary_control_arn] == "On")
        return regions[on[0]] if on[0] != on[1] else None
    sets = record_sets(s)
    if r.mode == "failover":  # the DR record made the PRIMARY (records), or the primary's health check inverted
        first = next((rs.get("SetIdentifier") for rs in sets if rs.get("Failover") == "PRIMARY"), None)
        if first == r.dr_set_identifier:
            return regions[True]
        return regions[bool(_health_check(s)["HealthCheckConfig"].get("Inverted"))]
    if r.mode == "weighted":
        w = {rs.get("SetIdentifier"): rs.get("Weight") for rs in sets}
        p, d = w.get(r.primary_set_identifier), w.get(r.dr_set_identifier)
        if p is None or d is None or p == d:  # both 0: Route 53 answers with either
            return None
        return regions[d > p]  # where most answers go (0 / n: all of them)
    if not sets:
        return None
    if r.mode == "alias":
        got = _norm((sets[0].get("AliasTarget") or {}).get("DNSName", ""))
        names = {_norm(a.dns_name): dr for a, dr in ((r.primary_alias, False), (r.dr_alias, True)) if a}
    else:
        values: list[dict[str, Any]] = sets[0].get("ResourceRecords") or [{}]
        got = _norm(str(values[0].get("Value", "")))
        names = {_norm(v): dr for v, dr in ((r.primary_value, False), (r.dr_value, True)) if v}
    return regions[names[got]] if got in names else None


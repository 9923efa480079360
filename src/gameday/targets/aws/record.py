"""The record of what an undo needs that AWS itself forgets: a subnet's original NACL association, kept as ONE
document per change (an SSM parameter of the region, ``/gameday/<tag value>/<kind>/<what>``).

Written before the first association is replaced, read by the inverse in any process (``gameday recover`` after
a crashed run), deleted once everything is back. One tag per subnet on the deny-all NACL (the record before it)
ran into the 50-tags-per-resource limit; a document holds up to ``MAX_CHARS`` characters, about 400 subnets
(grouped by original NACL, ids without their ``subnet-`` prefix), twice the default quota of subnets per VPC.
"""

from __future__ import annotations

import json
from typing import Any

from gameday.errors import ConfigError
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["MAX_CHARS", "name", "encode", "put", "get", "delete"]

MAX_CHARS = 8192  # an SSM parameter's value (the Advanced tier; Intelligent-Tiering keeps a small one Standard)


def name(s: AwsSession, kind: str, what: str) -> str:
    return f"/gameday/{s.settings.tag_filter.value}/{kind}/{what}"


def encode(original: dict[str, str]) -> str:
    """{subnet: original NACL} as {NACL: "id id ..."} (subnet ids without their prefix): compact, one document."""
    by_acl: dict[str, list[str]] = {}
    for subnet, acl in sorted(original.items()):
        by_acl.setdefault(acl, []).append(subnet.removeprefix("subnet-"))
    return json.dumps({acl: " ".join(ids) for acl, ids in by_acl.items()}, separators=(",", ":"))


def _decode(text: str) -> dict[str, str]:
    return {f"subnet-{sid}": acl for acl, ids in json.loads(text).items() for sid in ids.split()}


def put(s: AwsSession, acts: Actions, region: str, doc: str, original: dict[str, str]) -> None:
    """Keep ``original`` in the document ``doc``; a record that would not fit is refused before any change."""
    text = encode(original)
    if len(text) > MAX_CHARS:
        raise ConfigError(f"{len(original)} tagged subnets in {region}: their original NACLs take {len(text)} "
                          f"characters, more than one record holds ({MAX_CHARS})", field="aws.tag_filter")
    ssm = s.client("ssm", region)
    acts.do("ssm:PutParameter", doc, lambda: ssm.put_parameter(
        Name=doc, Value=text, Type="String", Tier="Intelligent-Tiering", Overwrite=True,
        Description="gameday: the original NACL of each subnet it cut off (deleted once they are back)"),
        subnets=len(original))


def get(s: AwsSession, region: str, doc: str) -> dict[str, str] | None:
    """The record, None when there is none (nothing was cut off, or it was put back already)."""
    ssm = s.client("ssm", region)
    try:
        got: dict[str, Any] = ssm.get_parameter(Name=doc)
    except ssm.exceptions.ParameterNotFound:
        return None
    return _decode(str(got["Parameter"]["Value"]))


def delete(s: AwsSession, acts: Actions, region: str, doc: str) -> None:
    ssm = s.client("ssm", region)
    acts.do("ssm:DeleteParameter", doc, lambda: ssm.delete_parameter(Name=doc))

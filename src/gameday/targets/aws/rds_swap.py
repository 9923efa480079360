"""The writer swapped to a restored RDS instance, and back (runbooks/pitr-restore.yaml's ``swap_writer``; the
inverse ``discard_restore``).

An RDS endpoint follows the instance's name, so the swap is the rename RDS documents for a restore: the damaged
original is tagged ``gameday:swapped-for`` (the restored instance's name) and renamed
``<name>-pre-restore-<run>`` (kept, never deleted here), then the restored instance takes the original's name
and with it the writer endpoint. ``unswap`` puts the names back from whatever state a killed run left (each
rename is waited for): the restored instance back to its own name, the original back to its name, the tag off.
Aurora clusters are not swapped (refused).
"""

from __future__ import annotations

import time
from typing import Any

from gameday.errors import ConfigError, DriverError
from gameday.targets.aws import rds, wait
from gameday.targets.aws.rds_restore import RESTORE_OF, source
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["SWAPPED_FOR", "swap", "unswap"]

SWAPPED_FOR = "gameday:swapped-for"


def _tags(inst: dict[str, Any] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (inst or {}).get("TagList", [])}


def _get(s: AwsSession, ident: str) -> dict[str, Any] | None:
    return rds.instance(s, s.settings.primary_region, ident)


def _rename(s: AwsSession, acts: Actions, old: str, new: str) -> None:
    client = s.client("rds")
    acts.do("rds:ModifyDBInstance", old, lambda: client.modify_db_instance(
        DBInstanceIdentifier=old, NewDBInstanceIdentifier=new, ApplyImmediately=True), NewDBInstanceIdentifier=new)
    wait.until(s, acts, f"{old} renamed to {new}", lambda: _get(s, old) is None and _get(s, new) is not None)
    wait.waiter(s, acts, "rds", None, "db_instance_available", f"{new} available", failures=rds.TERMINAL_STATES,
                DBInstanceIdentifier=new)


def swap(s: AwsSession, acts: Actions, instance: str, run_id: str) -> dict[str, Any]:
    kind, src_id = source(s)
    if kind == "cluster":
        raise ConfigError("swap_writer on Aurora (renaming clusters) is not driven yet", field="runbook")
    kept = f"{src_id}-pre-restore-{run_id}"
    if not acts.plan_only:
        restored = _get(s, instance)
        if restored is None or _tags(restored).get(RESTORE_OF) != src_id:
            raise DriverError(f"no instance {instance!r} restored from {src_id} to swap in", code="DBInstanceNotFound")
        original = _get(s, src_id)
        assert original is not None
        arn = original["DBInstanceArn"]
        client = s.client("rds")
        acts.do("rds:AddTagsToResource", src_id, lambda: client.add_tags_to_resource(
            ResourceName=arn, Tags=[{"Key": SWAPPED_FOR, "Value": instance}]), **{SWAPPED_FOR: instance})
    else:
        acts.do("rds:AddTagsToResource", src_id, lambda: None, **{SWAPPED_FOR: instance})
    _rename(s, acts, src_id, kept)
    _rename(s, acts, instance, src_id)
    return {"instance": instance, "t_swapped": time.time(), "writer": src_id, "kept_as": kept}


def _kept(s: AwsSession, instance: str) -> dict[str, Any] | None:
    """The original gameday swapped out for ``instance`` (by its tag), under whatever name it has now."""
    found = s.client("rds").describe_db_instances().get("DBInstances", [])
    return next((i for i in found if _tags(i).get(SWAPPED_FOR) == instance), None)


def unswap(s: AwsSession, acts: Actions, instance: str) -> dict[str, Any] | None:
    """The names as they were before ``swap``, from any state it left; None when nothing was swapped."""
    _, src_id = source(s)
    kept = _kept(s, instance)
    if kept is None:
        return None
    holder = _get(s, src_id)
    if holder is not None and _tags(holder).get(RESTORE_OF) == src_id and _get(s, instance) is None:
        _rename(s, acts, src_id, instance)  # the restored instance gives the name (and the endpoint) back
    if kept["DBInstanceIdentifier"] != src_id:
        if _get(s, src_id) is not None:
            raise DriverError(f"cannot give {src_id} back to {kept['DBInstanceIdentifier']}: another instance holds "
                              "the name (run 'gameday recover' again once it is renamed)")
        _rename(s, acts, kept["DBInstanceIdentifier"], src_id)
    client = s.client("rds")
    arn = (_get(s, src_id) or kept)["DBInstanceArn"]  # described again: a rename can change the ARN
    acts.do("rds:RemoveTagsFromResource", src_id, lambda: client.remove_tags_from_resource(
        ResourceName=arn, TagKeys=[SWAPPED_FOR]), TagKeys=[SWAPPED_FOR])
    return {"writer_back": src_id, "from": kept["DBInstanceIdentifier"]}

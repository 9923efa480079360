"""Which steps a rehearsal counts as "done before its turn": only a later step whose effect the environment
shows already (the DR database promoted, the record switched, the DR cache promoted), never one whose effect
it cannot show. Pure logic: a status object, no lab."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from gameday.drill.models import Step
from gameday.drill.rehearse import Responder
from gameday.drill.verify import effect_holds, effect_known
from gameday.targets.base import DbStatus, EnvironmentStatus


def _status(*, cache: bool | None, dns: str = "us-east-1", promoted: bool = False) -> EnvironmentStatus:
    dbs = [DbStatus(name="db-dr", region="us-west-2", zone="us-west-2a", role="primary" if promoted else "standby")]
    return EnvironmentStatus(primary_region="us-east-1", dr_region="us-west-2", zones=["us-east-1a"], dbs=dbs,
                             dns_region=dns, dr_promoted=promoted, cache_dr_promoted=cache)


def _step(sid: str, call: str, **args: Any) -> Step:
    return Step(id=sid, name=sid, kind="action", budget_s=60, done_when="done", call=call, args=args)


def _early(st: EnvironmentStatus) -> list[str]:
    """The step ids the responder's check after the DB promotion journals as done before their turn."""
    seen: list[str] = []
    responder = Responder(ask=lambda _: "", say=lambda _: None)
    responder._record = lambda kind, value: seen.append(value["id"])  # type: ignore[method-assign]
    responder.plan([_step("promote-cache", "promote_cache"), _step("dns", "switch_dns", region="{dr_region}"),
                    _step("rebuild", "rebuild_primary_region")])
    ctx = SimpleNamespace(target=SimpleNamespace(status=lambda: st), variables={"dr_region": "us-west-2"})
    responder._out_of_order(ctx)  # type: ignore[arg-type]
    return seen


def test_a_cache_not_yet_promoted_is_a_step_still_to_do_not_one_done_early():
    assert _early(_status(cache=False, promoted=True)) == []


def test_a_cache_promoted_or_a_record_switched_before_its_prompt_is_done_before_its_turn():
    assert _early(_status(cache=True, promoted=True)) == ["promote-cache"]
    assert _early(_status(cache=False, dns="us-west-2", promoted=True)) == ["dns"]


def test_an_environment_without_a_cache_never_counts_the_cache_promotion_early():
    st = _status(cache=None)
    assert not effect_known("promote_cache", st) and _early(st) == []


def test_a_claimed_cache_promotion_is_checked_against_the_status():
    assert effect_holds("promote_cache", {}, _status(cache=False)) == \
        "the DR cache in us-west-2 is still a replica (not promoted)"
    assert effect_holds("promote_cache", {}, _status(cache=True)) is None

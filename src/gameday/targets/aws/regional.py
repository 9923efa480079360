"""The AWS target's runbook action and observation that need no other part of it: ARC Region switch and the MSK
consumer lag (a mixin of :class:`~gameday.targets.aws.target.AwsTarget`, which has the session and actions)."""

from __future__ import annotations

from typing import Any

from gameday.config_aws import AwsSettings
from gameday.errors import ConfigError
from gameday.targets.aws import lag, region_switch
from gameday.targets.aws.guard import guarded
from gameday.targets.aws.session import Actions, AwsSession

__all__ = ["RegionalActions"]


class RegionalActions:
    session: AwsSession
    actions: Actions
    settings: AwsSettings

    @guarded
    def run_region_switch_plan(self, region: str, action: str = "activate", mode: str = "ungraceful") -> dict[str, Any]:
        """ARC Region switch: the environment's plan executed for ``region`` (StartPlanExecution) and waited for
        until it completed, within the step's time; ARC's actual recovery time is in the result."""
        if region not in (self.settings.primary_region, self.settings.dr_region):
            raise ConfigError(f"unknown region {region!r}", field="region")
        return region_switch.execute(self.session, self.actions, region, action, mode)

    @guarded
    def consumer_lag(self) -> dict[str, Any] | None:
        """MSK consumer lag of the environment's consumer group (CloudWatch), None when it names none."""
        return lag.consumer_lag(self.session)

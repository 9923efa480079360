"""AWS sessions: one explicit boto3 Session per target (never the global default), clients per region,
every mutating call routed through ``Actions`` so a plan (``--dry-run``) records it instead of sending it.

botocore honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), which is how the tests point the
driver at a moto server over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from gameday.config_aws import AwsSettings
from gameday.errors import ConfigError, DriverError

__all__ = ["AwsSession", "Actions", "translate"]


def translate(exc: Exception, what: str) -> DriverError:
    """One translation of AWS errors at the boundary, keeping the AWS error code."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return DriverError(f"{what}: {err.get('Message', exc)}", code=err.get("Code"))
    return DriverError(f"{what}: {exc}")


class AwsSession:
    def __init__(self, settings: AwsSettings) -> None:
        self.settings = settings
        try:
            base = boto3.session.Session(profile_name=settings.profile, region_name=settings.primary_region)
        except ProfileNotFound:
            raise ConfigError(f"the AWS profile {settings.profile!r} is not configured on this machine "
                              "(~/.aws/config or AWS_CONFIG_FILE)", field="aws.profile") from None
        if settings.role_arn:
            creds = base.client("sts").assume_role(RoleArn=settings.role_arn, RoleSessionName="gameday")["Credentials"]
            base = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                         aws_secret_access_key=creds["SecretAccessKey"],
                                         aws_session_token=creds["SessionToken"], region_name=settings.primary_region)
        self.session = base
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.settings.primary_region)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=key[1])
        return self._clients[key]

    def chaosaws_configuration(self, region: str) -> dict[str, Any]:
        """Configuration for chaosaws calls. chaosaws builds its own clients (no endpoint argument, but
        botocore reads AWS_ENDPOINT_URL) and pins the first profile it sees for the whole process: gameday
        passes the same profile every time, so that quirk cannot mix accounts."""
        cfg: dict[str, Any] = {"aws_region": region}
        if self.settings.profile:
            cfg["aws_profile_name"] = self.settings.profile
        return cfg


@dataclass
class Actions:
    """Every change the driver makes goes through ``do``: executed, or only recorded in plan mode."""

    plan_only: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)

    def do(self, api: str, resources: list[str] | str | None, fn: Callable[..., Any], **params: Any) -> Any:
        self.calls.append({"api": api, "resources": resources if isinstance(resources, list) else [str(resources)],
                           "params": params, "executed": not self.plan_only})
        if self.plan_only:
            return None
        try:
            return fn()
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, api) from exc

"""AWS sessions: one explicit boto3 Session per target (never the global default), clients per region,
every mutating call routed through ``Actions`` so a plan (``--dry-run``) records it instead of sending it.

botocore honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), which is how the tests point the
driver at a moto server over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import urllib3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound
from botocore.parsers import ResponseParserError

from gameday.config_aws import AwsSettings
from gameday.errors import ConfigError, DriverError

__all__ = ["AwsSession", "open_session", "regional_client", "Actions", "translate", "boundary", "attempt_all", "transient"]

# Standard retries (throttling and transient errors, with backoff); a region that does not answer is known
# within seconds, not after botocore's default minute per attempt (a status poll must not hang on it).
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard"})
# an endpoint among several (Route 53 ARC's cluster endpoints): one attempt, the next endpoint is the retry
_ONE_OF_MANY = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 1})


def translate(exc: BaseException, what: str) -> DriverError:
    """THE translation of driver errors (boto3, botocore, chaosaws through chaoslib, kubernetes) into a
    DriverError that keeps the service's own error code (``ThrottlingException``, ``404``...)."""
    from chaoslib.exceptions import ActivityFailed
    from kubernetes.client.exceptions import ApiException

    if isinstance(exc, DriverError):
        return exc
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return DriverError(f"{what}: {err.get('Message', exc)}", code=err.get("Code"))
    if isinstance(exc, ApiException):
        return DriverError(f"{what}: {exc.reason or exc}", code=str(exc.status) if exc.status else None)
    if isinstance(exc, (ActivityFailed, Boto3Error)):  # chaosaws and boto3's transfers wrap the AWS error
        return DriverError(f"{what}: {exc}", code=_chaosaws_code(exc))
    if isinstance(exc, (BotoCoreError, ResponseParserError, urllib3.exceptions.HTTPError)):
        # an answer that is not AWS's; a Kubernetes API (urllib3) that does not answer
        return DriverError(f"{what}: {exc}", code=type(exc).__name__)
    return DriverError(f"{what}: {type(exc).__name__}: {exc}")


def _chaosaws_code(exc: BaseException) -> str | None:
    """chaosaws (FailedActivity) and boto3's transfers (S3UploadFailedError) re-raise a ClientError inside their
    ``except``: the code is on the context."""
    ctx = exc.__cause__ or exc.__context__
    return ctx.response.get("Error", {}).get("Code") if isinstance(ctx, ClientError) else None


def _translatable() -> tuple[type[BaseException], ...]:
    from chaoslib.exceptions import ActivityFailed
    from kubernetes.client.exceptions import ApiException

    return (ClientError, BotoCoreError, ResponseParserError, ActivityFailed, ApiException, urllib3.exceptions.HTTPError,
            Boto3Error)


@contextmanager
def boundary(what: str) -> Iterator[None]:
    """Every AWS, chaosaws and Kubernetes call of the driver runs inside one of these: their errors leave
    as DriverError (with the service's error code), whatever raised them."""
    try:
        yield
    except _translatable() as exc:
        raise translate(exc, what) from exc


def open_session(profile: str | None, role_arn: str | None, region: str, *,
                 profile_field: str = "aws.profile") -> boto3.session.Session:
    """THE way gameday builds its boto3 Session: a named profile (or the default chain), then the role assumed
    if one is given. ``profile_field`` is what an unknown profile's error names (a file's field, an option)."""
    try:
        base = boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise ConfigError(f"the AWS profile {profile!r} is not configured on this machine "
                          "(~/.aws/config or AWS_CONFIG_FILE)", field=profile_field) from None
    if role_arn:
        with boundary("sts:AssumeRole"):
            creds = base.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="gameday")["Credentials"]
        base = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                     aws_secret_access_key=creds["SecretAccessKey"],
                                     aws_session_token=creds["SessionToken"], region_name=region)
    return base


def regional_client(session: boto3.session.Session, service: str, region: str) -> Any:
    """A client of ``service`` in ``region`` with gameday's timeouts and retries."""
    return session.client(service, region_name=region, config=_CLIENT_CONFIG)


class AwsSession:
    def __init__(self, settings: AwsSettings) -> None:
        self.settings = settings
        self.session = open_session(settings.profile, settings.role_arn, settings.primary_region)
        self._clients: dict[tuple[str, str], Any] = {}
        self.answered: dict[str, str] = {}  # of several endpoints (Route 53 ARC's), the one that last answered

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.settings.primary_region)
        if key not in self._clients:
            self._clients[key] = regional_client(self.session, service, key[1])
        return self._clients[key]

    def endpoint_client(self, service: str, region: str, endpoint_url: str) -> Any:
        """A client of an endpoint the environment names (Route 53 ARC's cluster endpoints are per cluster)."""
        key = (service, f"{region} {endpoint_url}")
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=region, endpoint_url=endpoint_url,
                                                     config=_ONE_OF_MANY)
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
    waits: list[str] = field(default_factory=list)  # what each finished wait waited for, and how long

    def do(self, api: str, resources: list[str] | str | None, fn: Callable[..., Any], **params: Any) -> Any:
        self.calls.append({"api": api, "resources": resources if isinstance(resources, list) else [str(resources)],
                           "params": params, "executed": not self.plan_only})
        if self.plan_only:
            return None
        with boundary(api):
            return fn()


def attempt_all(parts: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run every undo in ``parts`` (in order) whatever another raised; DriverError naming each that failed."""
    out: dict[str, Any] = {}
    failed: list[str] = []
    for name, undo in parts.items():
        try:
            out[name] = undo()
        except Exception as exc:  # noqa: BLE001 - the other parts must still be undone
            failed.append(f"{name}: {exc}")
    if failed:
        raise DriverError("the restore is incomplete (run 'gameday recover' again): " + "; ".join(failed))
    return out


# Codes of errors that say "not now" rather than "never": a wait treats them as not yet.
_TRANSIENT = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
              "RequestThrottled", "InternalError", "InternalFailure", "ServiceUnavailable", "RequestTimeout",
              "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
              "MaxRetryError", "ProtocolError", "429"}


def transient(exc: DriverError) -> bool:
    """A throttle, a 5xx, or no answer at all: worth asking again within a wait."""
    code = exc.code or ""
    return code in _TRANSIENT or (code.isdigit() and code.startswith("5"))

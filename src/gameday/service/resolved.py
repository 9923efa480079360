"""A service description made ready to use: ``${VAR}`` expanded, templates compiled, the URL and TLS settled.

Every check a user can fail happens in :meth:`Service.resolve`, before anything runs: unknown
placeholders, a body that is not JSON once filled, an unset variable, a URL scheme gameday cannot
speak. Expanded secrets are remembered (``secrets``) so nothing gameday prints or writes shows them.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from urllib.parse import quote, urlparse

from gameday.errors import ConfigError
from gameday.service.ids import IdScheme
from gameday.service.spec import ServiceSpec
from gameday.service.template import BODY_NAMES, EVENT_NAMES, HEADER_NAMES, PATH_NAMES, READ_NAMES, Template, expand_env

__all__ = ["Service", "iso", "check_url", "SERVICE_ENV", "ANY_VARIABLE"]


class _AnyVariable(dict[str, str]):
    """An environment in which every variable is set (to a placeholder that survives JSON and URLs)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        return "set"


ANY_VARIABLE: Mapping[str, str] = _AnyVariable()

SERVICE_ENV = "GAMEDAY_SERVICE"  # how a runner hands the description to its load processes (never a file)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Service:
    spec: ServiceSpec
    url: str
    headers: dict[str, str]
    write_path: Template
    body: Template
    event: Template
    read_path: Template | None
    store_dsn: str | dict[str, str] | None
    ca_file: str | None
    secrets: tuple[str, ...] = field(default=(), repr=False)
    cache_url: str | None = field(default=None, repr=False)  # the service's own cache (``cache:``), token included

    @property
    def uses_uuid(self) -> bool:
        return "event_uuid" in self.event.names

    @property
    def tls(self) -> bool:
        return self.url.startswith("https://")

    @classmethod
    def resolve(cls, spec: ServiceSpec, *, url: str | None, file: str | None = None, ca_file: str | None = None,
                where: str = "service", environ: Mapping[str, str] | None = None) -> Service:
        """``environ`` (default: the process environment) supplies ``${VAR}``; :data:`ANY_VARIABLE` checks
        everything but whether the variables are set (what loading a file does; running checks them)."""
        secrets: list[str] = []

        def env(value: str, name: str) -> str:
            out = expand_env(value, file=file, field=f"{where}.{name}", environ=environ)
            if out != value:
                secrets.extend(v for v in _expanded(value, out) if len(v) >= 4)
            return out

        target = env(spec.url, "url") if spec.url else url
        if target is None:
            raise ConfigError("the service has no url (and the environment gives none)", file=file, field=f"{where}.url")
        check_url(target, file, f"{where}.url")
        headers = {k: env(v, f"headers.{k}") for k, v in spec.headers.items()}
        for k, v in headers.items():
            Template(v, HEADER_NAMES, file=file, field=f"{where}.headers.{k}")
        dsn = spec.store.dsn if spec.store is not None else None
        if isinstance(dsn, str):
            dsn = env(dsn, "store.dsn")
        elif isinstance(dsn, dict):
            dsn = {r: env(v, f"store.dsn.{r}") for r, v in dsn.items()}
        cache_url = _cache_url(spec, env, file, where)  # before the secrets are taken: its token is one
        svc = cls(spec, target.rstrip("/"), headers,
                  Template(spec.write.path, PATH_NAMES, file=file, field=f"{where}.write.path"),
                  Template(spec.write.body, BODY_NAMES, file=file, field=f"{where}.write.body"),
                  Template(spec.write.event, EVENT_NAMES, file=file, field=f"{where}.write.event"),
                  None if spec.read is None else Template(spec.read.path, READ_NAMES, file=file,
                                                          field=f"{where}.read.path"),
                  dsn, env(spec.tls.ca_file, "tls.ca_file") if spec.tls.ca_file else ca_file, tuple(secrets),
                  cache_url)
        svc._check_body(file, where)
        return svc

    def _check_body(self, file: str | None, where: str) -> None:
        if "events" not in self.body.names:
            raise ConfigError("the body needs {{events}} (where the batch's events go)", file=file,
                              field=f"{where}.write.body")
        sample = self.write_body(IdScheme("check"), 0, 2, time.time(), "check")
        try:
            json.loads(sample)
        except ValueError as exc:
            raise ConfigError(f"not valid JSON once filled ({exc.args[0].split(':')[0]}): {sample[:120]}",
                              file=file, field=f"{where}.write.body / {where}.write.event") from None

    # ---- requests -----------------------------------------------------------------------------
    def event_values(self, ids: IdScheme, n: int, ts: float, run_id: str) -> dict[str, str]:
        return {"event_id": ids.event_id(n), "event_uuid": ids.event_uuid(n), "seq": str(n), "ts": f"{ts:.3f}",
                "iso_ts": iso(ts), "run_id": run_id}

    def write_body(self, ids: IdScheme, first: int, count: int, ts: float, run_id: str) -> str:
        events = ",".join(self.event.render(self.event_values(ids, n, ts, run_id)) for n in range(first, first + count))
        return self.body.render({"events": events, "ts": f"{ts:.3f}", "iso_ts": iso(ts), "run_id": run_id})

    def request_headers(self, run_id: str) -> dict[str, str]:
        out = {"Content-Type": self.spec.write.content_type}
        out.update({k: v.replace("{{run_id}}", run_id) for k, v in self.headers.items()})
        return out

    def write_target(self, run_id: str) -> str:
        return self.write_path.render({"run_id": run_id})

    def read_target(self, ids: IdScheme, n: int, run_id: str) -> str | None:
        if self.read_path is None:
            return None
        return self.read_path.render({"event_id": ids.event_id(n), "event_uuid": ids.event_uuid(n), "seq": str(n),
                                      "run_id": run_id})

    def write_ok(self, status: int) -> bool:
        return status in self.spec.write.ok

    def read_ok(self, status: int) -> bool:
        return self.spec.read is not None and status in self.spec.read.ok

    @cached_property
    def ssl_context(self) -> ssl.SSLContext | None:
        """TLS for an https URL: verification on by default (SNI from the URL's host), a CA file, or off."""
        if not self.tls:
            return None
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if not self.spec.tls.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def handoff(self) -> str:
        """The description for ``$GAMEDAY_SERVICE``: ``${VAR}`` left unexpanded, the child expands them."""
        return json.dumps({"spec": self.spec.model_dump(mode="json"), "url": self.url, "ca_file": self.ca_file})

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def store_dsn_for(self, region: str) -> str | None:
        if isinstance(self.store_dsn, dict):
            return self.store_dsn.get(region)
        return self.store_dsn


def _cache_url(spec: ServiceSpec, env: Callable[[str, str], str], file: str | None, where: str) -> str | None:
    """The ``cache:`` section as one client URL: ``rediss://`` with TLS, the token as the password."""
    if spec.cache is None:
        return None
    u = urlparse(env(spec.cache.url, "cache.url"))
    if u.scheme not in ("redis", "rediss") or not u.hostname:
        raise ConfigError(f"{spec.cache.url!r} is not a redis:// or rediss:// URL", file=file, field=f"{where}.cache.url")
    scheme = "rediss" if spec.cache.tls or u.scheme == "rediss" else "redis"
    token = env(spec.cache.auth_token, "cache.auth_token") if spec.cache.auth_token else None
    auth = f":{quote(token, safe='')}@" if token else ""
    return f"{scheme}://{auth}{u.hostname}:{u.port or 6379}{u.path}"


def check_url(url: str, file: str | None, field_name: str) -> None:
    """An http:// or https:// URL with a host; anything else is a ConfigError (gameday speaks no other)."""
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ConfigError(f"{url!r} is not an http:// or https:// URL", file=file, field=field_name)


def _expanded(template: str, value: str) -> list[str]:
    """The substituted parts of ``value`` (what the ``${VAR}`` became): the secrets to hide."""
    import re

    pattern = "^" + "".join("(.*?)" if p.startswith("${") else re.escape(p)
                            for p in re.split(r"(\$\{[A-Za-z_][A-Za-z0-9_]*\})", template) if p) + "$"
    m = re.match(pattern, value, re.S)
    return [g for g in m.groups() if g] if m else [value]

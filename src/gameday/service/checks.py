"""Checks of the lab-hosted service description (``lab.service``), made when the environment file loads."""

from __future__ import annotations

from collections.abc import Mapping

from gameday.service.spec import LabServiceSpec
from gameday.service.template import Template, expand_env

__all__ = ["LAB_SERVICE_NAMES", "check_lab_service"]

# {{python}}: the Python gameday runs on (a virtualenv's), so a Python service finds what that venv installed
LAB_SERVICE_NAMES = frozenset({"port", "dsn", "region", "zone", "node", "tls_cert", "tls_key", "python",
                               "cache_url"})


def check_lab_service(spec: LabServiceSpec, file: str | None, environ: Mapping[str, str] | None = None) -> None:
    """Placeholders and ``${VAR}`` of ``lab.service``, before the lab starts (ConfigError names the field)."""
    for name, argv in (("command", spec.command), ("setup", spec.setup or [])):
        for i, arg in enumerate(argv):
            Template(arg, LAB_SERVICE_NAMES, file=file, field=f"lab.service.{name}[{i}]")
    for k, v in spec.env.items():  # the lab is started with the environment it is checked in
        expand_env(v, file=file, field=f"lab.service.env.{k}", environ=environ)

"""The lockout guard: a region isolation must never cut off the machine running gameday (it could then
neither run the runbook nor undo the isolation), as Steadybit's agent refuses to isolate its own host.

The runner's addresses are its interfaces' (psutil) plus ``aws.runner_addresses`` (a NAT or proxy
address the interfaces do not show); any of them inside a subnet the fault would isolate is refused
before anything changes. The runner belongs in the DR region or in CI.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from gameday.errors import ConfigError

__all__ = ["runner_addresses", "check_lockout"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def runner_addresses(extra: list[str]) -> list[Address]:
    import psutil

    found: list[Address] = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            try:
                found.append(ipaddress.ip_address(a.address.split("%")[0]))
            except ValueError:
                continue  # a MAC address
    return found + [ipaddress.ip_address(x) for x in extra]


def _cidrs(subnet: dict[str, Any]) -> list[str]:
    v6 = [c["Ipv6CidrBlock"] for c in subnet.get("Ipv6CidrBlockAssociationSet", []) if c.get("Ipv6CidrBlock")]
    return [c for c in [subnet.get("CidrBlock"), *v6] if c]


def check_lockout(subnets: list[dict[str, Any]], addresses: list[Address], what: str) -> None:
    """ConfigError (exit 2) when one of ``addresses`` lies in one of ``subnets``; nothing has changed yet."""
    for sn in subnets:
        for cidr in _cidrs(sn):
            net = ipaddress.ip_network(cidr, strict=False)
            hit = next((a for a in addresses if a.version == net.version and a in net), None)
            if hit is not None:
                raise ConfigError(f"refusing {what}: this machine's address {hit} lies in subnet {sn['SubnetId']} "
                                  f"({cidr}), which it would cut off (gameday could neither run the runbook nor undo "
                                  "it); run gameday from the DR region or from CI", field="aws.runner_addresses")

"""The configured shape of the lab, derived from the environment file (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

from gameday.config import LabSettings

__all__ = ["DbSpec", "NodeSpec", "Shape", "shape_of", "resolve_zone"]


@dataclass(frozen=True)
class DbSpec:
    name: str
    region: str
    zone: str
    role: str  # configured role: primary | sync-standby | dr-replica


@dataclass(frozen=True)
class NodeSpec:
    region: str
    zone: str
    capacity_type: str  # on-demand | spot


@dataclass(frozen=True)
class Shape:
    primary_region: str
    dr_region: str
    zones: tuple[str, ...]  # full zone names of the primary region
    dr_zones: tuple[str, ...]
    dbs: tuple[DbSpec, ...]
    nodes: tuple[NodeSpec, ...]  # the primary region's nodes and the DR region's warm nodes

    @property
    def all_zones(self) -> tuple[str, ...]:
        return self.zones + self.dr_zones

    def region_of_zone(self, zone: str) -> str:
        return self.primary_region if zone in self.zones else self.dr_region

    def db(self, role: str) -> DbSpec:
        return next(d for d in self.dbs if d.role == role)


def shape_of(s: LabSettings) -> Shape:
    p, dr = s.regions.primary, s.regions.dr
    zones = tuple(f"{p}{z}" for z in s.regions.zones)
    dr_zones = tuple(f"{dr}{z}" for z in s.regions.dr_zones)
    dbs = (
        DbSpec(f"db-{zones[0]}", p, zones[0], "primary"),
        DbSpec(f"db-{zones[1]}", p, zones[1], "sync-standby"),
        DbSpec(f"db-{dr_zones[0]}", dr, dr_zones[0], "dr-replica"),
    )
    nodes: list[NodeSpec] = []
    for z in zones:
        nodes += [NodeSpec(p, z, "on-demand")] * s.nodes.on_demand_per_zone
        nodes += [NodeSpec(p, z, "spot")] * s.nodes.spot_per_zone
    for i in range(s.nodes.dr_warm):
        nodes.append(NodeSpec(dr, dr_zones[i % len(dr_zones)], "on-demand"))
    return Shape(p, dr, zones, dr_zones, dbs, tuple(nodes))


def resolve_zone(shape: Shape, zone: str) -> str:
    """Accept 'us-east-1b' or 'b' (a zone of the primary region); ValueError names the valid ones."""
    if zone in shape.all_zones:
        return zone
    full = f"{shape.primary_region}{zone}"
    if full in shape.zones:
        return full
    raise ValueError(f"unknown zone {zone!r}; expected one of: {', '.join(shape.all_zones)}")

"""Who an alert reaches, as pure geometry. Fails closed: no area or no point reaches nobody."""

from __future__ import annotations

from bot.domain.geo import Point, haversine_km
from bot.domain.incidents import RiskLevel
from bot.domain.membership import ServiceArea

DEFAULT_RADIUS_KM: dict[RiskLevel, float] = {
    RiskLevel.LOW: 10.0,
    RiskLevel.MEDIUM: 25.0,
    RiskLevel.HIGH: 50.0,
}
REACH_CHOICES_KM: tuple[float, ...] = (10.0, 25.0, 50.0, 100.0)


def area_point(area: ServiceArea) -> Point | None:
    if area.latitude is None or area.longitude is None or area.radius_km is None:
        return None
    return Point(area.latitude, area.longitude)


def reaches(area: ServiceArea, point: Point, radius_km: float) -> bool:
    """The member's area (a circle) meets the search zone (a circle of ``radius_km``)."""
    centre = area_point(area)
    if centre is None or area.radius_km is None:
        return False
    return haversine_km(centre, point) <= area.radius_km + radius_km


def covers(area: ServiceArea, point: Point) -> bool:
    """The member's own area contains the point (used to pick the vetting coordinators)."""
    centre = area_point(area)
    if centre is None or area.radius_km is None:
        return False
    return haversine_km(centre, point) <= area.radius_km

"""Coordinates and distances. Pure math: invalid input is refused, never guessed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.domain.errors import InvalidInput

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        validate_point(self.latitude, self.longitude)


def validate_point(latitude: float, longitude: float) -> None:
    for value in (latitude, longitude):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput("coordinates must be numbers")
        if not math.isfinite(value):
            raise InvalidInput("coordinates must be finite")
    if not -90.0 <= latitude <= 90.0:
        raise InvalidInput("latitude must be between -90 and 90")
    if not -180.0 <= longitude <= 180.0:
        raise InvalidInput("longitude must be between -180 and 180")


def validate_optional_point(latitude: object, longitude: object) -> None:
    """Both absent is fine (no usable location); half a point or a bad one is not."""
    if latitude is None and longitude is None:
        return
    validate_point(latitude, longitude)  # type: ignore[arg-type]  # None fails as not a number


def validate_radius_km(radius_km: float, *, maximum: float = 500.0) -> float:
    if isinstance(radius_km, bool) or not isinstance(radius_km, int | float):
        raise InvalidInput("radius must be a number")
    if not math.isfinite(radius_km) or radius_km <= 0 or radius_km > maximum:
        raise InvalidInput(f"radius must be above 0 and at most {maximum:g} km")
    return float(radius_km)


def haversine_km(a: Point, b: Point) -> float:
    return haversine_coords(a.latitude, a.longitude, b.latitude, b.longitude)


def haversine_coords(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    """Great-circle distance in km between already-validated coordinates."""
    lat1, lon1, lat2, lon2 = map(math.radians, (lat_a, lon_a, lat_b, lon_b))
    dlat = lat2 - lat1
    dlon = lon2 - lon1
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))

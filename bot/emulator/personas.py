"""Who is who in the sandbox, for the web chat: persona labels, areas and named places.

The emulator itself only knows Telegram users. The sandbox (``bot.sandbox_world``)
describes the seeded people here so the web chat can offer "Residence staff, Maple
House" rather than a bare user id, draw the distance from a pin to a persona's area,
and offer named places to share as a location. Nothing here reaches the bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Area:
    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class Persona:
    user_id: int
    label: str  # e.g. "Dana Whitefeather, residence staff (Maple House)"
    role: str  # the bot's role value, or "stranger"
    area: Area | None = None
    order: int = 0  # position in the web chat's persona list


@dataclass(frozen=True, slots=True)
class NamedPlace:
    name: str
    latitude: float
    longitude: float


@dataclass
class Personas:
    """The sandbox's cast and places; empty outside the sandbox."""

    people: dict[int, Persona] = field(default_factory=dict)
    places: list[NamedPlace] = field(default_factory=list)

    def add(self, persona: Persona) -> None:
        self.people[persona.user_id] = persona

    def add_place(self, name: str, latitude: float, longitude: float) -> None:
        self.places.append(NamedPlace(name, latitude, longitude))

    def ordered(self) -> list[Persona]:
        return sorted(self.people.values(), key=lambda p: (p.order, p.user_id))

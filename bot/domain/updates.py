"""Updates on an incident (text, a place, a photo) and the sightings coordinators confirm.

An update is what one member saw or learnt, posted while the alert is active. A
coordinator who is neither its poster nor the alert's raiser may confirm an update
that has a place as a *sighting*: the alert's last-known point moves there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

TEXT_MAX = 1000
LABEL_MAX = 200

# Outbox kinds of the messages that carry an update or a sighting. They concern the
# youth, so /found pulls them back with the alert (see fanout.ALERT_KINDS).
KIND_UPDATE = "update"  # the update itself (text, or the photo with the text as caption)
KIND_UPDATE_MAP = "update_map"  # its place, as a venue or a location right after it
KIND_SIGHTING = "sighting"  # "confirmed sighting" notices
KIND_SIGHTING_MAP = "sighting_map"  # the confirmed place, as a venue or a location
UPDATE_KINDS = (KIND_UPDATE, KIND_UPDATE_MAP, KIND_SIGHTING, KIND_SIGHTING_MAP)

# Incident codes as people type them (see incidents.incident_code): HW- and 5 characters.
CODE_PATTERN = re.compile(r"\bHW-[A-Z0-9]{5}\b", re.IGNORECASE)


def codes_named(text: str | None) -> set[str]:
    """Every incident code written in ``text``, upper-cased."""
    return {m.group(0).upper() for m in CODE_PATTERN.finditer(text or "")}


@dataclass(frozen=True, slots=True)
class IncidentUpdate:
    id: int
    incident_id: int
    member_id: int
    created_at: datetime
    text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_label: str | None = None
    photo_file_id: str | None = None
    confirmed_by: int | None = None
    confirmed_at: datetime | None = None

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

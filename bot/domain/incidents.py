"""Youth profiles and incidents (missing-youth alerts): states, risk and versions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from bot.domain.errors import IllegalTransition


class IncidentStatus(StrEnum):
    PENDING = "pending"  # raised, waiting for a coordinator's vetting
    ACTIVE = "active"  # approved and sent
    REJECTED = "rejected"
    RESOLVED = "resolved"  # found; details pulled back


INCIDENT_TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.PENDING: frozenset(
        {IncidentStatus.ACTIVE, IncidentStatus.REJECTED, IncidentStatus.RESOLVED}
    ),
    # An edit after approval sends it back to vetting: ACTIVE -> PENDING.
    IncidentStatus.ACTIVE: frozenset({IncidentStatus.PENDING, IncidentStatus.RESOLVED}),
    IncidentStatus.REJECTED: frozenset(),
    IncidentStatus.RESOLVED: frozenset(),
}

OPEN_STATUSES = (IncidentStatus.PENDING, IncidentStatus.ACTIVE)


def normalise_code(text: str) -> str:
    """``hw-abcde``, ``HW-ABCDE`` or ``ABCDE`` all name alert HW-ABCDE."""
    code = text.strip().upper()
    return code if code.startswith("HW-") else f"HW-{code}"


def check_transition(current: IncidentStatus, target: IncidentStatus) -> None:
    if target not in INCIDENT_TRANSITIONS[current]:
        raise IllegalTransition(f"incident cannot go from {current} to {target}")


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


RISK_ORDER = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)

# The short questionnaire staff answer; each "yes" raises the level. The first two
# alone make it high: exploitation and immediate danger are what the first hours are for.
RISK_QUESTIONS: tuple[str, ...] = (
    "risk_exploitation",
    "risk_danger",
    "risk_health",
    "risk_out_of_character",
)
HIGH_ON_ANY = frozenset({"risk_exploitation", "risk_danger"})


def assess_risk(answers: Mapping[str, Any], *, age: int | None = None) -> RiskLevel:
    yes = {k for k in RISK_QUESTIONS if answers.get(k) is True}
    if yes & HIGH_ON_ANY or len(yes) >= 2:
        return RiskLevel.HIGH
    if yes or (age is not None and age < 13):
        return RiskLevel.MEDIUM
    return RiskLevel.LOW


class Outcome(StrEnum):
    RETURNED = "returned"
    FOUND_SAFE = "found_safe_elsewhere"
    HOSPITAL = "in_hospital"
    WITH_POLICE = "with_police"
    OTHER = "other"


class LocationSource(StrEnum):
    SHARED = "shared"
    RESIDENCE = "residence"
    ADDRESS = "address"
    SIGHTING = "sighting"  # a coordinator confirmed a member's update there
    NONE = "none"


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Youth:
    id: int
    residence_org_id: int
    legal_name: str
    preferred_name: str
    pronouns: str | None = None
    date_of_birth: date | None = None
    photo_file_id: str | None = None
    description: str | None = None
    languages: str | None = None
    indigenous_community: str | None = None
    service_preference: str | None = None
    medical_needs: str | None = None
    places: tuple[Place, ...] = ()
    associates: tuple[str, ...] = ()
    risk_notes: str | None = None
    active: bool = True
    is_drill: bool = False  # a drill's fictional youth: never listed with real profiles


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    code: str
    status: IncidentStatus
    raised_by: int
    residence_org_id: int | None
    youth_id: int | None
    created_at: datetime
    version: int
    content_hash: str
    last_seen_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_label: str | None = None
    location_source: LocationSource = LocationSource.NONE
    clothing: str | None = None
    circumstances: str | None = None
    photo_file_id: str | None = None
    subject_name: str | None = None
    subject_age: int | None = None
    subject_description: str | None = None
    risk_level: RiskLevel = RiskLevel.MEDIUM
    risk_answers: dict[str, Any] = field(default_factory=dict)
    police_told: bool | None = None
    police_report_number: str | None = None
    reach_radius_km: float | None = None
    extra_org_ids: tuple[int, ...] = ()
    approved_version: int | None = None
    approved_hash: str | None = None
    approved_by: int | None = None
    approved_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: Outcome | None = None
    is_drill: bool = False
    occurrence_reported_at: datetime | None = None
    occurrence_reported_by: int | None = None

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def approval_current(self) -> bool:
        """An approval holds only for the exact version and content it approved."""
        return self.approved_version == self.version and self.approved_hash == self.content_hash


# Fields whose change needs a fresh approval before anything is sent again: who the
# alert reaches and what it says about the youth. The police report number is not one
# of them: it is recorded after the fact (/police) and must not send an active alert
# back to vetting (migration 0009 recomputed the stored hashes without it).
SENT_FIELDS = (
    "youth_id",
    "subject_name",
    "subject_age",
    "subject_description",
    "last_seen_at",
    "latitude",
    "longitude",
    "location_label",
    "clothing",
    "circumstances",
    "photo_file_id",
    "risk_level",
    "reach_radius_km",
    "extra_org_ids",
)


def sent_fields(incident: Incident) -> dict[str, Any]:
    """The fields of an incident whose change needs a new approval (see SENT_FIELDS)."""
    values = {name: getattr(incident, name) for name in SENT_FIELDS}
    values["extra_org_ids"] = list(incident.extra_org_ids)
    return values


def content_hash(values: Mapping[str, Any]) -> str:
    body = json.dumps(
        {k: values.get(k) for k in SENT_FIELDS}, sort_keys=True, default=str, separators=(",", ":")
    )
    return hashlib.sha256(body.encode()).hexdigest()


def incident_code(token: str) -> str:
    """A short code people can read out on the phone: ``HW-`` and 5 unambiguous characters."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    digest = hashlib.sha256(token.encode()).digest()
    return "HW-" + "".join(alphabet[b % len(alphabet)] for b in digest[:5])

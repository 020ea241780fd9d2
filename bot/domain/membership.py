"""Organisations, roles, members and invites: the vocabulary of who may take part."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.errors import IllegalTransition


class OrgKind(StrEnum):
    RESIDENCE = "residence"
    INTERVENTION_TEAM = "intervention_team"
    POLICE_SERVICE = "police_service"
    CHILD_PROTECTION_AGENCY = "child_protection_agency"
    COMMUNITY_AGENCY = "community_agency"


class Role(StrEnum):
    RESIDENCE_STAFF = "residence_staff"
    RESPONDER = "responder"
    POLICE = "police"
    CHILD_PROTECTION = "child_protection"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class MemberStatus(StrEnum):
    REGISTERING = "registering"  # opened an invite, still answering questions
    PENDING = "pending"  # finished registering, waiting for a coordinator
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"
    REJECTED = "rejected"


class RegistrationStep(StrEnum):
    NAME = "name"
    ORG = "org"
    AREA = "area"
    RADIUS = "radius"
    DONE = "done"


# One transition table per entity; anything else is an IllegalTransition.
MEMBER_TRANSITIONS: dict[MemberStatus, frozenset[MemberStatus]] = {
    MemberStatus.REGISTERING: frozenset({MemberStatus.PENDING, MemberStatus.REMOVED}),
    MemberStatus.PENDING: frozenset(
        {MemberStatus.ACTIVE, MemberStatus.REJECTED, MemberStatus.REMOVED}
    ),
    MemberStatus.ACTIVE: frozenset({MemberStatus.SUSPENDED, MemberStatus.REMOVED}),
    MemberStatus.SUSPENDED: frozenset({MemberStatus.ACTIVE, MemberStatus.REMOVED}),
    MemberStatus.REMOVED: frozenset(),
    MemberStatus.REJECTED: frozenset(),
}


def check_transition(current: MemberStatus, target: MemberStatus) -> None:
    if target not in MEMBER_TRANSITIONS[current]:
        raise IllegalTransition(f"member cannot go from {current} to {target}")


# Which roles may belong to which kind of organisation.
ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.RESIDENCE_STAFF: frozenset({OrgKind.RESIDENCE}),
    Role.RESPONDER: frozenset(
        {OrgKind.INTERVENTION_TEAM, OrgKind.COMMUNITY_AGENCY, OrgKind.CHILD_PROTECTION_AGENCY}
    ),
    Role.POLICE: frozenset({OrgKind.POLICE_SERVICE, OrgKind.INTERVENTION_TEAM}),
    Role.CHILD_PROTECTION: frozenset({OrgKind.CHILD_PROTECTION_AGENCY, OrgKind.INTERVENTION_TEAM}),
    Role.COORDINATOR: frozenset(OrgKind),
    Role.ADMIN: frozenset(OrgKind),
}

# Who may invite whom. Admins may invite anyone; coordinators everyone but admins.
INVITABLE_BY: dict[Role, frozenset[Role]] = {
    Role.ADMIN: frozenset(Role),
    Role.COORDINATOR: frozenset(
        {
            Role.RESIDENCE_STAFF,
            Role.RESPONDER,
            Role.POLICE,
            Role.CHILD_PROTECTION,
            Role.COORDINATOR,
        }
    ),
}

VETTING_ROLES: frozenset[Role] = frozenset({Role.COORDINATOR, Role.ADMIN})


def can_invite(inviter: Role, role: Role) -> bool:
    return role in INVITABLE_BY.get(inviter, frozenset())


def can_vet_members(role: Role) -> bool:
    return role in VETTING_ROLES


def can_manage(actor: Role, target: Role) -> bool:
    """Suspend, reinstate or remove: admins anyone, coordinators non-admins."""
    if actor is Role.ADMIN:
        return True
    return actor is Role.COORDINATOR and target is not Role.ADMIN


def role_fits_org(role: Role, kind: OrgKind) -> bool:
    return kind in ROLE_ORG_KINDS[role]


@dataclass(frozen=True, slots=True)
class Organisation:
    id: int
    kind: OrgKind
    name: str
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ServiceArea:
    """A point and radius, and/or named areas (each itself a configured point and radius)."""

    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    names: tuple[str, ...] = ()

    @property
    def has_point(self) -> bool:
        return (
            self.latitude is not None and self.longitude is not None and self.radius_km is not None
        )

    @property
    def is_empty(self) -> bool:
        return not self.has_point and not self.names


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    telegram_id: int
    name: str
    role: Role
    org_id: int | None
    status: MemberStatus
    area: ServiceArea = field(default_factory=ServiceArea)
    registration_step: RegistrationStep | None = None
    created_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status is MemberStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    role: Role
    org_id: int
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by_telegram_id: int | None = None


@dataclass(frozen=True, slots=True)
class Group:
    chat_id: int
    title: str
    registered_by: int | None
    active: bool = True


_EVERYONE = ("help", "whoami", "cancel")
_KEEPERS = ("missing", "found", "edit", "youth", "addyouth")
_VETTERS = ("invite", "members", "suspend", "reinstate", "remove", "orgs")

# The command menu (and /help) each role sees; nothing else is offered to them.
_VIEWS = ("incidents", "incident")  # every role: what they may see is decided per incident
_TASKS = (*_VIEWS, "tasks", "mytasks", "note", "update")
_TASK_MANAGERS = (*_TASKS, "newtask", "acks")
ROLE_COMMANDS: dict[Role, tuple[str, ...]] = {
    Role.RESIDENCE_STAFF: (*_EVERYONE, *_KEEPERS, *_TASKS, "police"),
    Role.RESPONDER: (*_EVERYONE, *_TASKS),
    Role.POLICE: (*_EVERYONE, *_TASKS, "police"),
    Role.CHILD_PROTECTION: (*_EVERYONE, *_TASKS),
    Role.COORDINATOR: (
        *_EVERYONE,
        *_KEEPERS,
        "moveyouth",
        *_VETTERS,
        *_TASK_MANAGERS,
        "drill",
        "police",
    ),
    Role.ADMIN: (
        *_EVERYONE,
        *_KEEPERS,
        "moveyouth",
        *_VETTERS,
        "neworg",
        *_TASK_MANAGERS,
        "drill",
        "police",
    ),
}


def may_use(role: Role, command: str) -> bool:
    return command in ROLE_COMMANDS[role]

"""Need to know: which alert fields each role sees, and who may open the sealed details.

Risk notes, medical needs and known associates are never part of any broadcast;
authorised roles may ask for them one at a time, and each view is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from bot.domain.errors import InvalidInput
from bot.domain.membership import Role


class AlertField(StrEnum):
    CODE = "code"
    PREFERRED_NAME = "preferred_name"
    LEGAL_NAME = "legal_name"
    AGE = "age"
    PRONOUNS = "pronouns"
    PHOTO = "photo"
    DESCRIPTION = "description"
    CLOTHING = "clothing"
    LAST_SEEN = "last_seen"
    CIRCUMSTANCES = "circumstances"
    LANGUAGES = "languages"
    INDIGENOUS = "indigenous"
    RISK_LEVEL = "risk_level"
    POLICE_REPORT = "police_report"
    CONTACT = "contact"


SENSITIVE_FIELDS: tuple[str, ...] = ("risk_notes", "medical_needs", "associates")

_FULL = frozenset(AlertField)
_FIND = frozenset(
    {
        AlertField.CODE,
        AlertField.PREFERRED_NAME,
        AlertField.AGE,
        AlertField.PHOTO,
        AlertField.DESCRIPTION,
        AlertField.CLOTHING,
        AlertField.LAST_SEEN,
        AlertField.CONTACT,
    }
)

DEFAULT_VISIBILITY: dict[Role, frozenset[AlertField]] = {
    Role.POLICE: _FULL,
    Role.CHILD_PROTECTION: _FULL,
    Role.COORDINATOR: _FULL,
    Role.ADMIN: _FULL,
    Role.RESIDENCE_STAFF: _FULL,
    Role.RESPONDER: _FIND,
}

SENSITIVE_ROLES: frozenset[Role] = frozenset(
    {Role.POLICE, Role.CHILD_PROTECTION, Role.COORDINATOR, Role.ADMIN, Role.RESIDENCE_STAFF}
)


def visibility_table(
    overrides: Mapping[str, Sequence[str]] | None,
) -> dict[Role, frozenset[AlertField]]:
    """Defaults, with per-role overrides from settings. Sensitive fields are refused."""
    table = dict(DEFAULT_VISIBILITY)
    for role_name, fields in (overrides or {}).items():
        try:
            role = Role(role_name)
        except ValueError:
            raise InvalidInput(f"unknown role {role_name!r} in visibility") from None
        chosen: set[AlertField] = set()
        for name in fields:
            if name in SENSITIVE_FIELDS:
                raise InvalidInput(f"{name} is never broadcast; it cannot be given to {role_name}")
            try:
                chosen.add(AlertField(name))
            except ValueError:
                raise InvalidInput(f"unknown alert field {name!r}") from None
        chosen.add(AlertField.CODE)
        table[role] = frozenset(chosen)
    return table


def may_open_sensitive(role: Role) -> bool:
    return role in SENSITIVE_ROLES

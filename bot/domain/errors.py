"""Typed domain errors. Handlers turn each into a kind, specific message."""

from __future__ import annotations


class DomainError(Exception):
    """Base class. ``code`` names the user-facing text that explains it."""

    code = "error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail


class NotAllowed(DomainError):
    """The actor may not do this (role, status, scope)."""

    code = "not_allowed"


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    """Input that does not parse or is out of range; nothing was changed."""

    code = "invalid_input"


class StaleAction(DomainError):
    """The world changed since the button was drawn (someone else acted first)."""

    code = "stale"


class InviteRefused(DomainError):
    """An invite code is unknown, used or expired. Deliberately not more specific."""

    code = "invite_refused"


class LockedOut(DomainError):
    """Too many failed invite attempts from one Telegram account."""

    code = "locked_out"


class IllegalTransition(DomainError):
    code = "illegal_transition"

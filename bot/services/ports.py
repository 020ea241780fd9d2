"""Narrow storage interfaces the services depend on (implemented in ``storage``).

Services receive a unit-of-work factory, a clock and an id source; they never
import SQLAlchemy or Telegram. Every state change that can race is an atomic
conditional update that reports whether it won.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from bot.domain.membership import (
    Group,
    Invite,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    RegistrationStep,
    Role,
    ServiceArea,
)
from bot.domain.outgoing import Outgoing
from bot.domain.timeline import Event, RecordedEvent
from bot.services.ports_alerts import (
    AcknowledgementRepo,
    FormRepo,
    IncidentRepo,
    ReachRepo,
    TaskRepo,
    TimerRepo,
    YouthRepo,
)
from bot.services.ports_updates import IncidentUpdateRepo


class MemberRepo(Protocol):
    async def get(self, member_id: int) -> Member | None: ...
    async def get_by_telegram_id(self, telegram_id: int) -> Member | None: ...
    async def add(
        self,
        *,
        telegram_id: int,
        name: str,
        role: Role,
        org_id: int | None,
        status: MemberStatus,
        registration_step: RegistrationStep | None,
        created_at: datetime,
        invite_id: int | None = None,
    ) -> Member: ...
    async def change_status(
        self,
        member_id: int,
        *,
        expected: Sequence[MemberStatus],
        new: MemberStatus,
        at: datetime,
        by_member_id: int | None,
    ) -> bool:
        """Atomically move a member from one of ``expected`` to ``new``; False if it lost."""
        ...

    async def update_registration(
        self,
        member_id: int,
        *,
        step: RegistrationStep | None,
        name: str | None = None,
        area: ServiceArea | None = None,
    ) -> None: ...
    async def restart_registration(
        self, member_id: int, *, role: Role, org_id: int, invite_id: int, at: datetime
    ) -> None:
        """A removed or rejected person invited again starts over as REGISTERING."""
        ...

    async def inviter_of(self, member_id: int) -> Member | None: ...
    async def mark_unreachable(self, member_id: int, *, at: datetime | None) -> None:
        """Record that Telegram refused delivery to them (None: reachable again)."""
        ...

    async def stale_menus(self, signatures: Mapping[Role, str], *, limit: int) -> list[Member]:
        """Active members whose last command menu is not their role's current one."""
        ...

    async def claim_menu(self, member_id: int, signature: str) -> bool:
        """Record that this menu is being sent; False if it already was (another instance)."""
        ...

    async def list(
        self,
        *,
        statuses: Sequence[MemberStatus] | None = None,
        roles: Sequence[Role] | None = None,
    ) -> list[Member]: ...
    async def incident_approver(self, incident_id: int) -> Member | None:
        """The member who approved the incident (whatever their status now), or None."""
        ...


class OrganisationRepo(Protocol):
    async def add(
        self,
        *,
        kind: OrgKind,
        name: str,
        created_at: datetime,
        address: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> Organisation: ...
    async def get(self, org_id: int) -> Organisation | None: ...
    async def get_by_name(self, name: str) -> Organisation | None: ...
    async def list(self) -> list[Organisation]: ...


class InviteRepo(Protocol):
    async def add(
        self,
        *,
        code_hash: str,
        role: Role,
        org_id: int,
        created_by: int | None,
        created_at: datetime,
        expires_at: datetime,
    ) -> Invite: ...
    async def consume(self, *, code_hash: str, telegram_id: int, now: datetime) -> Invite | None:
        """Mark an unused, unexpired invite used by ``telegram_id``; None if there is none."""
        ...


class AttemptRepo(Protocol):
    async def record_failure(self, *, telegram_id: int, kind: str, at: datetime) -> None: ...
    async def count_failures(self, *, telegram_id: int, kind: str, since: datetime) -> int: ...
    async def claim_reply_slot(
        self, *, telegram_id: int, now: datetime, interval_seconds: float
    ) -> bool:
        """True at most once per interval per Telegram user (the generic stranger reply)."""
        ...


@dataclass(frozen=True, slots=True)
class ActionRecord:
    token: str
    action: str
    payload: dict[str, Any]
    audience_telegram_id: int | None
    created_at: datetime
    expires_at: datetime


class ActionRepo(Protocol):
    async def add(self, record: ActionRecord) -> None: ...
    async def get(self, token: str) -> ActionRecord | None: ...


class TimelineRepo(Protocol):
    async def serialize(self) -> None:
        """Wait for, then hold until commit, the lock every timeline write takes.

        A use case that reads an incident and then queues messages about it takes this
        first: /found (which writes the timeline before pulling messages back) then either
        sees those messages or finishes first, so they see the incident closed. On SQLite
        every write transaction is already serialized (BEGIN IMMEDIATE)."""
        ...

    async def append(self, event: Event, *, at: datetime) -> RecordedEvent: ...
    def iterate(self) -> AsyncIterator[RecordedEvent]: ...
    async def list_for_subject(self, subject_type: str, subject_id: str) -> list[RecordedEvent]: ...


@dataclass(frozen=True, slots=True)
class SentMessage:
    outbox_id: int
    chat_id: int
    message_id: int
    sent_at: datetime | None
    method: str = "sendMessage"
    recipient_member_id: int | None = None


class OutboxRepo(Protocol):
    async def add(self, message: Outgoing, *, at: datetime) -> int: ...
    async def sent_for_ref(self, ref: str) -> list[SentMessage]: ...
    async def sent_for_incident(
        self, incident_id: int, *, kinds: Sequence[str]
    ) -> list[SentMessage]: ...
    async def cancel_for_incident(self, incident_id: int, *, kinds: Sequence[str]) -> int:
        """Cancel this incident's messages of these kinds not yet handed to Telegram."""
        ...

    async def message_incident(self, chat_id: int, message_id: int) -> int | None:
        """The incident a message the bot sent into this chat was about, if any."""
        ...

    async def recipients_of(self, incident_id: int, *, kinds: Sequence[str]) -> set[int]:
        """Members with a message of these kinds for the incident, sent or still queued."""
        ...

    async def unsent_for_incident(self, incident_id: int, *, kinds: Sequence[str]) -> int:
        """How many of the incident's messages of these kinds are queued or being sent."""
        ...

    async def relabel(self, outbox_ids: Sequence[int], *, kind: str) -> int:
        """Give sent messages a new kind (e.g. pins already deleted); returns how many."""
        ...

    async def cancel_pending(
        self, *, ref: str | None = None, recipient_member_id: int | None = None
    ) -> int:
        """Cancel messages not yet handed to Telegram; returns how many."""
        ...


class GroupRepo(Protocol):
    async def get(self, chat_id: int) -> Group | None: ...
    async def add(
        self, *, chat_id: int, title: str, registered_by: int | None, at: datetime
    ) -> Group: ...


class UnitOfWork(Protocol):
    """One transaction and the repositories that share it (read-only attributes)."""

    @property
    def members(self) -> MemberRepo: ...
    @property
    def organisations(self) -> OrganisationRepo: ...
    @property
    def invites(self) -> InviteRepo: ...
    @property
    def attempts(self) -> AttemptRepo: ...
    @property
    def actions(self) -> ActionRepo: ...
    @property
    def timeline(self) -> TimelineRepo: ...
    @property
    def outbox(self) -> OutboxRepo: ...
    @property
    def groups(self) -> GroupRepo: ...
    @property
    def youth(self) -> YouthRepo: ...
    @property
    def incidents(self) -> IncidentRepo: ...
    @property
    def forms(self) -> FormRepo: ...
    @property
    def reach(self) -> ReachRepo: ...
    @property
    def timers(self) -> TimerRepo: ...
    @property
    def tasks(self) -> TaskRepo: ...
    @property
    def acknowledgements(self) -> AcknowledgementRepo: ...
    @property
    def incident_updates(self) -> IncidentUpdateRepo: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class IdSource(Protocol):
    def token(self, nbytes: int) -> str:
        """URL-safe random text carrying ``nbytes`` bytes of randomness."""
        ...


@dataclass(frozen=True, slots=True)
class GeocodeResult:
    latitude: float
    longitude: float
    label: str


class GeocodingUnavailable(Exception):
    """The geocoder timed out, failed or answered nonsense; ask for a location instead."""


class Geocoder(Protocol):
    async def geocode(self, query: str) -> GeocodeResult | None:
        """Coordinates for an address typed by a person; None when nothing matches.

        Only the address text is ever sent (never names or descriptions). Raises
        :class:`GeocodingUnavailable` when the service cannot answer.
        """
        ...

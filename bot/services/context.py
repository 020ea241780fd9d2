"""What every service function is handed: storage, time, randomness and policy."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.domain.incidents import RiskLevel
from bot.domain.membership import Role
from bot.domain.reach import DEFAULT_RADIUS_KM
from bot.domain.visibility import DEFAULT_VISIBILITY, AlertField
from bot.services.ports import Geocoder, IdSource, UnitOfWorkFactory


class SecureIds:
    """Cryptographically strong tokens (``secrets``), the production id source."""

    def token(self, nbytes: int) -> str:
        return secrets.token_urlsafe(nbytes)


@dataclass(frozen=True, slots=True)
class NamedArea:
    name: str
    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class MembershipPolicy:
    invite_ttl: timedelta = timedelta(hours=24)
    invite_code_bytes: int = 24  # 192 bits; at least 16 (128 bits) is enforced by settings
    lockout_failures: int = 10
    lockout_window: timedelta = timedelta(hours=1)
    stranger_reply_interval_seconds: float = 60.0
    action_ttl: timedelta = timedelta(days=7)
    radius_choices_km: tuple[float, ...] = (5.0, 10.0, 25.0, 50.0)
    max_radius_km: float = 200.0
    named_areas: tuple[NamedArea, ...] = field(default_factory=tuple)

    def named_area(self, name: str) -> NamedArea | None:
        wanted = name.strip().casefold()
        return next((a for a in self.named_areas if a.name.casefold() == wanted), None)


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    radius_km: dict[RiskLevel, float] = field(default_factory=lambda: dict(DEFAULT_RADIUS_KM))
    visibility: dict[Role, frozenset[AlertField]] = field(
        default_factory=lambda: dict(DEFAULT_VISIBILITY)
    )
    # Telegram lets a bot delete its messages for 48 h; stay clear of the edge.
    delete_window: timedelta = timedelta(hours=47, minutes=30)
    form_timeout: timedelta = timedelta(hours=12)
    escalate_area_after: timedelta = timedelta(minutes=5)
    task_reannounce_after: timedelta = timedelta(minutes=15)
    task_unclaimed_after: timedelta = timedelta(minutes=30)
    escalate_admins_after: timedelta = timedelta(minutes=10)
    # Follow-ups (bot.services.followups). Police not told (no report number) by the
    # risk level's deadline after the alert was raised: remind, then every police_repeat.
    police_deadline: dict[RiskLevel, timedelta] = field(
        default_factory=lambda: {
            RiskLevel.HIGH: timedelta(0),
            RiskLevel.MEDIUM: timedelta(minutes=60),
            RiskLevel.LOW: timedelta(minutes=240),
        }
    )
    police_repeat: timedelta = timedelta(minutes=30)
    # While an alert is active, ask its coordinator to confirm the risk and reach this often.
    status_check_every: dict[RiskLevel, timedelta] = field(
        default_factory=lambda: {
            RiskLevel.HIGH: timedelta(hours=2),
            RiskLevel.MEDIUM: timedelta(hours=6),
            RiskLevel.LOW: timedelta(hours=6),
        }
    )
    # The residence's serious-occurrence report: reminders, then the deadline (from raising).
    occurrence_reminders: tuple[timedelta, ...] = (timedelta(hours=12), timedelta(hours=23))
    occurrence_deadline: timedelta = timedelta(hours=24)
    # The return interview after the youth is found: reminders, then the deadline.
    return_interview_reminders: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=48))
    return_interview_due: timedelta = timedelta(hours=72)
    # A drill nobody ends is closed (and its fictional youth removed) after this long.
    drill_duration: timedelta = timedelta(hours=2)


class RecentReplies:
    """This process's memory of generic answers it gave: lets repeats skip the database.
    It can only suppress an answer the database would refuse anyway, never allow one."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._at: dict[int, datetime] = {}

    def answered_recently(self, telegram_id: int, now: datetime, interval: float) -> bool:
        at = self._at.get(telegram_id)
        return at is not None and (now - at).total_seconds() < interval

    def remember(self, telegram_id: int, now: datetime) -> None:
        if len(self._at) >= self.capacity:
            self._at.clear()
        self._at[telegram_id] = now


@dataclass(frozen=True, slots=True)
class ServiceContext:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdSource
    membership: MembershipPolicy = field(default_factory=MembershipPolicy)
    alerts: AlertPolicy = field(default_factory=AlertPolicy)
    geocoder: Geocoder | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("America/Toronto"))
    outsiders: RecentReplies = field(default_factory=RecentReplies)

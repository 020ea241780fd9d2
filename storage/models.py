"""SQLAlchemy models. Telegram ids are BIGINT (they need up to 52 bits); times are aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; refuses naive datetimes on the way in, returns aware ones on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class OrganisationRow(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]


class MemberRow(Base):
    __tablename__ = "members"
    __table_args__ = (
        # Radius search: equality on status, then a range on latitude, then longitude.
        Index("ix_members_reach", "status", "area_lat", "area_lon"),
        Index("ix_members_radius", "status", "area_radius_km"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)
    registration_step: Mapped[str | None] = mapped_column(String(20))
    area_lat: Mapped[float | None] = mapped_column(Float)
    area_lon: Mapped[float | None] = mapped_column(Float)
    area_radius_km: Mapped[float | None] = mapped_column(Float)
    area_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"))
    created_at: Mapped[datetime]
    status_changed_at: Mapped[datetime | None]
    status_changed_by: Mapped[int | None] = mapped_column(Integer)
    unreachable_at: Mapped[datetime | None]  # Telegram refused delivery (403)
    # Which command menu Telegram last got for them (see bot.services.menus).
    menu_signature: Mapped[str | None] = mapped_column(String(16))


class InviteRow(Base):
    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)


class AccessAttemptRow(Base):
    __tablename__ = "access_attempts"
    __table_args__ = (Index("ix_access_attempts_who", "telegram_id", "kind", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


class ReplySlotRow(Base):
    __tablename__ = "reply_slots"
    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    last_at: Mapped[datetime]


class ActionRow(Base):
    __tablename__ = "actions"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    audience_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class TimelineRow(Base):
    """Append-only. Nothing in the application updates or deletes these rows."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_subject", "subject_type", "subject_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(64))
    actor_member_id: Mapped[int | None] = mapped_column(Integer)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "not_before"),
        Index("ix_outbox_recipient", "recipient_member_id", "status"),
        # A reply to one of the bot's messages: which incident was it about?
        Index("ix_outbox_message", "chat_id", "message_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime]
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]]
    priority: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))
    ref: Mapped[str | None] = mapped_column(String(80), index=True)
    recipient_member_id: Mapped[int | None] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]  # None: as soon as possible
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivery_uncertain: Mapped[bool] = mapped_column(Boolean, default=False)


class GroupRow(Base):
    __tablename__ = "groups"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(128))
    registered_by: Mapped[int | None] = mapped_column(Integer)
    registered_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class YouthRow(Base):
    """A sealed profile: filled in before anything happens, opened only when needed."""

    __tablename__ = "youth"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    residence_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    legal_name: Mapped[str] = mapped_column(String(120))
    preferred_name: Mapped[str] = mapped_column(String(80))
    pronouns: Mapped[str | None] = mapped_column(String(40))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    photo_file_id: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[str | None] = mapped_column(String(120))
    indigenous_community: Mapped[str | None] = mapped_column(String(120))
    service_preference: Mapped[str | None] = mapped_column(String(200))
    medical_needs: Mapped[str | None] = mapped_column(Text)
    places: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    associates: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk_notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A drill's fictional youth (never listed with real profiles; see bot.domain.drills).
    is_drill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class IncidentRow(Base):
    """A missing-youth alert from draft to resolution. ``version`` moves on every edit;
    an approval holds only for the version (and content hash) it approved."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_point", "last_seen_lat", "last_seen_lon"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    is_drill: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), index=True)
    draft_step: Mapped[str | None] = mapped_column(String(30))
    youth_id: Mapped[int | None] = mapped_column(ForeignKey("youth.id"), index=True)
    residence_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    raised_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    subject_name: Mapped[str | None] = mapped_column(String(80))
    subject_age: Mapped[int | None] = mapped_column(Integer)
    subject_description: Mapped[str | None] = mapped_column(Text)
    last_seen_at: Mapped[datetime | None]
    last_seen_lat: Mapped[float | None] = mapped_column(Float)
    last_seen_lon: Mapped[float | None] = mapped_column(Float)
    last_seen_label: Mapped[str | None] = mapped_column(String(200))
    location_source: Mapped[str | None] = mapped_column(String(20))
    clothing: Mapped[str | None] = mapped_column(Text)
    circumstances: Mapped[str | None] = mapped_column(Text)
    photo_file_id: Mapped[str | None] = mapped_column(String(200))
    risk_level: Mapped[str | None] = mapped_column(String(10))
    risk_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    police_told: Mapped[bool | None] = mapped_column(Boolean)
    police_report_number: Mapped[str | None] = mapped_column(String(40))
    reach_radius_km: Mapped[float | None] = mapped_column(Float)
    extra_org_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    approved_version: Mapped[int | None] = mapped_column(Integer)
    approved_hash: Mapped[str | None] = mapped_column(String(64))
    approved_by: Mapped[int | None] = mapped_column(Integer)
    approved_at: Mapped[datetime | None]
    rejected_reason: Mapped[str | None] = mapped_column(String(300))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(30))
    # The residence's serious-occurrence report, marked filed (the first press wins).
    occurrence_reported_at: Mapped[datetime | None]
    occurrence_reported_by: Mapped[int | None] = mapped_column(Integer)


class FormRow(Base):
    """A guided conversation in progress (one per member); survives restarts."""

    __tablename__ = "forms"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InboxRow(Base):
    """Updates received by webhook, stored before Telegram is told 200 (so a crash loses
    none) and keyed by update_id (so a redelivered update is handled once)."""

    __tablename__ = "inbox"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(index=True)
    payload: Mapped[dict[str, Any]]
    processed_at: Mapped[datetime | None] = mapped_column(index=True)


class TimerRow(Base):
    """Something that must happen at a time unless someone acts first. Stored, so a
    restart catches up; ``key`` is unique, so scheduling twice is harmless; fired once."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "fired_at", "cancelled_at", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject_id: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class TaskRow(Base):
    """A piece of work on an incident. At most one holder: claims are conditional UPDATEs."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    template: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), index=True)
    holder_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_label: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)


class AcknowledgementRow(Base):
    """ "Seen" and "I can help" on an alert, once per person and kind."""

    __tablename__ = "acknowledgements"
    __table_args__ = (
        Index("uq_acknowledgements_once", "incident_id", "member_id", "kind", unique=True),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


class IncidentUpdateRow(Base):
    """What a member saw or learnt about an incident; a coordinator may confirm one that
    has a place as a sighting (which moves the incident's last-known point)."""

    __tablename__ = "incident_updates"
    __table_args__ = (Index("ix_incident_updates_incident", "incident_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_label: Mapped[str | None] = mapped_column(String(200))
    photo_file_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    confirmed_at: Mapped[datetime | None]

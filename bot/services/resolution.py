"""Editing an alert, and resolving it: /found pulls the details back out of every chat.

An edit is a new version: if the alert was already approved, the approval no
longer holds and nothing of the new version goes out until a coordinator
approves it again. When the youth is found, every alert message still under
Telegram's 48-hour delete window is deleted, older ones are edited to a short
note (photos replaced by a neutral placeholder), anything not yet sent is
cancelled, and each recipient gets one notice to delete saved copies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot import texts_alerts
from bot.domain.errors import NotAllowed, NotFound, StaleAction
from bot.domain.forms import FormSpec, Parsed, Step, StepKind
from bot.domain.geo import validate_optional_point
from bot.domain.incidents import (
    OPEN_STATUSES,
    Incident,
    IncidentStatus,
    LocationSource,
    Outcome,
)
from bot.domain.membership import Member, Role
from bot.domain.outgoing import Outgoing, Priority
from bot.services import access, alerts, drill_cleanup, history, timers, vetting
from bot.services.context import ServiceContext
from bot.services.fanout import ALERT_KINDS
from bot.services.forms import FormBehaviour
from bot.services.ports import UnitOfWork

MAP_METHODS = ("sendLocation", "sendVenue")


def may_handle(member: Member, incident: Incident) -> bool:
    """Staff of the youth's residence, coordinators and administrators."""
    if member.role in (Role.COORDINATOR, Role.ADMIN):
        return True
    return member.role is Role.RESIDENCE_STAFF and member.org_id == incident.residence_org_id


async def open_incidents_for(uow: UnitOfWork, member: Member) -> list[Incident]:
    return [
        i for i in await uow.incidents.list(statuses=list(OPEN_STATUSES)) if may_handle(member, i)
    ]


async def _incident_choices(uow: UnitOfWork, member: Member) -> list[tuple[str, str]]:
    choices = []
    for incident in await open_incidents_for(uow, member):
        youth = await uow.youth.get(incident.youth_id) if incident.youth_id else None
        name = youth.preferred_name if youth else (incident.subject_name or "unnamed")
        drill = "DRILL " if incident.is_drill else ""
        choices.append((str(incident.id), f"{drill}{incident.code}: {name}"[:60]))
    return choices


# /found --------------------------------------------------------------------------------------

OUTCOME_LABELS = (
    (Outcome.RETURNED.value, "Returned to the residence"),
    (Outcome.FOUND_SAFE.value, "Found safe elsewhere"),
    (Outcome.HOSPITAL.value, "In hospital"),
    (Outcome.WITH_POLICE.value, "With police"),
    (Outcome.OTHER.value, "Other"),
)

FOUND_STEPS = (
    Step("incident", StepKind.CHOICE, skip_if=lambda d: d.get("incident") is not None),
    Step("outcome", StepKind.CHOICE, choices=OUTCOME_LABELS),
    Step("confirm", StepKind.CHOICE, choices=(("yes", "Yes, close it and pull details back"),)),
)


class MarkFound(FormBehaviour):
    kind = "alert.found"
    spec = FormSpec(kind, FOUND_STEPS)

    async def choices(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        data: dict[str, Any],
    ) -> list[tuple[str, str]]:
        if step.key == "incident":
            return await _incident_choices(uow, member)
        return list(step.choices)

    async def complete(
        self, uow: UnitOfWork, ctx: ServiceContext, member: Member, data: dict[str, Any]
    ) -> Resolution:
        return await resolve(
            uow,
            ctx,
            actor=member,
            incident_id=int(data["incident"]),
            outcome=Outcome(data["outcome"]),
        )


async def start_found(ctx: ServiceContext, *, telegram_id: int) -> Any:
    from bot.services import forms

    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="found")
        open_ones = await open_incidents_for(uow, member)
        if not open_ones:
            raise NotFound("no open alert you can close")
        data = {"incident": str(open_ones[0].id)} if len(open_ones) == 1 else {}
        reply = await forms.begin(uow, ctx, member=member, kind=MarkFound.kind, data=data)
        await uow.commit()
    return reply


@dataclass(frozen=True, slots=True)
class Resolution:
    incident: Incident
    deleted: int
    edited: int
    cancelled: int
    notified: int


async def resolve(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, incident_id: int, outcome: Outcome
) -> Resolution:
    incident = await uow.incidents.get(incident_id)
    if incident is None:
        raise NotFound("incident")
    if not may_handle(actor, incident):
        raise NotAllowed("not your residence's alert")
    result = await close(uow, ctx, incident=incident, actor=actor, outcome=outcome)
    if result.incident.is_drill:  # /found on a drill: practised, and the drill is over
        await drill_cleanup.wind_down(uow, ctx, result.incident, actor=actor, how="found")
    return result


async def close(
    uow: UnitOfWork,
    ctx: ServiceContext,
    *,
    incident: Incident,
    actor: Member | None,
    outcome: Outcome,
    details: dict[str, Any] | None = None,
) -> Resolution:
    """Close an open incident and pull its details back. ``actor`` None: a timer closed
    it (a drill that ran its time); callers check who may close it before this."""
    now = ctx.clock.now()
    if not await uow.incidents.resolve(
        incident.id, by_member_id=actor.id if actor else None, outcome=outcome.value, at=now
    ):
        raise StaleAction("this alert is already closed")
    await timers.cancel_vetting_escalations(uow, ctx, incident.id)
    resolved = await uow.incidents.get(incident.id)
    if resolved is None:
        raise NotFound("incident")
    await history.record(
        uow,
        ctx,
        action="incident.resolved",
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details={"outcome": outcome.value, "youth_id": incident.youth_id, **(details or {})},
    )
    result = await retract(uow, ctx, resolved, now)
    await history.record(
        uow,
        ctx,
        action="incident.retracted",
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details={
            "deleted": result.deleted,
            "edited": result.edited,
            "cancelled": result.cancelled,
            "notified": result.notified,
        },
    )
    from bot.services import followups  # followups -> tasks -> resolution

    # After the retraction, so the return interview's messages are not pulled back.
    await followups.after_found(uow, ctx, actor=actor, incident=resolved)
    return result


async def retract(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    now: datetime,
    *,
    kinds: tuple[str, ...] = ALERT_KINDS,
) -> Resolution:
    """Pull back every message of these kinds about the incident and tell each person
    it reached, once, to delete saved copies."""
    cancelled = await uow.outbox.cancel_for_incident(incident.id, kinds=kinds)
    deleted = edited = 0
    note = texts_alerts.retracted_note(incident)
    recipients: dict[int, int | None] = {}
    for sent in await uow.outbox.sent_for_incident(incident.id, kinds=kinds):
        if sent.recipient_member_id is not None and sent.method != "deleteMessage":
            recipients.setdefault(sent.chat_id, sent.recipient_member_id)
        young = sent.sent_at is not None and now - sent.sent_at < ctx.alerts.delete_window
        if young:
            message = Outgoing.delete(sent.chat_id, sent.message_id, incident_id=incident.id)
            deleted += 1
        elif sent.method in MAP_METHODS:
            # A map cannot be edited into a note: try to delete it anyway (not counted:
            # Telegram may refuse past its window; the notice asks people to delete copies).
            message = Outgoing.delete(sent.chat_id, sent.message_id, incident_id=incident.id)
        elif sent.method == "sendPhoto":
            message = Outgoing.replace_photo(
                sent.chat_id, sent.message_id, caption=note, incident_id=incident.id
            )
            edited += 1
        else:
            message = Outgoing.edit_text(
                sent.chat_id,
                sent.message_id,
                note,
                incident_id=incident.id,
                priority=Priority.ALERT,
            )
            edited += 1
        await uow.outbox.add(message, at=now)
    notice = texts_alerts.resolved_notice(incident)
    for chat_id, member_id in recipients.items():
        await uow.outbox.add(
            Outgoing.text(
                chat_id,
                notice,
                priority=Priority.ALERT,
                recipient_member_id=member_id,
                kind="resolved",
                incident_id=incident.id,
            ),
            at=now,
        )
    return Resolution(incident, deleted, edited, cancelled, len(recipients))


# Edits ---------------------------------------------------------------------------------------

EDITABLE = (
    ("clothing", "Clothing"),
    ("circumstances", "Circumstances"),
    ("location", "Last-seen place"),
    ("last_seen", "Last-seen time"),
    ("photo", "Photo"),
)


def _not(field: str) -> Any:
    def skip(d: Mapping[str, Any]) -> bool:
        return d.get("field") != field

    return skip


EDIT_STEPS = (
    Step("incident", StepKind.CHOICE, skip_if=lambda d: d.get("incident") is not None),
    Step("field", StepKind.CHOICE, choices=EDITABLE),
    Step("clothing", StepKind.TEXT, max_len=300, skip_if=_not("clothing")),
    Step("circumstances", StepKind.TEXT, max_len=500, skip_if=_not("circumstances")),
    Step("location", StepKind.LOCATION, skip_if=_not("location")),
    Step(
        "location_confirm",
        StepKind.YES_NO,
        skip_if=lambda d: (
            d.get("field") != "location" or (d.get("location") or {}).get("source") != "address"
        ),
    ),
    Step("last_seen", StepKind.WHEN, choices=alerts.WHEN_SHORTCUTS, skip_if=_not("last_seen")),
    Step("photo", StepKind.PHOTO, skip_if=_not("photo")),
)


class EditAlert(FormBehaviour):
    kind = "alert.edit"
    spec = FormSpec(kind, EDIT_STEPS)

    async def choices(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        data: dict[str, Any],
    ) -> list[tuple[str, str]]:
        if step.key == "incident":
            return await _incident_choices(uow, member)
        if step.key == "location":
            return [("unknown", "I don't know where")]
        return list(step.choices)

    async def resolve_shortcut(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        value: str,
        data: dict[str, Any],
    ) -> Parsed:
        if value == "unknown":
            return Parsed.good(
                {"latitude": None, "longitude": None, "label": None, "source": "none"}
            )
        return Parsed.bad("choice")

    def after_step(self, data: dict[str, Any], step: Step, ctx: ServiceContext) -> str | None:
        if step.key == "location_confirm" and data.get("location_confirm") is False:
            data["location"] = None
            return "location"
        return None

    async def complete(
        self, uow: UnitOfWork, ctx: ServiceContext, member: Member, data: dict[str, Any]
    ) -> Incident:
        return await edit(uow, ctx, actor=member, incident_id=int(data["incident"]), data=data)


async def start_edit(ctx: ServiceContext, *, telegram_id: int) -> Any:
    from bot.services import forms

    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="edit")
        open_ones = await open_incidents_for(uow, member)
        if not open_ones:
            raise NotFound("no open alert you can edit")
        data = {"incident": str(open_ones[0].id)} if len(open_ones) == 1 else {}
        reply = await forms.begin(uow, ctx, member=member, kind=EditAlert.kind, data=data)
        await uow.commit()
    return reply


async def edit(
    uow: UnitOfWork,
    ctx: ServiceContext,
    *,
    actor: Member,
    incident_id: int,
    data: dict[str, Any],
) -> Incident:
    incident = await uow.incidents.get(incident_id)
    if incident is None or incident.status not in OPEN_STATUSES:
        raise NotFound("open incident")
    if not may_handle(actor, incident):
        raise NotAllowed("not your residence's alert")
    field = data["field"]
    changes: dict[str, Any] = {}
    if field in ("clothing", "circumstances"):
        changes[field] = data[field]
    elif field == "photo":
        changes["photo_file_id"] = data["photo"]
    elif field == "last_seen":
        changes["last_seen_at"] = datetime.fromisoformat(data["last_seen"])
    elif field == "location":
        location = data["location"] or {}
        validate_optional_point(location.get("latitude"), location.get("longitude"))
        changes.update(
            latitude=location.get("latitude"),
            longitude=location.get("longitude"),
            location_label=location.get("label"),
            location_source=LocationSource(location.get("source") or "none"),
        )
    was_active = incident.status is IncidentStatus.ACTIVE
    revised = await vetting.revise(
        uow,
        ctx,
        incident,
        actor,
        changes,
        action="incident.edited",
        back_to_vetting=True,
        details={
            "field": field,
            "version": incident.version + 1,
            "approval_invalidated": was_active,
        },
    )
    await timers.schedule_vetting_escalations(uow, ctx, incident.id)
    return revised


def form_behaviours() -> list[FormBehaviour]:
    return [MarkFound(), EditAlert()]

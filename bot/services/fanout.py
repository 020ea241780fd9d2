"""Who an approved alert reaches, and what each of them is sent.

Reach fails closed: members with no area, or an alert with no usable point, never
mean "everyone". Each recipient gets only their role's fields, with
``protect_content``; risk notes, medical needs and associates are never sent.
Every release is recorded per recipient: what was disclosed, to whom, and why.
"""

from __future__ import annotations

from bot import texts_alerts, texts_tasks
from bot.domain.errors import NotAllowed, NotFound
from bot.domain.incidents import Incident, IncidentStatus, Youth, age_on
from bot.domain.membership import Member, Role
from bot.domain.outgoing import Button, Outgoing, Priority
from bot.domain.tasks import AckKind
from bot.domain.updates import UPDATE_KINDS
from bot.domain.visibility import AlertField, may_open_sensitive
from bot.services import actions, history, maps
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork

PURPOSE = "locate a missing youth (CYFSA Part X: disclosure to reduce a risk of serious harm)"
# Every kind of message that carries details of an incident: /found pulls them all back.
ALERT_KINDS = (
    "alert",
    "vet_card",
    "vet_photo",
    "vet_reminder",
    "sensitive",
    "task",
    "task_holder",
    "task_done",
    "police_reminder",
    "status_check",
    "incident_view",
    maps.KIND_ALERT_MAP,
    *UPDATE_KINDS,
)


async def recipients(uow: UnitOfWork, ctx: ServiceContext, incident: Incident) -> list[Member]:
    found: dict[int, Member] = {}
    if incident.has_point and incident.reach_radius_km:
        for m in await uow.reach.members_near(
            latitude=incident.latitude or 0.0,
            longitude=incident.longitude or 0.0,
            radius_km=incident.reach_radius_km,
        ):
            found[m.id] = m
    if incident.residence_org_id is not None:
        for m in await uow.reach.members_of_orgs(
            [incident.residence_org_id], roles=[Role.RESIDENCE_STAFF]
        ):
            found[m.id] = m
    for m in await uow.reach.members_of_orgs(list(incident.extra_org_ids)):
        found[m.id] = m
    return sorted(found.values(), key=lambda m: m.id)


async def release(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, people: list[Member]
) -> int:
    """Queue the approved version for each recipient. Returns how many."""
    youth = await uow.youth.get(incident.youth_id) if incident.youth_id else None
    residence = (
        await uow.organisations.get(incident.residence_org_id)
        if incident.residence_org_id
        else None
    )
    now = ctx.clock.now()
    age = _age(incident, youth, ctx)
    pins = 0
    for member in people:
        fields = ctx.alerts.visibility.get(member.role, frozenset({AlertField.CODE}))
        keyboard: tuple[tuple[Button, ...], ...] = (await _ack_row(uow, ctx, incident, member),)
        if youth is not None and may_open_sensitive(member.role):
            keyboard = (
                *keyboard,
                (
                    await actions.button(
                        uow,
                        ctx,
                        "Sensitive details (recorded)",
                        action="alert.sensitive",
                        payload={"incident": incident.id},
                        audience_telegram_id=member.telegram_id,
                    ),
                ),
            )
        photo = incident.photo_file_id if AlertField.PHOTO in fields else None
        card = texts_alerts.alert_card(
            incident, youth, residence, fields, age, ctx.zone, budget=1024 if photo else 4096
        )
        if photo:
            message = Outgoing.photo(
                member.telegram_id,
                photo,
                caption=card,
                keyboard=keyboard,
                protect_content=True,
                priority=Priority.ALERT,
                recipient_member_id=member.id,
                kind="alert",
                ref=f"alert:{incident.id}",
                incident_id=incident.id,
            )
        else:
            message = Outgoing.text(
                member.telegram_id,
                card,
                keyboard=keyboard,
                protect_content=True,
                priority=Priority.ALERT,
                recipient_member_id=member.id,
                kind="alert",
                ref=f"alert:{incident.id}",
                incident_id=incident.id,
            )
        await uow.outbox.add(message, at=now)
        pin = (
            maps.alert_pin(
                incident,
                chat_id=member.telegram_id,
                member_id=member.id,
                title=texts_alerts.pin_title(incident),
            )
            if AlertField.LAST_SEEN in fields
            else None
        )
        if pin is not None:
            await uow.outbox.add(pin, at=now)
            pins += 1
        await history.record(
            uow,
            ctx,
            action="incident.disclosed",
            subject_type="member",
            subject_id=member.id,
            incident_id=incident.id,
            details={
                "youth_id": incident.youth_id,
                "role": member.role.value,
                "fields": sorted(f.value for f in fields),
                "version": incident.version,
                "purpose": PURPOSE,
            },
        )
    if pins:
        await maps.schedule_expiry(uow, ctx, incident_id=incident.id, tag=f"v{incident.version}")
    return len(people)


async def _ack_row(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, member: Member
) -> tuple[Button, ...]:
    """ "Seen" and "I can help": tokens only this recipient can press."""
    return tuple(
        [
            await actions.button(
                uow,
                ctx,
                label,
                action="alert.ack",
                payload={"incident": incident.id, "kind": kind.value},
                audience_telegram_id=member.telegram_id,
            )
            for kind, label in (
                (AckKind.SEEN, texts_tasks.SEEN),
                (AckKind.CAN_HELP, texts_tasks.CAN_HELP),
            )
        ]
    )


def _age(incident: Incident, youth: Youth | None, ctx: ServiceContext) -> int | None:
    if youth is not None:
        return age_on(youth.date_of_birth, ctx.clock.now().astimezone(ctx.zone).date())
    return incident.subject_age


async def sensitive_details(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, incident_id: int
) -> int:
    """Send the sealed details to one authorised person who asked. Recorded."""
    if not may_open_sensitive(actor.role):
        raise NotAllowed("this role cannot open sealed details")
    incident = await uow.incidents.get(incident_id)
    if incident is None or incident.youth_id is None:
        raise NotFound("incident")
    if incident.status is not IncidentStatus.ACTIVE:
        raise NotAllowed("the alert is no longer active")
    youth = await uow.youth.get(incident.youth_id)
    if youth is None:
        raise NotFound("youth")
    in_scope = actor.role in (Role.COORDINATOR, Role.ADMIN) or any(
        s.recipient_member_id == actor.id
        for s in await uow.outbox.sent_for_ref(f"alert:{incident.id}")
    )
    if actor.role is Role.RESIDENCE_STAFF:
        in_scope = actor.org_id == youth.residence_org_id
    if not in_scope:
        raise NotAllowed("not a recipient of this alert")
    await uow.outbox.add(
        Outgoing.text(
            actor.telegram_id,
            texts_alerts.sensitive(incident, youth),
            protect_content=True,
            priority=Priority.ALERT,
            recipient_member_id=actor.id,
            kind="sensitive",
            ref=f"sensitive:{incident.id}",
            incident_id=incident.id,
        ),
        at=ctx.clock.now(),
    )
    await history.record(
        uow,
        ctx,
        action="youth.sensitive_viewed",
        subject_type="youth",
        subject_id=youth.id,
        actor=actor,
        incident_id=incident.id,
        details={
            "fields": ["associates", "medical_needs", "risk_notes"],
            "role": actor.role.value,
            "purpose": PURPOSE,
        },
    )
    return youth.id

"""Vetting escalations, fired by stored timers (:mod:`bot.services.timers`).

An alert still PENDING after ``AlertPolicy.escalate_area_after`` goes to every active
coordinator; after ``escalate_admins_after`` to every active admin. Each recipient
gets a reminder and a fresh vetting card (same ``vet:`` ref, so approving, rejecting
or editing settles these cards like the first ones). The raiser never gets one.
"""

from __future__ import annotations

from bot import texts_alerts
from bot.domain.incidents import IncidentStatus
from bot.domain.membership import MemberStatus, Role
from bot.domain.outgoing import Outgoing, Priority
from bot.services import history, timers
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.ports_alerts import Timer
from bot.services.vetting import send_vetting_cards

LEVELS = {timers.ESCALATE_AREA: (1, Role.COORDINATOR), timers.ESCALATE_ADMINS: (2, Role.ADMIN)}


async def escalate_vetting(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    if timer.incident_id is None:
        return
    incident = await uow.incidents.get(timer.incident_id)
    if incident is None or incident.status is not IncidentStatus.PENDING:
        return
    level, role = LEVELS[timer.kind]
    people = [
        m
        for m in await uow.members.list(statuses=[MemberStatus.ACTIVE], roles=[role])
        if m.id != incident.raised_by
    ]
    minutes = int(timer.payload.get("minutes") or 0)
    now = ctx.clock.now()
    text = texts_alerts.vet_escalation(incident, minutes)
    for person in people:
        await uow.outbox.add(
            Outgoing.text(
                person.telegram_id,
                text,
                priority=Priority.ALERT,
                recipient_member_id=person.id,
                kind="vet_reminder",
                ref=f"vet:{incident.id}",
                incident_id=incident.id,
            ),
            at=now,
        )
    await send_vetting_cards(uow, ctx, incident, to=people)
    await history.record(
        uow,
        ctx,
        action="incident.escalated",
        subject_type="incident",
        subject_id=incident.id,
        incident_id=incident.id,
        details={
            "level": level,
            "to_role": role.value,
            "recipients": len(people),
            "waited_minutes": minutes,
        },
    )


HANDLERS: dict[str, timers.Handler] = {
    timers.ESCALATE_AREA: escalate_vetting,
    timers.ESCALATE_ADMINS: escalate_vetting,
}

""" "Seen" and "I can help" on an alert card: recorded once per person, and the
coordinator's view of who has acknowledged and who has not."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import NotAllowed, NotFound, StaleAction
from bot.domain.incidents import Incident, IncidentStatus
from bot.domain.membership import Member, Role
from bot.domain.tasks import AckKind
from bot.services import access, fanout, history
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.resolution import may_handle


@dataclass(frozen=True, slots=True)
class AckOutcome:
    incident: Incident
    kind: AckKind
    first: bool


@dataclass(frozen=True, slots=True)
class AckView:
    incident: Incident
    seen: list[str]
    can_help: list[str]
    not_yet: list[str]


async def acknowledge(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, incident_id: int, kind: AckKind
) -> AckOutcome:
    incident = await uow.incidents.get(incident_id)
    if incident is None:
        raise NotFound("incident")
    if incident.status is not IncidentStatus.ACTIVE:
        raise StaleAction("the alert is no longer active")
    first = await uow.acknowledgements.add(
        incident_id=incident.id, member_id=actor.id, kind=kind, at=ctx.clock.now()
    )
    if first:
        await history.record(
            uow,
            ctx,
            action="incident.acknowledged",
            subject_type="incident",
            subject_id=incident.id,
            actor=actor,
            incident_id=incident.id,
            details={"kind": kind.value},
        )
    return AckOutcome(incident, kind, first)


async def view(ctx: ServiceContext, *, telegram_id: int, code: str | None) -> list[AckView]:
    """/acks [CODE]: for coordinators, who acknowledged each active alert and who has not."""
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="acks")
        if member.role not in (Role.COORDINATOR, Role.ADMIN):
            raise NotAllowed("only coordinators see acknowledgements")
        incidents = [
            i
            for i in await uow.incidents.list(statuses=[IncidentStatus.ACTIVE])
            if may_handle(member, i)
        ]
        if code is not None:
            incidents = [i for i in incidents if i.code == code.strip().upper()]
            if not incidents:
                raise NotFound("active alert")
        return [await summarise(uow, ctx, incident) for incident in incidents]


async def summarise(uow: UnitOfWork, ctx: ServiceContext, incident: Incident) -> AckView:
    """Who said "Seen", who said "I can help", and who the alert reaches but has not answered."""
    acks = await uow.acknowledgements.list_for_incident(incident.id)
    by_kind = {k: {a.member_id for a in acks if a.kind is k} for k in AckKind}
    people = {m.id: m for m in await fanout.recipients(uow, ctx, incident)}
    for a in acks:
        if a.member_id not in people:
            other = await uow.members.get(a.member_id)
            if other is not None:
                people[other.id] = other
    answered = by_kind[AckKind.SEEN] | by_kind[AckKind.CAN_HELP]
    return AckView(
        incident,
        seen=[people[i].name for i in sorted(by_kind[AckKind.SEEN]) if i in people],
        can_help=[people[i].name for i in sorted(by_kind[AckKind.CAN_HELP]) if i in people],
        not_yet=[m.name for i, m in sorted(people.items()) if i not in answered],
    )

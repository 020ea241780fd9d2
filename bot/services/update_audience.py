"""Who takes part in an incident and who hears an update posted on it.

Taking part (:func:`takes_part`) decides who may post; an update then goes to the
incident's coordinators, its task holders and, when it has a place, the members whose
own area covers that place. Places and photos go only to the roles that receive them.
"""

from __future__ import annotations

from bot.domain.incidents import Incident, IncidentStatus
from bot.domain.membership import VETTING_ROLES, Member, MemberStatus, Role
from bot.domain.tasks import TaskStatus
from bot.domain.updates import IncidentUpdate
from bot.domain.visibility import AlertField
from bot.services import fanout
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.resolution import may_handle


async def coordinators(uow: UnitOfWork, incident: Incident) -> list[Member]:
    """The coordinator whose approval is current, and the coordinators whose own area
    covers the incident's point; every active coordinator and administrator if none."""
    found: dict[int, Member] = {}
    approver = await uow.members.incident_approver(incident.id)
    if approver is not None and approver.is_active:
        found[approver.id] = approver
    if incident.has_point:
        for m in await uow.reach.members_near(
            latitude=incident.latitude or 0.0,
            longitude=incident.longitude or 0.0,
            radius_km=0.0,
            roles=[Role.COORDINATOR],
        ):
            found[m.id] = m
    if not found:
        for m in await uow.members.list(statuses=[MemberStatus.ACTIVE], roles=list(VETTING_ROLES)):
            found[m.id] = m
    return sorted(found.values(), key=lambda m: m.id)


async def task_holders(uow: UnitOfWork, incident: Incident) -> list[Member]:
    """Active members holding one of the incident's tasks now."""
    found: dict[int, Member] = {}
    for task in await uow.tasks.list_for_incident(incident.id):
        if task.status is not TaskStatus.CLAIMED or task.holder_member_id is None:
            continue
        holder = await uow.members.get(task.holder_member_id)
        if holder is not None and holder.is_active:
            found[holder.id] = holder
    return sorted(found.values(), key=lambda m: m.id)


async def takes_part(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, incident: Incident
) -> bool:
    """Coordinators, administrators and the youth's residence staff; once the alert has
    been approved, also the people it was sent to or reaches now, and task holders."""
    if not member.is_active:
        return False
    if may_handle(member, incident):
        return True
    if incident.approved_version is None:
        return False  # never sent: nobody else knows of it
    if any(m.id == member.id for m in await task_holders(uow, incident)):
        return True
    if member.id in await uow.outbox.recipients_of(incident.id, kinds=("alert",)):
        return True
    return any(m.id == member.id for m in await fanout.recipients(uow, ctx, incident))


async def active_incidents_for(
    uow: UnitOfWork, ctx: ServiceContext, member: Member
) -> list[Incident]:
    return [
        i
        for i in await uow.incidents.list(statuses=[IncidentStatus.ACTIVE])
        if await takes_part(uow, ctx, member, i)
    ]


async def update_recipients(
    uow: UnitOfWork, incident: Incident, update: IncidentUpdate, *, exclude: set[int]
) -> list[Member]:
    """Coordinators, task holders and members whose area covers the update's place."""
    found = {m.id: m for m in await coordinators(uow, incident)}
    for m in await task_holders(uow, incident):
        found[m.id] = m
    if update.has_point:
        for m in await uow.reach.members_near(
            latitude=update.latitude or 0.0, longitude=update.longitude or 0.0, radius_km=0.0
        ):
            found.setdefault(m.id, m)
    return sorted((m for m in found.values() if m.id not in exclude), key=lambda m: m.id)


def sees_photos(ctx: ServiceContext, member: Member) -> bool:
    return AlertField.PHOTO in ctx.alerts.visibility.get(member.role, frozenset())


def has_content_for(ctx: ServiceContext, member: Member, update: IncidentUpdate) -> bool:
    return bool(
        update.text
        or (update.photo_file_id and sees_photos(ctx, member))
        or (update.has_point and sees_places(ctx, member))
    )


def sees_places(ctx: ServiceContext, member: Member) -> bool:
    """Places (text and maps) go to the roles that receive an alert's last-seen point."""
    return AlertField.LAST_SEEN in ctx.alerts.visibility.get(member.role, frozenset())

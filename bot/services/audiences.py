"""Who hears about an incident's follow-ups (police reminders, status checks, the
serious-occurrence report, the return interview): the staff of the youth's residence
and the coordinator responsible for the alert, never the whole reach."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.incidents import Incident
from bot.domain.membership import Member, Role
from bot.services.ports import UnitOfWork


async def coordinators_for(uow: UnitOfWork, incident: Incident) -> list[Member]:
    """The coordinator who approved the alert; before that (or if they have left), the
    coordinators who would vet it (those whose area covers it, else every coordinator
    and admin), never the person who raised it."""
    if incident.approved_by is not None:
        approver = await uow.members.incident_approver(incident.id)
        if approver is not None and approver.is_active:
            return [approver]
    from bot.services.vetting import vetters_for  # vetting -> followups -> audiences

    return await vetters_for(uow, incident)


async def residence_staff(uow: UnitOfWork, incident: Incident) -> list[Member]:
    """The active staff of the residence the youth lives at (the raising residence)."""
    if incident.residence_org_id is None:
        return []
    return await uow.reach.members_of_orgs(
        [incident.residence_org_id], roles=[Role.RESIDENCE_STAFF]
    )


def once_each(*groups: Iterable[Member]) -> list[Member]:
    seen: dict[int, Member] = {}
    for group in groups:
        for member in group:
            seen.setdefault(member.id, member)
    return list(seen.values())


async def residence_and_coordinators(uow: UnitOfWork, incident: Incident) -> list[Member]:
    return once_each(await residence_staff(uow, incident), await coordinators_for(uow, incident))

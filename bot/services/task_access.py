"""Who may see and work on a task: the coordinators who manage it, and the people it
is offered to (everyone the alert reaches; for a follow-up task only the residence's
staff and the coordinators). Shared by :mod:`bot.services.tasks` (the changes) and
:mod:`bot.services.task_views` (the lists and menus).
"""

from __future__ import annotations

from bot.domain.errors import NotAllowed, NotFound, StaleAction
from bot.domain.incidents import Incident, IncidentStatus
from bot.domain.membership import Member, Role
from bot.domain.tasks import Task, is_followup
from bot.services import audiences, fanout
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.resolution import may_handle

MANAGERS = (Role.COORDINATOR, Role.ADMIN)


def may_manage(member: Member, incident: Incident) -> bool:
    return member.role in MANAGERS and may_handle(member, incident)


async def active_incident(uow: UnitOfWork, incident_id: int) -> Incident:
    incident = await uow.incidents.get(incident_id)
    if incident is None:
        raise NotFound("incident")
    if incident.status is not IncidentStatus.ACTIVE:
        raise StaleAction("the alert is no longer active")
    return incident


async def incident_of(uow: UnitOfWork, task: Task) -> Incident:
    """The task's incident, if work on the task can go on: an active alert, or for a
    follow-up task also a resolved one."""
    incident = await uow.incidents.get(task.incident_id)
    if incident is None:
        raise NotFound("incident")
    if not workable(incident, task):
        raise StaleAction("the alert is no longer active")
    return incident


def workable(incident: Incident, task: Task) -> bool:
    if incident.status is IncidentStatus.ACTIVE:
        return True
    return is_followup(task) and incident.status is IncidentStatus.RESOLVED


async def audience(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, task: Task | None = None
) -> list[Member]:
    """Who a task is offered to: everyone the alert reaches; for a follow-up task only
    the staff of the youth's residence and the coordinators (the search is over)."""
    if task is None or not is_followup(task):
        return await fanout.recipients(uow, ctx, incident)
    return await audiences.residence_and_coordinators(uow, incident)


async def is_recipient(
    uow: UnitOfWork,
    ctx: ServiceContext,
    member: Member,
    incident: Incident,
    task: Task | None = None,
) -> bool:
    return any(m.id == member.id for m in await audience(uow, ctx, incident, task))


async def require_reach(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, incident: Incident, task: Task
) -> None:
    if may_manage(member, incident) or await is_recipient(uow, ctx, member, incident, task):
        return
    raise NotAllowed("not a recipient of this alert")


async def get_task(uow: UnitOfWork, task_id: int) -> Task:
    task = await uow.tasks.get(task_id)
    if task is None:
        raise NotFound("task")
    return task


async def member_name(uow: UnitOfWork, member_id: int | None) -> str:
    if member_id is None:
        return "nobody"
    member = await uow.members.get(member_id)
    return member.name if member else "someone"

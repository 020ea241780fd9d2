"""The read side of tasks: the lists behind /tasks and /mytasks, the coordinator's
buttons under them, and the menus a button opens (outcomes, people to reassign to).
Nothing here changes a task; the changes are in :mod:`bot.services.tasks`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import texts_tasks
from bot.domain.errors import NotAllowed, NotFound, StaleAction
from bot.domain.incidents import Incident, IncidentStatus
from bot.domain.membership import Member
from bot.domain.outgoing import Button, Keyboard
from bot.domain.tasks import FOLLOWUP_TEMPLATES, LIVE_STATUSES, Task, is_followup
from bot.services import access, actions
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.resolution import may_handle
from bot.services.task_access import (
    audience,
    get_task,
    incident_of,
    is_recipient,
    may_manage,
    member_name,
    workable,
)
from bot.services.task_notices import controls
from bot.services.tasks import OUTCOMES, TaskOutcome, expect_holder


@dataclass(frozen=True, slots=True)
class IncidentTasks:
    incident: Incident
    tasks: list[Task]
    names: dict[int, str]
    keyboard: Keyboard = ()


# Lists ---------------------------------------------------------------------------------------


async def _incidents_for(uow: UnitOfWork, ctx: ServiceContext, member: Member) -> list[Incident]:
    out = []
    for incident in await uow.incidents.list(statuses=[IncidentStatus.ACTIVE]):
        if may_handle(member, incident) or await is_recipient(uow, ctx, member, incident):
            out.append(incident)
    return out + await _resolved_with_followups(uow, ctx, member)


async def _resolved_with_followups(
    uow: UnitOfWork, ctx: ServiceContext, member: Member
) -> list[Incident]:
    """Resolved incidents with a live follow-up task this member may work on."""
    out: dict[int, Incident] = {}
    for task in await uow.tasks.list_live_with_templates(sorted(FOLLOWUP_TEMPLATES)):
        if task.incident_id in out:
            continue
        incident = await uow.incidents.get(task.incident_id)
        if incident is None or incident.status is not IncidentStatus.RESOLVED:
            continue
        if may_handle(member, incident) or await is_recipient(uow, ctx, member, incident, task):
            out[incident.id] = incident
    return list(out.values())


def _shown(incident: Incident, found: list[Task]) -> list[Task]:
    """A resolved incident lists only its follow-up tasks: the search ones are over."""
    if incident.status is IncidentStatus.ACTIVE:
        return found
    return [t for t in found if is_followup(t)]


async def _pick(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, code: str | None
) -> list[Incident]:
    incidents = await _incidents_for(uow, ctx, member)
    if code is None:
        return incidents
    wanted = code.strip().upper()
    found = [i for i in incidents if i.code == wanted]
    if not found:
        raise NotFound("active alert")
    return found


async def overview(
    ctx: ServiceContext, *, telegram_id: int, code: str | None = None
) -> list[IncidentTasks]:
    """/tasks: each active incident this member can see, with its tasks and holders."""
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="tasks")
        out = []
        for incident in await _pick(uow, ctx, member, code):
            found = _shown(incident, await uow.tasks.list_for_incident(incident.id))
            names = await holder_names(uow, found)
            keyboard: Keyboard = ()
            if may_manage(member, incident):
                keyboard = await _manager_keyboard(uow, ctx, member, incident, found)
            out.append(IncidentTasks(incident, found, names, keyboard))
        await uow.commit()
    return out


async def holder_names(uow: UnitOfWork, found: list[Task]) -> dict[int, str]:
    """The name of each task's holder (or of the last one, for a finished task)."""
    return {
        t.holder_member_id: await member_name(uow, t.holder_member_id)
        for t in found
        if t.holder_member_id is not None
    }


async def _manager_keyboard(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, incident: Incident, found: list[Task]
) -> Keyboard:
    if not found:
        return (
            (
                await actions.button(
                    uow,
                    ctx,
                    texts_tasks.FROM_TEMPLATES,
                    action="task.templates",
                    payload={"incident": incident.id},
                    audience_telegram_id=member.telegram_id,
                ),
            ),
        )
    rows: list[tuple[Button, ...]] = []
    for task in found:
        if not task.is_live:
            continue
        seen = {"task": task.id, "status": task.status.value, "holder": task.holder_member_id}
        rows.append(
            (
                await actions.button(
                    uow,
                    ctx,
                    f"Reassign #{task.id}",
                    action="task.reassign_menu",
                    payload=seen,
                    audience_telegram_id=member.telegram_id,
                ),
                await actions.button(
                    uow,
                    ctx,
                    f"Cancel #{task.id}",
                    action="task.cancel",
                    payload=seen,
                    audience_telegram_id=member.telegram_id,
                ),
            )
        )
    return tuple(rows)


async def mine(ctx: ServiceContext, *, telegram_id: int) -> list[tuple[Task, Incident, Keyboard]]:
    """/mytasks: the tasks this member holds now, each with its Done and Release buttons."""
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="mytasks")
        out = []
        for task in await uow.tasks.list_for_holder(member.id, statuses=list(LIVE_STATUSES)):
            incident = await uow.incidents.get(task.incident_id)
            if incident is None or not workable(incident, task):
                continue
            out.append((task, incident, await controls(uow, ctx, task, member)))
        await uow.commit()
    return out


# Menus a button opens ------------------------------------------------------------------------


async def done_menu(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> TaskOutcome:
    task = await get_task(uow, int(payload["task"]))
    expect_holder(task, payload)
    if task.holder_member_id != actor.id:
        raise NotAllowed("only the holder can complete a task")
    choices = [
        await actions.button(
            uow,
            ctx,
            label,
            action="task.complete",
            payload={"task": task.id, "holder": actor.id, "outcome": key},
            audience_telegram_id=actor.telegram_id,
        )
        for key, label in OUTCOMES
    ]
    return TaskOutcome("outcome_menu", task=task, choices=choices)


async def reassign_menu(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> TaskOutcome:
    task = await get_task(uow, int(payload["task"]))
    incident = await incident_of(uow, task)
    if not may_manage(actor, incident):
        raise NotAllowed("only coordinators reassign tasks")
    if not task.is_live:
        raise StaleAction("the task is closed")
    choices = [
        await actions.button(
            uow,
            ctx,
            m.name[:40],
            action="task.reassign",
            payload={
                "task": task.id,
                "member": m.id,
                "status": task.status.value,
                "holder": task.holder_member_id,
            },
            audience_telegram_id=actor.telegram_id,
        )
        for m in await audience(uow, ctx, incident, task)
        if m.id != task.holder_member_id
    ]
    return TaskOutcome("reassign_menu", task=task, choices=choices)

"""Tasks on an active incident: create (from templates or freely), claim, release,
note, complete, reassign, cancel. The lists behind /tasks and /mytasks and the menus
are in :mod:`bot.services.task_views`, who may do what in
:mod:`bot.services.task_access`, what a task tells people in
:mod:`bot.services.task_notices`.

Follow-up tasks (the return interview, created when the youth is found) outlive the
search: they stay workable on the resolved incident, and they are offered only to the
residence's staff and the coordinators, never to everyone the alert reached.

A claim is one conditional update (exactly one winner); every other move is
conditional on the status and holder the actor saw, so a stale button changes
nothing (:class:`StaleAction`). Every change is on the timeline and every
announcement of a task is edited so that everyone sees who holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import texts_followups, texts_tasks
from bot.domain.errors import InvalidInput, NotAllowed, NotFound, StaleAction
from bot.domain.followups import first_name
from bot.domain.incidents import Incident, IncidentStatus
from bot.domain.membership import Member, MemberStatus, Role
from bot.domain.outgoing import Button, Outgoing, Priority
from bot.domain.tasks import (
    RETURN_INTERVIEW,
    TITLE_MAX,
    Task,
    TaskStatus,
    TaskTemplate,
    check_transition,
    is_followup,
    templates_for,
)
from bot.services import access, history, timers
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.ports_alerts import Timer
from bot.services.task_access import (
    active_incident,
    get_task,
    incident_of,
    is_recipient,
    may_manage,
    member_name,
    require_reach,
)
from bot.services.task_notices import (
    announce,
    holder_controls,
    message_kind,
    refresh_announcements,
)

OUTCOMES = (
    ("found", "Found the youth"),
    ("not_there", "Not there"),
    ("info", "Got information"),
    ("other", "Other (see notes)"),
)
OUTCOME_LABELS = dict(OUTCOMES)
NOTE_MAX = 500


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What a task action did, for the handler to render.

    ``what``: created, claimed, taken, released, completed, reassigned, cancelled,
    noted, outcome_menu, reassign_menu.
    """

    what: str
    task: Task | None = None
    holder_name: str | None = None
    count: int = 0
    choices: list[Button] = field(default_factory=list)


async def _record(
    uow: UnitOfWork,
    ctx: ServiceContext,
    action: str,
    task: Task,
    actor: Member | None,
    **details: Any,
) -> None:
    await history.record(
        uow,
        ctx,
        action=action,
        subject_type="task",
        subject_id=task.id,
        actor=actor,
        incident_id=task.incident_id,
        details={"title": task.title, **details},
    )


# Creating ------------------------------------------------------------------------------------


async def add_from_templates(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, incident_id: int
) -> TaskOutcome:
    incident = await active_incident(uow, incident_id)
    if not may_manage(actor, incident):
        raise NotAllowed("only coordinators create tasks")
    if await uow.tasks.list_for_incident(incident.id):
        raise StaleAction("tasks were already added")
    youth = await uow.youth.get(incident.youth_id) if incident.youth_id else None
    places = youth.places if youth else ()
    made = [
        await _create(uow, ctx, actor, incident, t)
        for t in templates_for(incident, places, incident.risk_level)
    ]
    return TaskOutcome("created", count=len(made))


async def create(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, incident_id: int, title: str
) -> TaskOutcome:
    incident = await active_incident(uow, incident_id)
    if not may_manage(actor, incident):
        raise NotAllowed("only coordinators create tasks")
    title = " ".join(title.split())
    if not title:
        raise InvalidInput("the task needs a title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"keep the title under {TITLE_MAX} characters")
    task = await _create(uow, ctx, actor, incident, TaskTemplate(title, "free"))
    return TaskOutcome("created", task=task, count=1)


async def _create(
    uow: UnitOfWork,
    ctx: ServiceContext,
    actor: Member,
    incident: Incident,
    t: TaskTemplate,
    *,
    due_at: datetime | None = None,
) -> Task:
    task = await uow.tasks.add(
        incident_id=incident.id,
        title=t.title,
        template=t.key,
        created_by=actor.id,
        at=ctx.clock.now(),
        latitude=t.latitude,
        longitude=t.longitude,
        location_label=t.location_label,
        due_at=due_at,
    )
    await _record(uow, ctx, "task.created", task, actor, template=t.key)
    await announce(uow, ctx, incident, task)
    if is_followup(task):
        await timers.schedule_return_interview_timers(
            uow, ctx, task_id=task.id, incident_id=incident.id, due_at=due_at or ctx.clock.now()
        )
    else:
        await timers.schedule_task_timers(uow, ctx, task_id=task.id, incident_id=incident.id)
    return task


async def create_return_interview(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, incident: Incident
) -> Task:
    """The youth is found: a return interview is due within ``return_interview_due``."""
    youth = await uow.youth.get(incident.youth_id) if incident.youth_id else None
    title = texts_followups.return_interview_title(first_name(incident, youth))
    return await _create(
        uow,
        ctx,
        actor,
        incident,
        TaskTemplate(title[:TITLE_MAX], RETURN_INTERVIEW),
        due_at=ctx.clock.now() + ctx.alerts.return_interview_due,
    )


async def reannounce(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: still open after 15 minutes, so everyone in reach hears about it again."""
    task = await uow.tasks.get(int(timer.subject_id or 0))
    if task is None or task.status is not TaskStatus.OPEN:
        return
    incident = await uow.incidents.get(task.incident_id)
    if incident is None or incident.status is not IncidentStatus.ACTIVE:
        return
    await announce(uow, ctx, incident, task)
    await _record(uow, ctx, "task.reannounced", task, None)


async def report_unclaimed(uow: UnitOfWork, ctx: ServiceContext, timer: Timer) -> None:
    """Timer: still open after 30 minutes, so the coordinators are told."""
    task = await uow.tasks.get(int(timer.subject_id or 0))
    if task is None or task.status is not TaskStatus.OPEN:
        return
    incident = await uow.incidents.get(task.incident_id)
    if incident is None or incident.status is not IncidentStatus.ACTIVE:
        return
    text = texts_tasks.unclaimed(incident, task, int(timer.payload.get("minutes", 30)))
    now = ctx.clock.now()
    for manager in await uow.members.list(
        statuses=[MemberStatus.ACTIVE], roles=[Role.COORDINATOR, Role.ADMIN]
    ):
        if not may_manage(manager, incident):
            continue
        await uow.outbox.add(
            Outgoing.text(
                manager.telegram_id,
                text,
                protect_content=True,
                priority=Priority.ALERT,
                recipient_member_id=manager.id,
                kind="task_done",
                incident_id=incident.id,
            ),
            at=now,
        )
    await _record(uow, ctx, "task.unclaimed", task, None)


TIMER_HANDLERS: dict[str, timers.Handler] = {
    timers.TASK_REANNOUNCE: reannounce,
    timers.TASK_UNCLAIMED: report_unclaimed,
}


# Claiming and holding ------------------------------------------------------------------------


async def claim(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, task_id: int
) -> TaskOutcome:
    task = await get_task(uow, task_id)
    incident = await incident_of(uow, task)
    await require_reach(uow, ctx, actor, incident, task)
    if task.holder_member_id == actor.id and task.status is TaskStatus.CLAIMED:
        return TaskOutcome("claimed", task=task, holder_name=actor.name)
    if not await uow.tasks.claim(task.id, actor.id, ctx.clock.now()):
        current = await get_task(uow, task.id)
        if current.status is TaskStatus.CLAIMED:
            name = await member_name(uow, current.holder_member_id)
            return TaskOutcome("taken", task=current, holder_name=name)
        raise StaleAction(f"task is {current.status}")
    won = await get_task(uow, task.id)
    await timers.cancel_task_timers(uow, ctx, task_id=won.id)
    await _record(uow, ctx, "task.claimed", won, actor)
    await refresh_announcements(uow, ctx, incident, won)
    await holder_controls(uow, ctx, incident, won, actor)
    return TaskOutcome("claimed", task=won, holder_name=actor.name)


def expect_holder(task: Task, payload: dict[str, Any]) -> None:
    if task.status is not TaskStatus.CLAIMED or task.holder_member_id != int(payload["holder"]):
        raise StaleAction("the task has changed hands")


async def release(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> TaskOutcome:
    task = await get_task(uow, int(payload["task"]))
    expect_holder(task, payload)
    if task.holder_member_id != actor.id:
        raise NotAllowed("only the holder can release a task")
    check_transition(task.status, TaskStatus.OPEN)
    incident = await incident_of(uow, task)
    if not await uow.tasks.release(task.id, actor.id):
        raise StaleAction("the task has changed hands")
    task = await get_task(uow, task.id)
    if not is_followup(task):  # a follow-up's own reminders keep running
        await timers.schedule_task_timers(uow, ctx, task_id=task.id, incident_id=incident.id)
    await _record(uow, ctx, "task.released", task, actor)
    await refresh_announcements(uow, ctx, incident, task)
    return TaskOutcome("released", task=task)


async def complete(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> TaskOutcome:
    task = await get_task(uow, int(payload["task"]))
    expect_holder(task, payload)
    if task.holder_member_id != actor.id:
        raise NotAllowed("only the holder can complete a task")
    outcome = str(payload["outcome"])
    if outcome not in OUTCOME_LABELS:
        raise InvalidInput("unknown outcome")
    check_transition(task.status, TaskStatus.DONE)
    incident = await incident_of(uow, task)
    if not await uow.tasks.complete(task.id, actor.id, outcome=outcome, at=ctx.clock.now()):
        raise StaleAction("the task has changed hands")
    task = await get_task(uow, task.id)
    await timers.cancel_return_interview_timers(uow, ctx, task_id=task.id)
    await _record(uow, ctx, "task.completed", task, actor, outcome=outcome)
    await refresh_announcements(uow, ctx, incident, task)
    await _tell_managers(uow, ctx, incident, task, actor)
    return TaskOutcome("completed", task=task, holder_name=actor.name)


async def _tell_managers(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, task: Task, actor: Member
) -> None:
    """The coordinator who approved the alert hears each finished task."""
    approver = await uow.members.incident_approver(incident.id)
    if approver is None or approver.id == actor.id:
        return
    await uow.outbox.add(
        Outgoing.text(
            approver.telegram_id,
            texts_tasks.completed_notice(incident, task, actor.name, _outcome_label(task)),
            protect_content=True,
            priority=Priority.NOTICE,
            recipient_member_id=approver.id,
            kind=message_kind(task, "task_done"),
            incident_id=incident.id,
        ),
        at=ctx.clock.now(),
    )


def _outcome_label(task: Task) -> str:
    return OUTCOME_LABELS.get(task.outcome or "", task.outcome or "")


async def add_note(
    ctx: ServiceContext, *, telegram_id: int, task_id: int, text: str
) -> TaskOutcome:
    text = " ".join(text.split())
    if not text:
        raise InvalidInput("write the note after the task number")
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"keep a note under {NOTE_MAX} characters")
    async with ctx.uow() as uow:
        actor = await access.require_command(uow, telegram_id=telegram_id, command="note")
        task = await get_task(uow, task_id)
        incident = await uow.incidents.get(task.incident_id)
        if incident is None:
            raise NotFound("incident")
        if task.holder_member_id != actor.id and not may_manage(actor, incident):
            raise NotAllowed("only the holder or a coordinator can add notes")
        if not task.is_live:
            raise StaleAction("the task is closed")
        note = {"by": actor.id, "at": ctx.clock.now().isoformat(), "text": text}
        if not await uow.tasks.add_note(task.id, expected_version=task.version, note=note):
            raise StaleAction("the task changed; please try again")
        await _record(uow, ctx, "task.noted", task, actor)
        await uow.commit()
    return TaskOutcome("noted", task=task)


# Managing ------------------------------------------------------------------------------------


async def _as_drawn(
    uow: UnitOfWork, actor: Member, payload: dict[str, Any], verb: str
) -> tuple[Task, Incident, TaskStatus, int | None]:
    """A coordinator's button on a task: the task must still be as the button showed it."""
    task = await get_task(uow, int(payload["task"]))
    incident = await incident_of(uow, task)
    if not may_manage(actor, incident):
        raise NotAllowed(f"only coordinators {verb} tasks")
    expected_status = TaskStatus(payload["status"])
    expected_holder = payload.get("holder")
    if task.status is not expected_status or task.holder_member_id != expected_holder:
        raise StaleAction("the task has changed")
    return task, incident, expected_status, expected_holder


async def reassign(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> TaskOutcome:
    task, incident, expected_status, expected_holder = await _as_drawn(
        uow, actor, payload, "reassign"
    )
    new = await uow.members.get(int(payload["member"]))
    if new is None or not await is_recipient(uow, ctx, new, incident, task):
        raise NotAllowed("they are not a recipient of this alert")
    check_transition(task.status, TaskStatus.CLAIMED)
    if not await uow.tasks.reassign(
        task.id,
        expected_status=expected_status,
        expected_holder=expected_holder,
        new_holder=new.id,
        at=ctx.clock.now(),
    ):
        raise StaleAction("the task has changed hands")
    task = await get_task(uow, task.id)
    await _record(uow, ctx, "task.reassigned", task, actor, to=new.id, previous=expected_holder)
    await refresh_announcements(uow, ctx, incident, task)
    await holder_controls(uow, ctx, incident, task, new)
    return TaskOutcome("reassigned", task=task, holder_name=new.name)


async def cancel(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, payload: dict[str, Any]
) -> TaskOutcome:
    task, incident, expected_status, expected_holder = await _as_drawn(
        uow, actor, payload, "cancel"
    )
    check_transition(task.status, TaskStatus.CANCELLED)
    if not await uow.tasks.cancel(
        task.id,
        expected_status=expected_status,
        expected_holder=expected_holder,
        at=ctx.clock.now(),
    ):
        raise StaleAction("the task has changed")
    task = await get_task(uow, task.id)
    await timers.cancel_task_timers(uow, ctx, task_id=task.id)
    await timers.cancel_return_interview_timers(uow, ctx, task_id=task.id)
    await _record(uow, ctx, "task.cancelled", task, actor)
    await refresh_announcements(uow, ctx, incident, task)
    return TaskOutcome("cancelled", task=task)


async def start_new(ctx: ServiceContext, *, telegram_id: int, args: list[str]) -> TaskOutcome:
    """/newtask [CODE] title: a free task on an active alert."""
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="newtask")
        mine_ = [
            i
            for i in await uow.incidents.list(statuses=[IncidentStatus.ACTIVE])
            if may_manage(member, i)
        ]
        by_code = {i.code: i for i in mine_}
        if args and args[0].upper() in by_code:
            incident, words = by_code[args[0].upper()], args[1:]
        elif len(mine_) == 1:
            incident, words = mine_[0], args
        elif not mine_:
            raise NotFound("active alert")
        else:
            raise InvalidInput("start with the alert code, e.g. /newtask HW-ABCDE Check the park")
        result = await create(
            uow, ctx, actor=member, incident_id=incident.id, title=" ".join(words)
        )
        await uow.commit()
    return result

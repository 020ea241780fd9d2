"""What happens when a drill is over, however it ended (its timer, /drill end, /found,
or a rejection at vetting): nothing of it is left running.

Its waiting timers are cancelled, its open tasks cancelled, its fictional youth
deactivated, and the coordinator who started it gets a short summary for the debrief.
The timeline keeps every event of the drill (it is append-only), each marked
``{"drill": true}``. Kept apart from :mod:`bot.services.drills` so the alert paths
that end a drill (resolution, vetting) can call it without an import cycle.
"""

from __future__ import annotations

from bot import texts_drills
from bot.domain.incidents import Incident
from bot.domain.membership import Member
from bot.domain.outgoing import Outgoing, Priority
from bot.domain.tasks import AckKind, Task, TaskStatus
from bot.services import history
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork


async def wind_down(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    *,
    actor: Member | None,
    how: str,
) -> None:
    """Clean up after a drill that has just closed. Does nothing for a real incident."""
    if not incident.is_drill:
        return
    now = ctx.clock.now()
    timers_cancelled = await uow.timers.cancel_for_incident(incident.id, kinds=None, at=now)
    tasks = await uow.tasks.list_for_incident(incident.id)
    cancelled = 0
    for task in tasks:
        if not task.is_live:
            continue
        if await uow.tasks.cancel(
            task.id,
            expected_status=task.status,
            expected_holder=task.holder_member_id,
            at=now,
        ):
            cancelled += 1
            await history.record(
                uow,
                ctx,
                action="task.cancelled",
                subject_type="task",
                subject_id=task.id,
                actor=actor,
                incident_id=incident.id,
                details={"title": task.title, "reason": "drill ended"},
            )
    youth = await uow.youth.get(incident.youth_id) if incident.youth_id else None
    removed = False
    # Only ever a drill's own fictional profile: a real child's is never touched here.
    if youth is not None and youth.is_drill and youth.active:
        await uow.youth.update(youth.id, at=now, fields={"active": False})
        removed = True
    await history.record(
        uow,
        ctx,
        action="drill.ended",
        subject_type="incident",
        subject_id=incident.id,
        actor=actor,
        incident_id=incident.id,
        details={
            "how": how,
            "timers_cancelled": timers_cancelled,
            "tasks_cancelled": cancelled,
            "youth_removed": removed,
        },
    )
    await _tell_starter(uow, ctx, incident, actor=actor, how=how, tasks=tasks)


async def _tell_starter(
    uow: UnitOfWork,
    ctx: ServiceContext,
    incident: Incident,
    *,
    actor: Member | None,
    how: str,
    tasks: list[Task],
) -> None:
    starter = await uow.members.get(incident.raised_by)
    if starter is None or not starter.is_active:
        return
    reached = {
        s.recipient_member_id
        for s in await uow.outbox.sent_for_incident(incident.id, kinds=("alert",))
        if s.recipient_member_id is not None
    }
    acks = await uow.acknowledgements.list_for_incident(incident.id)
    text = texts_drills.summary(
        incident.code,
        how,
        actor.name if actor else None,
        reached=len(reached),
        seen=sum(1 for a in acks if a.kind is AckKind.SEEN),
        can_help=sum(1 for a in acks if a.kind is AckKind.CAN_HELP),
        tasks_done=sum(1 for t in tasks if t.status is TaskStatus.DONE),
        tasks=len(tasks),
    )
    await uow.outbox.add(
        Outgoing.text(
            starter.telegram_id,
            text,
            priority=Priority.NOTICE,
            recipient_member_id=starter.id,
            kind="notice",
            incident_id=incident.id,
        ),
        at=ctx.clock.now(),
    )

"""What a task tells people: its announcement (with the Claim button) to everyone it is
offered to, the edits that keep every delivered announcement showing who holds it, and
the holder's own message with the Done and Release buttons."""

from __future__ import annotations

from bot import texts_tasks
from bot.domain.incidents import Incident
from bot.domain.membership import Member
from bot.domain.outgoing import Button, Keyboard, Outgoing, Priority
from bot.domain.tasks import Task, TaskStatus, is_followup
from bot.services import actions
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.task_access import audience, member_name


def message_kind(task: Task, kind: str) -> str:
    """Follow-up task messages are not search messages: /found must not pull them back."""
    return "followup_task" if is_followup(task) else kind


async def announce(uow: UnitOfWork, ctx: ServiceContext, incident: Incident, task: Task) -> None:
    """Offer the task to everyone it is for (again, when nobody took it)."""
    claim = await _claim_button(uow, ctx, task)
    now = ctx.clock.now()
    for member in await audience(uow, ctx, incident, task):
        await uow.outbox.add(
            Outgoing.text(
                member.telegram_id,
                texts_tasks.announcement(incident, task, None, ctx.zone),
                keyboard=((claim,),),
                protect_content=True,
                priority=Priority.NOTICE,
                recipient_member_id=member.id,
                kind=message_kind(task, "task"),
                ref=f"task:{task.id}",
                incident_id=incident.id,
            ),
            at=now,
        )


async def _claim_button(uow: UnitOfWork, ctx: ServiceContext, task: Task) -> Button:
    # One token for everyone the task is announced to; the press is re-checked.
    return await actions.button(
        uow,
        ctx,
        texts_tasks.CLAIM,
        action="task.claim",
        payload={"task": task.id},
        audience_telegram_id=None,
    )


async def refresh_announcements(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, task: Task
) -> None:
    """Edit every delivered announcement of the task to show its current state."""
    holder = await member_name(uow, task.holder_member_id) if task.holder_member_id else None
    text = texts_tasks.announcement(incident, task, holder, ctx.zone)
    keyboard: Keyboard = ()
    if task.status is TaskStatus.OPEN:
        keyboard = ((await _claim_button(uow, ctx, task),),)
    now = ctx.clock.now()
    for sent in await uow.outbox.sent_for_ref(f"task:{task.id}"):
        if sent.method != "sendMessage":
            continue
        await uow.outbox.add(
            Outgoing.edit_text(
                sent.chat_id,
                sent.message_id,
                text,
                keyboard=keyboard,
                incident_id=incident.id,
                priority=Priority.NOTICE,
            ),
            at=now,
        )


async def holder_controls(
    uow: UnitOfWork, ctx: ServiceContext, incident: Incident, task: Task, holder: Member
) -> None:
    """Tell the (new) holder the task is theirs, with Release and Done buttons."""
    await uow.outbox.add(
        Outgoing.text(
            holder.telegram_id,
            texts_tasks.yours(incident, task, ctx.zone),
            keyboard=await controls(uow, ctx, task, holder),
            protect_content=True,
            priority=Priority.NOTICE,
            recipient_member_id=holder.id,
            kind=message_kind(task, "task_holder"),
            ref=f"task_holder:{task.id}",
            incident_id=incident.id,
        ),
        at=ctx.clock.now(),
    )


async def controls(uow: UnitOfWork, ctx: ServiceContext, task: Task, holder: Member) -> Keyboard:
    payload = {"task": task.id, "holder": holder.id}
    return (
        (
            await actions.button(
                uow,
                ctx,
                texts_tasks.DONE,
                action="task.done_menu",
                payload=payload,
                audience_telegram_id=holder.telegram_id,
            ),
            await actions.button(
                uow,
                ctx,
                texts_tasks.RELEASE,
                action="task.release",
                payload=payload,
                audience_telegram_id=holder.telegram_id,
            ),
        ),
    )

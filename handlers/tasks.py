"""/tasks, /mytasks, /newtask, /note and /acks, and how task button outcomes are shown."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from bot import texts_tasks
from bot.domain.errors import DomainError
from bot.services import acknowledgements, task_views, tasks
from bot.services.acknowledgements import AckOutcome
from bot.services.context import ServiceContext
from bot.services.tasks import TaskOutcome
from handlers.replies import explain, reply

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
Body = Callable[[ServiceContext, int, list[str]], Coroutine[Any, Any, None]]


def _command(ctx: ServiceContext, body: Body) -> Callback:
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        try:
            await body(ctx, user.id, list(context.args or []))
        except DomainError as error:
            await reply(ctx, user.id, explain(error))

    return handle


async def _tasks(ctx: ServiceContext, tid: int, args: list[str]) -> None:
    if len(args) > 1:
        await reply(ctx, tid, texts_tasks.TASKS_USAGE)
        return
    found = await task_views.overview(ctx, telegram_id=tid, code=args[0] if args else None)
    if not found:
        await reply(ctx, tid, texts_tasks.NO_ALERTS)
        return
    for item in found:
        await reply(
            ctx,
            tid,
            texts_tasks.incident_tasks(item.incident, item.tasks, item.names),
            keyboard=item.keyboard,
            incident_id=item.incident.id,
        )


async def _mytasks(ctx: ServiceContext, tid: int, _args: list[str]) -> None:
    held = await task_views.mine(ctx, telegram_id=tid)
    if not held:
        await reply(ctx, tid, texts_tasks.NO_MY_TASKS)
        return
    for task, incident, keyboard in held:
        await reply(
            ctx,
            tid,
            texts_tasks.my_task(incident, task),
            keyboard=keyboard,
            incident_id=incident.id,
        )


async def _newtask(ctx: ServiceContext, tid: int, args: list[str]) -> None:
    if not args:
        await reply(ctx, tid, texts_tasks.NEWTASK_USAGE)
        return
    result = await tasks.start_new(ctx, telegram_id=tid, args=args)
    await reply(ctx, tid, texts_tasks.created(result.count))


async def _note(ctx: ServiceContext, tid: int, args: list[str]) -> None:
    if len(args) < 2 or not args[0].lstrip("#").isdigit():
        await reply(ctx, tid, texts_tasks.NOTE_USAGE)
        return
    await tasks.add_note(
        ctx, telegram_id=tid, task_id=int(args[0].lstrip("#")), text=" ".join(args[1:])
    )
    await reply(ctx, tid, texts_tasks.TOASTS["noted"])


async def _acks(ctx: ServiceContext, tid: int, args: list[str]) -> None:
    views = await acknowledgements.view(ctx, telegram_id=tid, code=args[0] if args else None)
    if not views:
        await reply(ctx, tid, texts_tasks.NO_ALERTS)
        return
    for v in views:
        await reply(
            ctx,
            tid,
            texts_tasks.acks(v.incident.code, v.seen, v.can_help, v.not_yet),
            incident_id=v.incident.id,
        )


async def render(ctx: ServiceContext, chat_id: int, outcome: TaskOutcome | AckOutcome) -> str:
    """The toast (and any follow-up message) for a task or acknowledgement button."""
    if isinstance(outcome, AckOutcome):
        return texts_tasks.ack_toast(outcome.first)
    if outcome.what == "taken":
        return texts_tasks.taken_by(outcome.holder_name)
    if outcome.what == "created":
        return texts_tasks.created(outcome.count)
    if outcome.what == "reassigned":
        return texts_tasks.reassigned(outcome.holder_name)
    if outcome.what in ("outcome_menu", "reassign_menu"):
        if not outcome.choices:
            return texts_tasks.NOBODY_TO_PICK
        question = (
            texts_tasks.PICK_OUTCOME if outcome.what == "outcome_menu" else texts_tasks.PICK_MEMBER
        )
        await reply(ctx, chat_id, question, keyboard=tuple((b,) for b in outcome.choices))
        return ""
    return texts_tasks.TOASTS.get(outcome.what, "Done.")


def build(ctx: ServiceContext) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("tasks", _command(ctx, _tasks), filters=private),
        CommandHandler("mytasks", _command(ctx, _mytasks), filters=private),
        CommandHandler("newtask", _command(ctx, _newtask), filters=private),
        CommandHandler("note", _command(ctx, _note), filters=private),
        CommandHandler("acks", _command(ctx, _acks), filters=private),
    ]

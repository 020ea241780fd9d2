"""/update and replies to the bot's alert messages: post an update to an incident."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot import texts, texts_updates
from bot.domain.errors import DomainError
from bot.services import update_forms
from bot.services.context import ServiceContext
from bot.services.updates import Posted, Refused, SightingOutcome
from handlers import forms as form_handlers
from handlers.replies import explain, reply

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def _replied_to_bot(message: Message) -> Message | None:
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or not replied.from_user.is_bot:
        return None
    return replied


async def _post_reply(ctx: ServiceContext, message: Message) -> Posted | Refused | None:
    """The update a reply carries, posted to the incident of the message it answers."""
    replied = _replied_to_bot(message)
    user = message.from_user
    if replied is None or user is None:
        return None
    location = message.location
    return await update_forms.post_reply(
        ctx,
        telegram_id=user.id,
        chat_id=message.chat_id,
        replied_message_id=replied.message_id,
        text=message.text if message.text is not None else message.caption,
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        photo_file_id=message.photo[-1].file_id if message.photo else None,
    )


def _command(ctx: ServiceContext) -> Callback:
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, message = update.effective_user, update.message
        if user is None or message is None:
            return
        try:
            posted = await _post_reply(ctx, message)
            if posted is not None:
                await reply(ctx, user.id, form_handlers.update_text(posted))
                return
            started = await update_forms.start_update(
                ctx, telegram_id=user.id, args=list(context.args or [])
            )
        except DomainError as error:
            await reply(ctx, user.id, explain(error))
            return
        if isinstance(started, Refused):
            await reply(ctx, user.id, form_handlers.update_text(started))
            return
        await form_handlers.send(ctx, user.id, started)

    return handle


def _reply(ctx: ServiceContext) -> Callback:
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, message = update.effective_user, update.message
        if user is None or message is None:
            return
        # A form in progress gets its answer first; only then is a reply an update.
        if await form_handlers.on_message(ctx, update):
            return
        try:
            posted = await _post_reply(ctx, message)
        except DomainError as error:
            await reply(ctx, user.id, explain(error))
            return
        if posted is None:  # not about an incident: an ordinary message after all
            await reply(ctx, user.id, texts.UNKNOWN_COMMAND)
            return
        await reply(ctx, user.id, form_handlers.update_text(posted))

    return handle


def toast(outcome: SightingOutcome) -> str:
    code = outcome.incident.code
    if outcome.what == "confirmed":
        return texts_updates.confirmed_toast(code, outcome.notified, outcome.newly_alerted)
    if outcome.what == "already":
        return texts_updates.already_toast(outcome.by_name)
    if outcome.what == "older":
        return texts_updates.older_toast(code)
    return texts_updates.closed_toast(code)


def build(ctx: ServiceContext) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("update", _command(ctx), filters=private),
        # Registered before the catch-all in handlers.members, which it falls back to.
        MessageHandler(private & filters.REPLY & ~filters.COMMAND, _reply(ctx)),
    ]

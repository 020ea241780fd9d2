"""The Telegram edge: parse an update, call a service, render the reply. Nothing else."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Chat, Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot import texts
from bot.services import access
from bot.services.access import Standing
from bot.services.context import ServiceContext
from handlers import (
    alerts,
    buttons,
    chats,
    drills,
    followups,
    gate,
    incidents,
    members,
    tasks,
    updates,
)
from handlers.replies import reply

ErrorCallback = Callable[[object, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


def register(application: Application[Any, Any, Any, Any, Any, Any], ctx: ServiceContext) -> None:
    """Install every handler on a freshly built application."""
    application.add_handler(TypeHandler(Update, gate.make_gate(ctx)), group=-1)
    application.add_handler(chats.build(ctx))
    application.add_handler(buttons.build(ctx))
    for handler in (
        *alerts.build(ctx),
        *tasks.build(ctx),
        *incidents.build(ctx),
        *drills.build(ctx),
        *followups.build(ctx),
        *updates.build(ctx),  # before members: its reply handler falls back to the same
        *members.build(ctx),  # last: ends with the catch-all for unknown commands
    ):
        application.add_handler(handler)
    application.add_error_handler(_error_handler(ctx))


def _error_handler(ctx: ServiceContext) -> ErrorCallback:
    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Never log the update itself: it can carry personal details.
        error = context.error
        kind = type(error).__name__ if error else "unknown"
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("handler failed on update %s: %s", update_id, kind, exc_info=error)
        if not isinstance(update, Update):
            raise ApplicationHandlerStop
        chat = update.effective_chat
        user = update.effective_user
        if chat is not None and user is not None and chat.type == Chat.PRIVATE:
            try:
                caller = await access.identify(ctx, telegram_id=user.id)
                if caller.standing in (Standing.MEMBER, Standing.REGISTERING):
                    await reply(ctx, user.id, texts.ERRORS["error"])
                else:
                    await gate.generic(ctx, update)  # outsiders only ever get the generic line
            except Exception:
                log.exception("could not tell the user about the failure")
        # Fail closed: if the gate (or anything) failed, no later handler may run.
        raise ApplicationHandlerStop

    return on_error

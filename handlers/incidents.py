"""/incidents and /incident CODE: ask the view service, say the kind line it returns.

The service queues the protected message itself (with its timeline record); this edge
only answers what is left: nothing to show, a code nobody may see, or bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from bot import texts_incidents
from bot.domain.errors import DomainError
from bot.services import incident_views
from bot.services.context import ServiceContext
from bot.services.incident_views import ViewOutcome
from handlers.replies import explain, reply

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
Body = Callable[[ServiceContext, int, list[str]], Coroutine[Any, Any, ViewOutcome | str]]


def _command(ctx: ServiceContext, body: Body) -> Callback:
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        try:
            result = await body(ctx, user.id, list(context.args or []))
        except DomainError as error:
            await reply(ctx, user.id, explain(error))
            return
        text = result if isinstance(result, str) else result.reply
        if text:
            await reply(ctx, user.id, text)

    return handle


async def _incidents(ctx: ServiceContext, tid: int, _args: list[str]) -> ViewOutcome:
    return await incident_views.list_open(ctx, telegram_id=tid)


async def _incident(ctx: ServiceContext, tid: int, args: list[str]) -> ViewOutcome | str:
    if len(args) != 1:
        return texts_incidents.USAGE
    return await incident_views.view(ctx, telegram_id=tid, code=args[0])


def build(ctx: ServiceContext) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("incidents", _command(ctx, _incidents), filters=private),
        CommandHandler("incident", _command(ctx, _incident), filters=private),
    ]

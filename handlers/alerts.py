"""/missing, /found, /edit, /youth and /addyouth: start the guided forms, show rosters."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from bot import texts
from bot.domain.errors import DomainError
from bot.domain.outgoing import Button
from bot.services import actions, alerts, profiles, resolution
from bot.services.context import ServiceContext
from handlers import forms as form_handlers
from handlers.replies import explain, reply

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
Starter = Callable[..., Coroutine[Any, Any, Any]]


def _starter(ctx: ServiceContext, start: Starter) -> Callback:
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        try:
            result = await start(ctx, telegram_id=user.id)
        except DomainError as error:
            await reply(ctx, user.id, explain(error))
            return
        await form_handlers.send(ctx, user.id, result)

    return handle


def _roster(ctx: ServiceContext) -> Callback:
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        try:
            buttons = await youth_buttons(ctx, telegram_id=user.id)
        except DomainError as error:
            await reply(ctx, user.id, explain(error))
            return
        if not buttons:
            await reply(ctx, user.id, "No youth profiles yet. Add one with /addyouth.")
            return
        await reply(
            ctx,
            user.id,
            "Youth profiles (opening one is recorded):",
            keyboard=tuple((b,) for b in buttons),
        )

    return handle


async def youth_buttons(ctx: ServiceContext, *, telegram_id: int) -> list[Button]:
    roster = await profiles.roster(ctx, telegram_id=telegram_id)
    async with ctx.uow() as uow:
        buttons = [
            await actions.button(
                uow,
                ctx,
                y.preferred_name[:40],
                action="youth.view",
                payload={"youth": y.id},
                audience_telegram_id=telegram_id,
            )
            for y in roster
        ]
        await uow.commit()
    return buttons


def build(ctx: ServiceContext) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    private = filters.ChatType.PRIVATE

    async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await form_handlers.on_cancel(update, context, ctx)

    return [
        CommandHandler("missing", _starter(ctx, alerts.start_raise), filters=private),
        CommandHandler("found", _starter(ctx, resolution.start_found), filters=private),
        CommandHandler("edit", _starter(ctx, resolution.start_edit), filters=private),
        CommandHandler("addyouth", _starter(ctx, profiles.start_add), filters=private),
        CommandHandler("moveyouth", _starter(ctx, profiles.start_move), filters=private),
        CommandHandler("youth", _roster(ctx), filters=private),
        CommandHandler("cancel", cancel, filters=private),
    ]


__all__ = ["build", "texts"]

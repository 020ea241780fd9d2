"""Every inline button press. Callback data is an opaque token; the service re-checks it."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot import texts
from bot.domain.errors import DomainError, NotAllowed, StaleAction
from bot.services import buttons
from bot.services.actions import parse_callback_data
from bot.services.context import ServiceContext
from bot.services.invites import CreatedInvite
from bot.services.members import Decision
from bot.services.registration import Prompt
from handlers.registration import send_prompt
from handlers.replies import explain, reply

log = logging.getLogger(__name__)


def invite_link(bot_username: str | None, code: str) -> str:
    if bot_username:
        return f"https://t.me/{bot_username}?start={code}"
    return f"/start {code}"


def build(ctx: ServiceContext) -> CallbackQueryHandler[ContextTypes.DEFAULT_TYPE, None]:
    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        user = update.effective_user
        if query is None or user is None:
            return
        token = parse_callback_data(query.data)
        toast: str | None = None
        if token is None:
            toast = texts.BUTTON_GONE
        else:
            try:
                outcome = await buttons.press(ctx, telegram_id=user.id, token=token)
            except NotAllowed as error:
                toast = texts.BUTTON_NOT_YOURS if "someone else" in error.detail else explain(error)
            except StaleAction:
                toast = texts.BUTTON_GONE
            except DomainError as error:
                toast = explain(error)
            else:
                toast = await _render(ctx, user.id, outcome, context.bot.username)
        try:
            await query.answer(toast[:200] if toast else None)
        except TelegramError:
            log.info("could not answer a callback query (it may be too old)")

    return CallbackQueryHandler(on_press)


async def _render(
    ctx: ServiceContext, chat_id: int, outcome: buttons.Outcome, bot_username: str | None
) -> str | None:
    if isinstance(outcome, buttons.InviteOrgChoice):
        if not outcome.choices:
            await reply(ctx, chat_id, texts.invite_no_org(outcome.role))
        else:
            await reply(
                ctx,
                chat_id,
                texts.invite_pick_org(outcome.role),
                keyboard=tuple((b,) for b in outcome.choices),
            )
        return None
    if isinstance(outcome, CreatedInvite):
        link = invite_link(bot_username, outcome.code)
        await reply(
            ctx,
            chat_id,
            texts.invite_created(
                link, outcome.invite.role, outcome.organisation, outcome.ttl_hours
            ),
        )
        return "Invite created"
    if isinstance(outcome, Decision):
        return f"Registration {outcome.decision}"
    if isinstance(outcome, Prompt):
        await send_prompt(ctx, chat_id, outcome)
        return None
    return None

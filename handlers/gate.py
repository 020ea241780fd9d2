"""The first thing every update meets: default deny.

Private chats: active members go on to the command handlers; people mid-registration
go to the registration handlers; everyone else (strangers, pending, suspended and
removed members) gets one generic answer, at most once a minute, and nothing else.
Groups: the bot leaves any group it was not registered for and never answers there
with anything but a pointer to private chat. Identity is ``effective_user.id``;
usernames are never consulted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Chat, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import texts
from bot.services import access, groups, registration
from bot.services.access import Standing
from bot.services.context import ServiceContext
from handlers import registration as registration_handlers
from handlers.replies import reply

log = logging.getLogger(__name__)


Gate = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def make_gate(ctx: ServiceContext) -> Gate:
    async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.my_chat_member is not None:
            return  # handled by the membership-of-chats handler
        chat = update.effective_chat
        user = update.effective_user
        if chat is None or user is None or user.is_bot:
            raise ApplicationHandlerStop
        if chat.type != Chat.PRIVATE:
            await _in_group(ctx, update, chat)
            raise ApplicationHandlerStop
        caller = await access.identify(ctx, telegram_id=user.id)
        if caller.standing is Standing.MEMBER:
            return
        message = update.effective_message
        if caller.standing is Standing.REGISTERING:
            if update.callback_query is not None:
                return  # registration buttons: the button handler re-checks the state
            await registration_handlers.continue_registration(ctx, update)
            raise ApplicationHandlerStop
        start_code = _start_code(message.text if message and update.message else None)
        if start_code is not None:
            await registration_handlers.begin(ctx, update, start_code)
            raise ApplicationHandlerStop
        await generic(ctx, update)
        raise ApplicationHandlerStop

    return gate


async def generic(ctx: ServiceContext, update: Update) -> None:
    """The only answer an outsider ever gets."""
    user = update.effective_user
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except Exception:  # the spinner stops by itself; nothing to leak either way
            log.debug("could not answer an outsider's callback")
    if user is None:
        return
    await access.answer_outsider(ctx, telegram_id=user.id, text=texts.GENERIC)


def _start_code(text: str | None) -> str | None:
    if not text or not text.startswith("/start"):
        return None
    parts = text.split(maxsplit=1)
    if parts[0] not in ("/start",) and not parts[0].startswith("/start@"):
        return None
    return parts[1].strip() if len(parts) == 2 else None


async def _in_group(ctx: ServiceContext, update: Update, chat: Chat) -> None:
    verdict = await groups.seen_in_group(ctx, chat_id=chat.id)
    message = update.effective_message
    if (
        verdict is groups.GroupVerdict.STAY
        and message is not None
        and message.text
        and message.text.startswith("/")
    ):
        await reply(ctx, chat.id, texts.PRIVATE_ONLY, kind="group_notice")


__all__ = ["generic", "make_gate", "registration"]

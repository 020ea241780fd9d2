"""The bot being added to (or removed from) chats."""

from __future__ import annotations

from telegram import Chat, ChatMember, Update
from telegram.ext import ChatMemberHandler, ContextTypes

from bot.services import groups
from bot.services.context import ServiceContext


def build(ctx: ServiceContext) -> ChatMemberHandler[ContextTypes.DEFAULT_TYPE, None]:
    async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        change = update.my_chat_member
        if change is None or change.chat.type == Chat.PRIVATE:
            return
        joined = change.new_chat_member.status in (
            ChatMember.MEMBER,
            ChatMember.ADMINISTRATOR,
            ChatMember.RESTRICTED,
        )
        if not joined:
            return
        await groups.bot_added(
            ctx,
            chat_id=change.chat.id,
            title=change.chat.title or "",
            by_telegram_id=change.from_user.id if change.from_user else None,
        )

    return ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)

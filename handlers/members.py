"""Commands for active members: /help, /whoami, /invite, /members, /suspend, /neworg ..."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot import texts
from bot.domain.errors import DomainError, InvalidInput
from bot.domain.membership import OrgKind
from bot.domain.outgoing import Keyboard
from bot.services import invites, members
from bot.services.context import ServiceContext
from handlers import forms as form_handlers
from handlers.replies import explain, reply

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


Reply = str | tuple[str, Keyboard]
Body = Callable[[ServiceContext, int, list[str]], Awaitable[Reply]]


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
        if isinstance(result, tuple):
            await reply(ctx, user.id, result[0], keyboard=result[1])
        else:
            await reply(ctx, user.id, result)

    return handle


async def _help(ctx: ServiceContext, tid: int, _args: list[str]) -> str:
    return texts.help_text(await members.commands(ctx, telegram_id=tid))


async def _whoami(ctx: ServiceContext, tid: int, _args: list[str]) -> str:
    member, org = await members.whoami(ctx, telegram_id=tid)
    return texts.whoami(member, org)


async def _invite(ctx: ServiceContext, tid: int, _args: list[str]) -> Reply:
    choices = await invites.role_choices(ctx, telegram_id=tid)
    return texts.INVITE_PICK_ROLE, tuple((b,) for b in choices)


async def _members(ctx: ServiceContext, tid: int, _args: list[str]) -> str:
    return texts.members_list(await members.list_members(ctx, actor_telegram_id=tid))


def _manage(command: str, what: str) -> Body:
    async def body(ctx: ServiceContext, tid: int, args: list[str]) -> str:
        if len(args) != 1 or not args[0].lstrip("#").isdigit():
            return texts.MEMBER_ID_USAGE.format(command=command)
        member = await members.manage(
            ctx, actor_telegram_id=tid, command=command, member_id=int(args[0].lstrip("#"))
        )
        return texts.member_changed(member, what)

    return body


async def _orgs(ctx: ServiceContext, tid: int, _args: list[str]) -> str:
    return texts.orgs_list(await members.list_orgs(ctx, actor_telegram_id=tid))


async def _neworg(ctx: ServiceContext, tid: int, args: list[str]) -> str:
    if len(args) < 2:
        return texts.NEWORG_USAGE
    try:
        kind = OrgKind(args[0].lower())
    except ValueError:
        return texts.NEWORG_USAGE
    rest = " ".join(args[1:])
    name, _, address = rest.partition("|")
    try:
        org = await members.create_org(
            ctx, actor_telegram_id=tid, kind=kind, name=name, address=address.strip() or None
        )
    except InvalidInput as error:
        return explain(error) + "\n\n" + texts.NEWORG_USAGE
    return texts.org_created(org)


async def _unknown(ctx: ServiceContext, tid: int, _args: list[str]) -> str:
    return texts.UNKNOWN_COMMAND


def build(ctx: ServiceContext) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    private = filters.ChatType.PRIVATE
    table: dict[str, Body] = {
        "help": _help,
        "start": _help,
        "whoami": _whoami,
        "invite": _invite,
        "members": _members,
        "suspend": _manage("suspend", "suspended"),
        "reinstate": _manage("reinstate", "active again"),
        "remove": _manage("remove", "removed"),
        "orgs": _orgs,
        "neworg": _neworg,
    }
    handlers: list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]] = [
        CommandHandler(name, _command(ctx, body), filters=private) for name, body in table.items()
    ]
    unknown = _command(ctx, _unknown)

    async def anything_else(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        is_command = bool(message and message.text and message.text.startswith("/"))
        if not is_command and await form_handlers.on_message(ctx, update):
            return
        await unknown(update, context)

    handlers.append(MessageHandler(private, anything_else))
    return handlers

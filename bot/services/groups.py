"""Groups: the bot stays only where it was registered, and never posts personal details there."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.membership import MemberStatus, Role
from bot.domain.outgoing import Outgoing
from bot.services import history
from bot.services.context import ServiceContext


class GroupVerdict(StrEnum):
    STAY = "stay"
    LEFT = "left"


async def bot_added(
    ctx: ServiceContext, *, chat_id: int, title: str, by_telegram_id: int | None
) -> GroupVerdict:
    """The bot was added to a group. An active admin adding it registers the group."""
    async with ctx.uow() as uow:
        if await uow.groups.get(chat_id) is not None:
            return GroupVerdict.STAY
        adder = await uow.members.get_by_telegram_id(by_telegram_id) if by_telegram_id else None
        now = ctx.clock.now()
        if adder and adder.status is MemberStatus.ACTIVE and adder.role is Role.ADMIN:
            await uow.groups.add(chat_id=chat_id, title=title[:128], registered_by=adder.id, at=now)
            await history.record(
                uow,
                ctx,
                action="group.registered",
                subject_type="group",
                subject_id=chat_id,
                actor=adder,
            )
            verdict = GroupVerdict.STAY
        else:
            await uow.outbox.add(Outgoing.leave_chat(chat_id), at=now)
            await history.record(
                uow,
                ctx,
                action="group.left",
                subject_type="group",
                subject_id=chat_id,
                actor_telegram_id=by_telegram_id,
                details={"reason": "not registered"},
            )
            verdict = GroupVerdict.LEFT
        await uow.commit()
    return verdict


async def seen_in_group(ctx: ServiceContext, *, chat_id: int) -> GroupVerdict:
    """Any activity in a group: leave it unless it is registered."""
    async with ctx.uow() as uow:
        if await uow.groups.get(chat_id) is not None:
            return GroupVerdict.STAY
        await uow.outbox.add(Outgoing.leave_chat(chat_id), at=ctx.clock.now())
        await history.record(
            uow,
            ctx,
            action="group.left",
            subject_type="group",
            subject_id=chat_id,
            details={"reason": "not registered"},
        )
        await uow.commit()
    return GroupVerdict.LEFT


async def register(ctx: ServiceContext, *, chat_id: int, title: str) -> None:
    """Command line: register a group ahead of adding the bot to it."""
    async with ctx.uow() as uow:
        if await uow.groups.get(chat_id) is None:
            await uow.groups.add(
                chat_id=chat_id, title=title, registered_by=None, at=ctx.clock.now()
            )
            await history.record(
                uow,
                ctx,
                action="group.registered",
                subject_type="group",
                subject_id=chat_id,
                details={"via": "command line"},
            )
            await uow.commit()

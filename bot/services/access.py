"""Who is talking to us. Identity is the numeric Telegram id, never the username."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import NotAllowed
from bot.domain.membership import Member, MemberStatus, Role, may_use
from bot.domain.outgoing import Outgoing, Priority
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork


class Standing(StrEnum):
    MEMBER = "member"  # active: may use their role's commands
    REGISTERING = "registering"  # answering registration questions
    OUTSIDER = "outsider"  # stranger, pending, suspended, removed, rejected


@dataclass(frozen=True, slots=True)
class Caller:
    telegram_id: int
    standing: Standing
    member: Member | None


async def identify(ctx: ServiceContext, *, telegram_id: int) -> Caller:
    async with ctx.uow() as uow:
        member = await uow.members.get_by_telegram_id(telegram_id)
    return caller_for(telegram_id, member)


def caller_for(telegram_id: int, member: Member | None) -> Caller:
    if member is None:
        return Caller(telegram_id, Standing.OUTSIDER, None)
    if member.status is MemberStatus.ACTIVE:
        return Caller(telegram_id, Standing.MEMBER, member)
    if member.status is MemberStatus.REGISTERING:
        return Caller(telegram_id, Standing.REGISTERING, member)
    return Caller(telegram_id, Standing.OUTSIDER, member)


async def answer_outsider(ctx: ServiceContext, *, telegram_id: int, text: str) -> bool:
    """Queue the one generic answer, at most once per person per interval (across
    instances: the database decides). Returns whether an answer was queued."""
    now = ctx.clock.now()
    interval = ctx.membership.stranger_reply_interval_seconds
    if ctx.outsiders.answered_recently(telegram_id, now, interval):
        return False  # this process answered them moments ago: skip the database
    async with ctx.uow() as uow:
        allowed = await uow.attempts.claim_reply_slot(
            telegram_id=telegram_id, now=now, interval_seconds=interval
        )
        if allowed:
            await uow.outbox.add(
                Outgoing.text(telegram_id, text, priority=Priority.REPLY, kind="generic"), at=now
            )
        await uow.commit()
    if allowed:
        ctx.outsiders.remember(telegram_id, now)
    return allowed


async def require_active(uow: UnitOfWork, *, telegram_id: int) -> Member:
    """Re-read the actor inside the transaction that acts on their behalf."""
    member = await uow.members.get_by_telegram_id(telegram_id)
    if member is None or member.status is not MemberStatus.ACTIVE:
        raise NotAllowed("not an active member")
    return member


async def require_command(uow: UnitOfWork, *, telegram_id: int, command: str) -> Member:
    member = await require_active(uow, telegram_id=telegram_id)
    if not may_use(member.role, command):
        raise NotAllowed(f"{member.role} may not use /{command}")
    return member


def require_role(member: Member, *roles: Role) -> None:
    if member.role not in roles:
        raise NotAllowed(f"{member.role} is not one of {roles}")

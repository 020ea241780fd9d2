"""Who is talking to us. Identity is the numeric Telegram id, never the username."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.errors import NotAllowed
from bot.domain.membership import Member, MemberStatus, Role, may_use
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


async def generic_reply_allowed(ctx: ServiceContext, *, telegram_id: int) -> bool:
    """At most one generic answer per person per interval, across instances."""
    async with ctx.uow() as uow:
        allowed = await uow.attempts.claim_reply_slot(
            telegram_id=telegram_id,
            now=ctx.clock.now(),
            interval_seconds=ctx.membership.stranger_reply_interval_seconds,
        )
        await uow.commit()
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

"""Membership use cases: vet registrations, suspend, reinstate, remove, look up."""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts
from bot.domain.errors import InvalidInput, NotAllowed, NotFound, StaleAction
from bot.domain.geo import validate_point
from bot.domain.membership import (
    ROLE_COMMANDS,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    Role,
    can_manage,
    can_vet_members,
    check_transition,
)
from bot.domain.outgoing import Outgoing, Priority
from bot.services import access, history, menus, outbox
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork
from bot.services.registration import clean_name


@dataclass(frozen=True, slots=True)
class Decision:
    member: Member
    decision: str  # "approved" | "rejected"
    by: Member


async def decide_registration(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, member_id: int, approve: bool
) -> Decision:
    """First vetter to act wins; everyone's card is updated to say who acted."""
    if not can_vet_members(actor.role):
        raise NotAllowed("only coordinators and admins vet members")
    member = await uow.members.get(member_id)
    if member is None:
        raise NotFound("member")
    if member.id == actor.id:
        raise NotAllowed("nobody approves themselves")
    new = MemberStatus.ACTIVE if approve else MemberStatus.REJECTED
    won = await uow.members.change_status(
        member.id,
        expected=[MemberStatus.PENDING],
        new=new,
        at=ctx.clock.now(),
        by_member_id=actor.id,
    )
    if not won:
        raise StaleAction(f"registration is already {member.status.value}")
    decision = "approved" if approve else "rejected"
    await history.record(
        uow,
        ctx,
        action=f"member.{decision}",
        subject_type="member",
        subject_id=member.id,
        actor=actor,
    )
    now = ctx.clock.now()
    decided = texts.vet_card_decided(member, decision, actor)
    await outbox.settle(uow, ctx, ref=f"reg:{member.id}", note=decided)
    if approve:
        fresh = await uow.members.get(member.id) or member
        await uow.outbox.add(
            Outgoing.text(
                member.telegram_id,
                texts.approved_welcome(fresh),
                priority=Priority.REPLY,
                recipient_member_id=member.id,
            ),
            at=now,
        )
        await menus.send(uow, ctx, fresh)
    else:
        await uow.outbox.add(
            Outgoing.text(member.telegram_id, texts.REJECTED_NOTICE, priority=Priority.REPLY),
            at=now,
        )
    return Decision(member, decision, actor)


_MANAGE: dict[str, tuple[MemberStatus, str, str]] = {
    "suspend": (MemberStatus.SUSPENDED, "member.suspended", texts.SUSPENDED_NOTICE),
    "reinstate": (MemberStatus.ACTIVE, "member.reinstated", texts.REINSTATED_NOTICE),
    "remove": (MemberStatus.REMOVED, "member.removed", texts.REMOVED_NOTICE),
}


async def manage(
    ctx: ServiceContext, *, actor_telegram_id: int, command: str, member_id: int
) -> Member:
    """``/suspend``, ``/reinstate`` or ``/remove`` a member. Takes effect on their next update."""
    if command not in _MANAGE:
        raise InvalidInput(command)
    new, action, notice = _MANAGE[command]
    async with ctx.uow() as uow:
        actor = await access.require_command(uow, telegram_id=actor_telegram_id, command=command)
        target = await uow.members.get(member_id)
        if target is None or target.status in (MemberStatus.REGISTERING, MemberStatus.PENDING):
            raise NotFound("member")
        if target.id == actor.id:
            raise NotAllowed("members cannot change their own access")
        if not can_manage(actor.role, target.role):
            raise NotAllowed("may not manage this member")
        check_transition(target.status, new)
        won = await uow.members.change_status(
            target.id,
            expected=[target.status],
            new=new,
            at=ctx.clock.now(),
            by_member_id=actor.id,
        )
        if not won:
            raise StaleAction("member changed meanwhile")
        now = ctx.clock.now()
        if new is not MemberStatus.ACTIVE:
            # Nothing queued for them goes out after this commit.
            await uow.outbox.cancel_pending(recipient_member_id=target.id)
            await uow.outbox.add(Outgoing.clear_commands(target.telegram_id), at=now)
        else:
            await menus.send(uow, ctx, target)
        await uow.outbox.add(
            Outgoing.text(target.telegram_id, notice, priority=Priority.REPLY), at=now
        )
        await history.record(
            uow, ctx, action=action, subject_type="member", subject_id=target.id, actor=actor
        )
        await uow.commit()
        updated = await uow.members.get(target.id)
    if updated is None:
        raise NotFound("member")
    return updated


async def list_members(ctx: ServiceContext, *, actor_telegram_id: int) -> list[Member]:
    async with ctx.uow() as uow:
        await access.require_command(uow, telegram_id=actor_telegram_id, command="members")
        members = await uow.members.list(
            statuses=[MemberStatus.ACTIVE, MemberStatus.SUSPENDED, MemberStatus.PENDING]
        )
    return members


async def whoami(ctx: ServiceContext, *, telegram_id: int) -> tuple[Member, Organisation | None]:
    async with ctx.uow() as uow:
        member = await access.require_active(uow, telegram_id=telegram_id)
        org = await uow.organisations.get(member.org_id) if member.org_id else None
    return member, org


async def commands(ctx: ServiceContext, *, telegram_id: int) -> list[str]:
    async with ctx.uow() as uow:
        member = await access.require_active(uow, telegram_id=telegram_id)
    return list(ROLE_COMMANDS[member.role])


# Operators (command line) and admins ------------------------------------------------------


async def add_admin(
    ctx: ServiceContext, *, telegram_id: int, name: str, org_id: int | None = None
) -> Member:
    """Bootstrap: the first admin comes from the command line, already active."""
    clean = clean_name(name)
    if clean is None:
        raise InvalidInput("name must be 2–80 characters of plain text")
    if telegram_id <= 0 or telegram_id >= 2**52:
        raise InvalidInput("a Telegram user id is a positive number")
    async with ctx.uow() as uow:
        if await uow.members.get_by_telegram_id(telegram_id) is not None:
            raise InvalidInput("that Telegram account is already registered")
        if org_id is not None and await uow.organisations.get(org_id) is None:
            raise NotFound("organisation")
        now = ctx.clock.now()
        member = await uow.members.add(
            telegram_id=telegram_id,
            name=clean,
            role=Role.ADMIN,
            org_id=org_id,
            status=MemberStatus.ACTIVE,
            registration_step=None,
            created_at=now,
        )
        await menus.send(uow, ctx, member)
        await history.record(
            uow,
            ctx,
            action="member.admin_added",
            subject_type="member",
            subject_id=member.id,
            details={"via": "command line"},
        )
        await uow.commit()
    return member


async def create_org(
    ctx: ServiceContext,
    *,
    actor_telegram_id: int | None,
    kind: OrgKind,
    name: str,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Organisation:
    clean = " ".join(name.split())
    if not 2 <= len(clean) <= 100:
        raise InvalidInput("organisation name must be 2–100 characters")
    if (latitude is None) != (longitude is None):
        raise InvalidInput("give both latitude and longitude, or neither")
    if latitude is not None and longitude is not None:
        validate_point(latitude, longitude)
    if address is not None:
        address = " ".join(address.split())[:200] or None
    async with ctx.uow() as uow:
        actor = None
        if actor_telegram_id is not None:
            actor = await access.require_command(
                uow, telegram_id=actor_telegram_id, command="neworg"
            )
        if await uow.organisations.get_by_name(clean) is not None:
            raise InvalidInput("an organisation with that name already exists")
        org = await uow.organisations.add(
            kind=kind,
            name=clean,
            created_at=ctx.clock.now(),
            address=address,
            latitude=latitude,
            longitude=longitude,
        )
        await history.record(
            uow,
            ctx,
            action="org.created",
            subject_type="organisation",
            subject_id=org.id,
            actor=actor,
            details={"kind": kind.value},
        )
        await uow.commit()
    return org


async def list_orgs(ctx: ServiceContext, *, actor_telegram_id: int) -> list[Organisation]:
    async with ctx.uow() as uow:
        await access.require_command(uow, telegram_id=actor_telegram_id, command="orgs")
        return await uow.organisations.list()

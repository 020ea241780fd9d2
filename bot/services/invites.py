"""Invites: single-use, expiring, high-entropy codes. Only a hash of each code is stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot import texts
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.membership import Invite, Member, Organisation, Role, can_invite, role_fits_org
from bot.domain.outgoing import Button
from bot.services import access, actions, history
from bot.services.context import ServiceContext
from bot.services.ports import UnitOfWork

CODE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def looks_like_code(code: str) -> bool:
    return 16 <= len(code) <= 64 and set(code) <= CODE_ALPHABET


@dataclass(frozen=True, slots=True)
class CreatedInvite:
    code: str
    invite: Invite
    organisation: Organisation
    ttl_hours: float


async def role_choices(ctx: ServiceContext, *, telegram_id: int) -> list[Button]:
    """Step 1 of /invite in chat: the roles this member may invite, as buttons."""
    async with ctx.uow() as uow:
        actor = await access.require_command(uow, telegram_id=telegram_id, command="invite")
        choices = [
            await actions.button(
                uow,
                ctx,
                texts.role_name(role).capitalize(),
                action="invite.role",
                payload={"role": role.value},
                audience_telegram_id=telegram_id,
            )
            for role in Role
            if can_invite(actor.role, role)
        ]
        await uow.commit()
    return choices


async def org_choices(
    uow: UnitOfWork, ctx: ServiceContext, *, actor: Member, role: Role
) -> list[Button]:
    if not can_invite(actor.role, role):
        raise NotAllowed("may not invite this role")
    orgs = [o for o in await uow.organisations.list() if role_fits_org(role, o.kind)]
    return [
        await actions.button(
            uow,
            ctx,
            o.name[:40],
            action="invite.org",
            payload={"role": role.value, "org_id": o.id},
            audience_telegram_id=actor.telegram_id,
        )
        for o in orgs
    ]


async def create(
    ctx: ServiceContext, *, actor_telegram_id: int | None, role: Role, org_id: int
) -> CreatedInvite:
    """Create an invite. ``actor_telegram_id=None`` means the command line (an operator)."""
    async with ctx.uow() as uow:
        created = await create_in(
            uow, ctx, actor_telegram_id=actor_telegram_id, role=role, org_id=org_id
        )
        await uow.commit()
    return created


async def create_in(
    uow: UnitOfWork,
    ctx: ServiceContext,
    *,
    actor_telegram_id: int | None,
    role: Role,
    org_id: int,
) -> CreatedInvite:
    actor: Member | None = None
    if actor_telegram_id is not None:
        actor = await access.require_command(uow, telegram_id=actor_telegram_id, command="invite")
        if not can_invite(actor.role, role):
            raise NotAllowed("may not invite this role")
    org = await uow.organisations.get(org_id)
    if org is None:
        raise NotFound("organisation")
    if not role_fits_org(role, org.kind):
        raise InvalidInput(f"a {role.value} cannot belong to a {org.kind.value}")
    now = ctx.clock.now()
    code = ctx.ids.token(ctx.membership.invite_code_bytes)
    invite = await uow.invites.add(
        code_hash=hash_code(code),
        role=role,
        org_id=org.id,
        created_by=actor.id if actor else None,
        created_at=now,
        expires_at=now + ctx.membership.invite_ttl,
    )
    await history.record(
        uow,
        ctx,
        action="invite.created",
        subject_type="invite",
        subject_id=invite.id,
        actor=actor,
        details={"role": role.value, "org_id": org.id},
    )
    return CreatedInvite(
        code=code,
        invite=invite,
        organisation=org,
        ttl_hours=ctx.membership.invite_ttl.total_seconds() / 3600,
    )

"""Seeding a world without the chat flows: members who are already vetted and sealed
youth profiles kept by a residence's staff.

The sandbox uses these to start with a realistic (fictional) cast; they apply the same
rules as the chat flows (a role fits its organisation, a valid service area, staff keep
their own residence's profiles) and each writes its timeline event, marked as seeded.
"""

from __future__ import annotations

from typing import Any

from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.geo import validate_point, validate_radius_km
from bot.domain.incidents import Youth
from bot.domain.membership import (
    Member,
    MemberStatus,
    Role,
    ServiceArea,
    role_fits_org,
)
from bot.services import history, menus
from bot.services.context import ServiceContext
from bot.services.profiles import KEEPERS
from bot.services.registration import clean_name


async def add_member(
    ctx: ServiceContext,
    *,
    telegram_id: int,
    name: str,
    role: Role,
    org_id: int,
    area: ServiceArea | None,
    via: str,
) -> Member:
    """An active member of ``org_id`` with ``area``, as if invited and approved."""
    clean = clean_name(name)
    if clean is None:
        raise InvalidInput("name must be 2–80 characters of plain text")
    if area is not None:
        if area.latitude is None or area.longitude is None or area.radius_km is None:
            raise InvalidInput("a seeded service area is a point and a radius")
        validate_point(area.latitude, area.longitude)
        validate_radius_km(area.radius_km, maximum=ctx.membership.max_radius_km)
    async with ctx.uow() as uow:
        if await uow.members.get_by_telegram_id(telegram_id) is not None:
            raise InvalidInput("that Telegram account is already registered")
        org = await uow.organisations.get(org_id)
        if org is None:
            raise NotFound("organisation")
        if not role_fits_org(role, org.kind):
            raise InvalidInput(f"a {role.value} cannot belong to a {org.kind.value}")
        now = ctx.clock.now()
        member = await uow.members.add(
            telegram_id=telegram_id,
            name=clean,
            role=role,
            org_id=org.id,
            status=MemberStatus.ACTIVE,
            registration_step=None,
            created_at=now,
        )
        if area is not None:
            await uow.members.update_registration(member.id, step=None, area=area)
            member = await uow.members.get(member.id) or member
        await menus.send(uow, ctx, member)
        await history.record(
            uow,
            ctx,
            action="member.seeded",
            subject_type="member",
            subject_id=member.id,
            details={"via": via, "role": role.value, "org_id": org.id},
        )
        await uow.commit()
    return member


async def add_youth(
    ctx: ServiceContext, *, keeper_telegram_id: int, fields: dict[str, Any], via: str
) -> Youth:
    """A sealed profile at the keeper's residence (the keeper is residence staff)."""
    async with ctx.uow() as uow:
        keeper = await uow.members.get_by_telegram_id(keeper_telegram_id)
        if keeper is None or not keeper.is_active:
            raise NotFound("member")
        if keeper.role not in KEEPERS or keeper.org_id is None:
            raise NotAllowed("only residence staff keep profiles")
        if keeper.role is not Role.RESIDENCE_STAFF:
            raise NotAllowed("a seeded profile is kept by its residence's staff")
        youth = await uow.youth.add(
            residence_org_id=keeper.org_id,
            created_by=keeper.id,
            at=ctx.clock.now(),
            fields=fields,
        )
        await history.record(
            uow,
            ctx,
            action="youth.created",
            subject_type="youth",
            subject_id=youth.id,
            actor=keeper,
            details={"residence_org_id": keeper.org_id, "via": via},
        )
        await uow.commit()
    return youth

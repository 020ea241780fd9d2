"""Registration after opening an invite link: name, organisation, service area, then vetting.

The state lives in the member row (``registration_step``), so a restart mid-way
loses nothing. Every answer is validated; a bad one re-asks the same step.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from bot import texts
from bot.domain.errors import InviteRefused, LockedOut, NotAllowed, NotFound
from bot.domain.geo import validate_point
from bot.domain.membership import (
    VETTING_ROLES,
    Member,
    MemberStatus,
    Organisation,
    RegistrationStep,
    ServiceArea,
)
from bot.domain.outgoing import Button, Keyboard, Outgoing, Priority
from bot.services import actions, history, invites
from bot.services.context import NamedArea, ServiceContext
from bot.services.ports import ActionRecord, UnitOfWork

INVITE_FAILURE = "invite"
LOCKOUT = "invite_lockout"


class PromptKind(StrEnum):
    ASK_NAME = "ask_name"
    NAME_INVALID = "name_invalid"
    CONFIRM_ORG = "confirm_org"
    CONFIRM_ORG_AGAIN = "confirm_org_again"
    ASK_AREA = "ask_area"
    AREA_INVALID = "area_invalid"
    ASK_RADIUS = "ask_radius"
    RADIUS_INVALID = "radius_invalid"
    DONE = "done"
    CANCELLED = "cancelled"
    WRONG_ORG = "wrong_org"
    ALREADY_MEMBER = "already_member"


@dataclass(frozen=True, slots=True)
class Prompt:
    kind: PromptKind
    member: Member | None = None
    org: Organisation | None = None
    keyboard: Keyboard = ()
    ask_location: bool = False


async def start(ctx: ServiceContext, *, telegram_id: int, code: str) -> Prompt:
    """``/start <code>``: check the invite and begin (or resume) registration."""
    async with ctx.uow() as uow:
        now = ctx.clock.now()
        since = now - ctx.membership.lockout_window
        failures = await uow.attempts.count_failures(
            telegram_id=telegram_id, kind=INVITE_FAILURE, since=since
        )
        locked = await uow.attempts.count_failures(
            telegram_id=telegram_id, kind=LOCKOUT, since=since
        )
        if locked or failures >= ctx.membership.lockout_failures:
            raise LockedOut("too many failed invite attempts")
        existing = await uow.members.get_by_telegram_id(telegram_id)
        if existing is not None:
            if existing.status is MemberStatus.ACTIVE:
                return Prompt(PromptKind.ALREADY_MEMBER, existing)
            if existing.status is MemberStatus.REGISTERING:
                prompt = await _prompt_for_step(uow, ctx, existing)
                await uow.commit()
                return prompt
            if existing.status in (MemberStatus.PENDING, MemberStatus.SUSPENDED):
                raise NotAllowed("pending or suspended members cannot re-register")
        invite = None
        if invites.looks_like_code(code):
            invite = await uow.invites.consume(
                code_hash=invites.hash_code(code), telegram_id=telegram_id, now=now
            )
        if invite is None:
            await uow.attempts.record_failure(telegram_id=telegram_id, kind=INVITE_FAILURE, at=now)
            if failures + 1 >= ctx.membership.lockout_failures:
                # The lockout runs a full window from the failure that triggered it.
                await uow.attempts.record_failure(telegram_id=telegram_id, kind=LOCKOUT, at=now)
            await history.record(
                uow,
                ctx,
                action="invite.refused",
                subject_type="telegram_user",
                subject_id=telegram_id,
                actor_telegram_id=telegram_id,
            )
            await uow.commit()
            raise InviteRefused()
        if existing is not None:  # removed or rejected earlier, invited again
            await uow.members.restart_registration(
                existing.id, role=invite.role, org_id=invite.org_id, invite_id=invite.id, at=now
            )
            member = await uow.members.get(existing.id)
        else:
            member = await uow.members.add(
                telegram_id=telegram_id,
                name="",
                role=invite.role,
                org_id=invite.org_id,
                status=MemberStatus.REGISTERING,
                registration_step=RegistrationStep.NAME,
                created_at=now,
                invite_id=invite.id,
            )
        if member is None:
            raise NotFound("member")
        await history.record(
            uow,
            ctx,
            action="member.registration_started",
            subject_type="member",
            subject_id=member.id,
            actor_telegram_id=telegram_id,
            details={"invite_id": invite.id, "role": invite.role.value},
        )
        org = await uow.organisations.get(invite.org_id)
        await uow.commit()
    return Prompt(PromptKind.ASK_NAME, member, org)


async def answer_text(ctx: ServiceContext, *, telegram_id: int, text: str) -> Prompt:
    async with ctx.uow() as uow:
        member = await _registering(uow, telegram_id)
        step = member.registration_step
        if step is RegistrationStep.NAME:
            name = clean_name(text)
            if name is None:
                return Prompt(PromptKind.NAME_INVALID, member)
            await uow.members.update_registration(member.id, step=RegistrationStep.ORG, name=name)
            member = await _reload(uow, member.id)
            prompt = await _prompt_for_step(uow, ctx, member)
        elif step is RegistrationStep.ORG:
            prompt = await _prompt_for_step(uow, ctx, member, again=True)
        elif step is RegistrationStep.AREA:
            area = ctx.membership.named_area(text)
            if area is None:
                prompt = await _prompt_for_step(uow, ctx, member, again=True)
            else:
                prompt = await _finish(uow, ctx, member, _named(area))
        elif step is RegistrationStep.RADIUS:
            radius = parse_radius(text, ctx.membership.max_radius_km)
            if radius is None:
                prompt = await _prompt_for_step(uow, ctx, member, again=True)
            else:
                prompt = await _finish(uow, ctx, member, _with_radius(member.area, radius))
        else:
            prompt = await _prompt_for_step(uow, ctx, member)
        await uow.commit()
    return prompt


async def answer_location(
    ctx: ServiceContext, *, telegram_id: int, latitude: float, longitude: float
) -> Prompt:
    async with ctx.uow() as uow:
        member = await _registering(uow, telegram_id)
        if member.registration_step is not RegistrationStep.AREA:
            prompt = await _prompt_for_step(uow, ctx, member, again=True)
        else:
            validate_point(latitude, longitude)
            await uow.members.update_registration(
                member.id,
                step=RegistrationStep.RADIUS,
                area=ServiceArea(latitude=latitude, longitude=longitude),
            )
            prompt = await _prompt_for_step(uow, ctx, await _reload(uow, member.id))
        await uow.commit()
    return prompt


async def cancel(ctx: ServiceContext, *, telegram_id: int) -> Prompt:
    async with ctx.uow() as uow:
        member = await _registering(uow, telegram_id)
        await _cancel(uow, ctx, member)
        await uow.commit()
    return Prompt(PromptKind.CANCELLED, member)


async def press(
    uow: UnitOfWork, ctx: ServiceContext, *, telegram_id: int, record: ActionRecord
) -> Prompt:
    """A registration button (org confirmation, named area, radius)."""
    member = await _registering(uow, telegram_id)
    step = member.registration_step
    if record.action == "reg.org" and step is RegistrationStep.ORG:
        if not record.payload.get("yes"):
            await _cancel(uow, ctx, member)
            return Prompt(PromptKind.WRONG_ORG, member)
        await uow.members.update_registration(member.id, step=RegistrationStep.AREA)
        return await _prompt_for_step(uow, ctx, await _reload(uow, member.id))
    if record.action == "reg.area" and step is RegistrationStep.AREA:
        area = ctx.membership.named_area(str(record.payload.get("name", "")))
        if area is not None:
            return await _finish(uow, ctx, member, _named(area))
    if record.action == "reg.radius" and step is RegistrationStep.RADIUS:
        radius = parse_radius(str(record.payload.get("km")), ctx.membership.max_radius_km)
        if radius is not None:
            return await _finish(uow, ctx, member, _with_radius(member.area, radius))
    return await _prompt_for_step(uow, ctx, member, again=True)


# Parsing ----------------------------------------------------------------------------------


def clean_name(text: str) -> str | None:
    name = " ".join(text.split())
    if not 2 <= len(name) <= 80 or name.startswith("/"):
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in name):
        return None
    if not any(c.isalpha() for c in name):
        return None
    return name


def parse_radius(text: str, maximum: float) -> float | None:
    cleaned = text.strip().lower().removesuffix("km").strip().replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if not math.isfinite(value) or not 1 <= value <= maximum:
        return None
    return value


# Internals --------------------------------------------------------------------------------


async def _registering(uow: UnitOfWork, telegram_id: int) -> Member:
    member = await uow.members.get_by_telegram_id(telegram_id)
    if member is None or member.status is not MemberStatus.REGISTERING:
        raise NotAllowed("not registering")
    return member


async def _reload(uow: UnitOfWork, member_id: int) -> Member:
    member = await uow.members.get(member_id)
    if member is None:
        raise NotFound("member")
    return member


def _named(area: NamedArea) -> ServiceArea:
    # A named area is a configured circle; copying it makes reach one geometric query.
    return ServiceArea(
        latitude=area.latitude,
        longitude=area.longitude,
        radius_km=area.radius_km,
        names=(area.name,),
    )


def _with_radius(area: ServiceArea, radius: float) -> ServiceArea:
    return ServiceArea(latitude=area.latitude, longitude=area.longitude, radius_km=radius)


async def _prompt_for_step(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, *, again: bool = False
) -> Prompt:
    org = await uow.organisations.get(member.org_id) if member.org_id else None
    step = member.registration_step
    tid = member.telegram_id
    if step is RegistrationStep.NAME:
        return Prompt(PromptKind.NAME_INVALID if again else PromptKind.ASK_NAME, member, org)
    if step is RegistrationStep.ORG:
        row = (
            await actions.button(
                uow, ctx, "Yes", action="reg.org", payload={"yes": True}, audience_telegram_id=tid
            ),
            await actions.button(
                uow,
                ctx,
                "No, that's wrong",
                action="reg.org",
                payload={"yes": False},
                audience_telegram_id=tid,
            ),
        )
        kind = PromptKind.CONFIRM_ORG_AGAIN if again else PromptKind.CONFIRM_ORG
        return Prompt(kind, member, org, (row,))
    if step is RegistrationStep.AREA:
        rows: list[tuple[Button, ...]] = [
            (
                await actions.button(
                    uow,
                    ctx,
                    area.name[:40],
                    action="reg.area",
                    payload={"name": area.name},
                    audience_telegram_id=tid,
                ),
            )
            for area in ctx.membership.named_areas
        ]
        kind = PromptKind.AREA_INVALID if again else PromptKind.ASK_AREA
        return Prompt(kind, member, org, tuple(rows), ask_location=True)
    if step is RegistrationStep.RADIUS:
        radius_row = tuple(
            [
                await actions.button(
                    uow,
                    ctx,
                    f"{km:g} km",
                    action="reg.radius",
                    payload={"km": km},
                    audience_telegram_id=tid,
                )
                for km in ctx.membership.radius_choices_km
            ]
        )
        kind = PromptKind.RADIUS_INVALID if again else PromptKind.ASK_RADIUS
        return Prompt(kind, member, org, (radius_row,))
    return Prompt(PromptKind.DONE, member, org)


async def _cancel(uow: UnitOfWork, ctx: ServiceContext, member: Member) -> None:
    await uow.members.change_status(
        member.id,
        expected=[MemberStatus.REGISTERING],
        new=MemberStatus.REMOVED,
        at=ctx.clock.now(),
        by_member_id=member.id,
    )
    await history.record(
        uow,
        ctx,
        action="member.registration_cancelled",
        subject_type="member",
        subject_id=member.id,
        actor=member,
    )


async def _finish(
    uow: UnitOfWork, ctx: ServiceContext, member: Member, area: ServiceArea
) -> Prompt:
    await uow.members.update_registration(member.id, step=RegistrationStep.DONE, area=area)
    moved = await uow.members.change_status(
        member.id,
        expected=[MemberStatus.REGISTERING],
        new=MemberStatus.PENDING,
        at=ctx.clock.now(),
        by_member_id=member.id,
    )
    if not moved:
        raise NotAllowed("registration already finished")
    member = await _reload(uow, member.id)
    org = await uow.organisations.get(member.org_id) if member.org_id else None
    inviter = await uow.members.inviter_of(member.id)
    await history.record(
        uow,
        ctx,
        action="member.registered",
        subject_type="member",
        subject_id=member.id,
        actor=member,
    )
    card = texts.vet_card(member, org, inviter)
    for vetter in await uow.members.list(statuses=[MemberStatus.ACTIVE], roles=list(VETTING_ROLES)):
        if vetter.id == member.id:
            continue
        row = (
            await actions.button(
                uow,
                ctx,
                "Approve",
                action="member.approve",
                payload={"member_id": member.id},
                audience_telegram_id=vetter.telegram_id,
            ),
            await actions.button(
                uow,
                ctx,
                "Reject",
                action="member.reject",
                payload={"member_id": member.id},
                audience_telegram_id=vetter.telegram_id,
            ),
        )
        await uow.outbox.add(
            Outgoing.text(
                vetter.telegram_id,
                card,
                keyboard=(row,),
                priority=Priority.NOTICE,
                recipient_member_id=vetter.id,
                kind="vet_card",
                ref=f"reg:{member.id}",
            ),
            at=ctx.clock.now(),
        )
    return Prompt(PromptKind.DONE, member, org)

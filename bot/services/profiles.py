"""Sealed youth profiles: kept by the residence, opened only by those who need them.

Only staff of the youth's residence, coordinators and administrators can see a
profile; every view is recorded in the timeline. A profile moves with the youth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.forms import FormSpec, Parsed, Step, StepKind
from bot.domain.incidents import Place, Youth
from bot.domain.membership import Member, OrgKind, Role
from bot.services import access, history
from bot.services.context import ServiceContext
from bot.services.forms import FormBehaviour
from bot.services.ports import UnitOfWork

KEEPERS = (Role.RESIDENCE_STAFF, Role.COORDINATOR, Role.ADMIN)


def may_view(member: Member, youth: Youth) -> bool:
    if member.role in (Role.COORDINATOR, Role.ADMIN):
        return True
    return member.role is Role.RESIDENCE_STAFF and member.org_id == youth.residence_org_id


async def roster_for(uow: UnitOfWork, member: Member) -> list[Youth]:
    if member.role in (Role.COORDINATOR, Role.ADMIN):
        return await uow.youth.list_all()
    if member.role is Role.RESIDENCE_STAFF and member.org_id is not None:
        return await uow.youth.list_for_residence(member.org_id)
    return []


async def roster(ctx: ServiceContext, *, telegram_id: int) -> list[Youth]:
    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="youth")
        return await roster_for(uow, member)


@dataclass(frozen=True, slots=True)
class ProfileView:
    youth: Youth
    residence_name: str


async def view(
    ctx: ServiceContext, *, telegram_id: int, youth_id: int, purpose: str = "profile review"
) -> ProfileView:
    """Open a sealed profile. Recorded: who, when, which child, why."""
    async with ctx.uow() as uow:
        member = await access.require_active(uow, telegram_id=telegram_id)
        youth = await uow.youth.get(youth_id)
        if youth is None or not youth.active:
            raise NotFound("youth")
        if not may_view(member, youth):
            await history.record(
                uow,
                ctx,
                action="youth.view_denied",
                subject_type="youth",
                subject_id=youth_id,
                actor=member,
            )
            await uow.commit()
            raise NotAllowed("not this residence's youth")
        org = await uow.organisations.get(youth.residence_org_id)
        await history.record(
            uow,
            ctx,
            action="youth.viewed",
            subject_type="youth",
            subject_id=youth.id,
            actor=member,
            details={"fields": "profile", "purpose": purpose, "role": member.role.value},
        )
        await uow.commit()
    return ProfileView(youth, org.name if org else "")


# Forms ------------------------------------------------------------------------------------


def _places_done(data: Mapping[str, Any]) -> bool:
    return data.get("place_1") is None


YOUTH_STEPS = (
    Step("residence", StepKind.CHOICE, skip_if=lambda d: d.get("residence") is not None),
    Step("legal_name", StepKind.TEXT, max_len=120),
    Step("preferred_name", StepKind.TEXT, max_len=80),
    Step("pronouns", StepKind.TEXT, optional=True, max_len=40),
    Step("date_of_birth", StepKind.DATE, optional=True),
    Step("photo", StepKind.PHOTO, optional=True),
    Step("description", StepKind.TEXT, optional=True, max_len=500),
    Step("languages", StepKind.TEXT, optional=True, max_len=120),
    Step("indigenous_community", StepKind.TEXT, optional=True, max_len=120),
    Step(
        "service_preference",
        StepKind.TEXT,
        optional=True,
        max_len=200,
        skip_if=lambda d: not d.get("indigenous_community"),
    ),
    Step("medical_needs", StepKind.TEXT, optional=True, max_len=500),
    Step("place_1", StepKind.LOCATION, optional=True),
    Step("place_1_name", StepKind.TEXT, max_len=80, skip_if=_places_done),
    Step("place_2", StepKind.LOCATION, optional=True, skip_if=_places_done),
    Step("place_2_name", StepKind.TEXT, max_len=80, skip_if=lambda d: d.get("place_2") is None),
    Step("associates", StepKind.LIST, optional=True),
    Step("risk_notes", StepKind.TEXT, optional=True, max_len=1000),
    Step("review", StepKind.CHOICE, choices=(("save", "Save profile"),)),
)


class AddYouth(FormBehaviour):
    kind = "youth.add"
    spec = FormSpec(kind, YOUTH_STEPS)

    async def choices(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        data: dict[str, Any],
    ) -> list[tuple[str, str]]:
        if step.key == "residence":
            orgs = [o for o in await uow.organisations.list() if o.kind is OrgKind.RESIDENCE]
            return [(str(o.id), o.name) for o in orgs]
        return list(step.choices)

    async def complete(
        self, uow: UnitOfWork, ctx: ServiceContext, member: Member, data: dict[str, Any]
    ) -> Youth:
        if member.role not in KEEPERS:
            raise NotAllowed("only residence staff and coordinators keep profiles")
        residence = int(data["residence"])
        if member.role is Role.RESIDENCE_STAFF and residence != member.org_id:
            raise NotAllowed("staff keep their own residence's profiles")
        places = [
            Place(str(data[f"{p}_name"]), float(data[p]["latitude"]), float(data[p]["longitude"]))
            for p in ("place_1", "place_2")
            if data.get(p) and data.get(f"{p}_name")
        ]
        fields: dict[str, Any] = {
            "legal_name": data["legal_name"],
            "preferred_name": data["preferred_name"],
            "pronouns": data.get("pronouns"),
            "date_of_birth": data.get("date_of_birth"),
            "photo_file_id": data.get("photo"),
            "description": data.get("description"),
            "languages": data.get("languages"),
            "indigenous_community": data.get("indigenous_community"),
            "service_preference": data.get("service_preference"),
            "medical_needs": data.get("medical_needs"),
            "places": places,
            "associates": data.get("associates") or [],
            "risk_notes": data.get("risk_notes"),
        }
        youth = await uow.youth.add(
            residence_org_id=residence, created_by=member.id, at=ctx.clock.now(), fields=fields
        )
        await history.record(
            uow,
            ctx,
            action="youth.created",
            subject_type="youth",
            subject_id=youth.id,
            actor=member,
            details={"residence_org_id": residence},
        )
        return youth

    async def resolve_shortcut(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        value: str,
        data: dict[str, Any],
    ) -> Parsed:
        return Parsed.bad("location_expected")


async def start_add(ctx: ServiceContext, *, telegram_id: int) -> Any:
    from bot.services import forms

    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="addyouth")
        data: dict[str, Any] = {}
        if member.role is Role.RESIDENCE_STAFF:
            if member.org_id is None:
                raise InvalidInput("you are not attached to a residence")
            data["residence"] = str(member.org_id)
        reply = await forms.begin(uow, ctx, member=member, kind=AddYouth.kind, data=data)
        await uow.commit()
    return reply


class MoveYouth(FormBehaviour):
    """A profile moves with the youth to another residence (coordinators and admins)."""

    kind = "youth.move"
    spec = FormSpec(
        kind,
        (
            Step("youth", StepKind.CHOICE),
            Step("residence", StepKind.CHOICE),
        ),
    )

    async def choices(
        self,
        uow: UnitOfWork,
        ctx: ServiceContext,
        member: Member,
        step: Step,
        data: dict[str, Any],
    ) -> list[tuple[str, str]]:
        if step.key == "youth":
            return [(str(y.id), y.preferred_name) for y in await roster_for(uow, member)]
        youth = await uow.youth.get(int(data["youth"]))
        return [
            (str(o.id), o.name)
            for o in await uow.organisations.list()
            if o.kind is OrgKind.RESIDENCE and (youth is None or o.id != youth.residence_org_id)
        ]

    async def complete(
        self, uow: UnitOfWork, ctx: ServiceContext, member: Member, data: dict[str, Any]
    ) -> Youth:
        if member.role not in (Role.COORDINATOR, Role.ADMIN):
            raise NotAllowed("only coordinators move profiles")
        youth = await uow.youth.get(int(data["youth"]))
        org = await uow.organisations.get(int(data["residence"]))
        if youth is None or org is None or org.kind is not OrgKind.RESIDENCE:
            raise NotFound("youth or residence")
        await uow.youth.update(youth.id, at=ctx.clock.now(), fields={"residence_org_id": org.id})
        await history.record(
            uow,
            ctx,
            action="youth.moved",
            subject_type="youth",
            subject_id=youth.id,
            actor=member,
            details={"from": youth.residence_org_id, "to": org.id},
        )
        moved = await uow.youth.get(youth.id)
        if moved is None:
            raise NotFound("youth")
        return moved


async def start_move(ctx: ServiceContext, *, telegram_id: int) -> Any:
    from bot.services import forms

    async with ctx.uow() as uow:
        member = await access.require_command(uow, telegram_id=telegram_id, command="moveyouth")
        reply = await forms.begin(uow, ctx, member=member, kind=MoveYouth.kind)
        await uow.commit()
    return reply


def form_behaviours() -> list[FormBehaviour]:
    return [AddYouth(), MoveYouth()]
